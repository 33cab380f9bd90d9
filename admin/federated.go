package admin

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// federatedIdentityRep is Keycloak's FederatedIdentityRepresentation.
type federatedIdentityRep struct {
	IdentityProvider string `json:"identityProvider"`
	UserID           string `json:"userId"`
	UserName         string `json:"userName"`
}

// listFederatedIdentities is GET /users/{id}/federated-identity.
func (a *API) listFederatedIdentities(w http.ResponseWriter, r *http.Request) {
	rl, u, ok := a.targetUser(w, r, viewUsers)
	if !ok {
		return
	}
	links, err := a.svc.FederatedIdentities(r.Context(), rl.Name, u.ID)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := []federatedIdentityRep{}
	for _, l := range links {
		out = append(out, federatedIdentityRep(l))
	}
	writeJSON(w, http.StatusOK, out)
}

// addFederatedIdentity is POST /users/{id}/federated-identity/{alias}: the
// explicit mapping through which tokens of that identity provider (sub =
// userId) speak for the user.
func (a *API) addFederatedIdentity(w http.ResponseWriter, r *http.Request) {
	rl, u, ok := a.targetUser(w, r, manageUsers)
	if !ok {
		return
	}
	var rep federatedIdentityRep
	if err := decode(r, &rep); err != nil {
		a.writeError(w, r, err)
		return
	}
	alias := mux.Vars(r)["alias"]
	if rep.IdentityProvider != "" && rep.IdentityProvider != alias {
		a.writeError(w, r, badRequest("identityProvider must match the URL"))
		return
	}
	rep.IdentityProvider = alias
	err := a.svc.LinkFederatedIdentity(r.Context(), rl.Name, u.ID, store.FederatedIdentity(rep))
	var ce *store.ConflictError
	switch {
	case errors.Is(err, realms.ErrAlreadyLinked):
		err = conflict("User is already linked with provider")
	case errors.As(err, &ce):
		err = conflict("The identity provider account is already linked to another user")
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.audit(r, rl.ID, "CREATE", "USER", "users/"+u.ID+"/federated-identity/"+alias, rep)
	noContent(w)
}

// removeFederatedIdentity is DELETE /users/{id}/federated-identity/{alias}.
func (a *API) removeFederatedIdentity(w http.ResponseWriter, r *http.Request) {
	rl, u, ok := a.targetUser(w, r, manageUsers)
	if !ok {
		return
	}
	alias := mux.Vars(r)["alias"]
	err := a.svc.UnlinkFederatedIdentity(r.Context(), rl.Name, u.ID, alias)
	if errors.Is(err, store.ErrNotFound) {
		err = &apiError{http.StatusNotFound, "Link not found"}
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.audit(r, rl.ID, "DELETE", "USER", "users/"+u.ID+"/federated-identity/"+alias, nil)
	noContent(w)
}
