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
func (a *API) listFederatedIdentities(w http.ResponseWriter, r *http.Request) error {
	rl, u, err := a.targetUser(r, viewUsers)
	if err != nil {
		return err
	}
	links, err := a.svc.FederatedIdentities(r.Context(), rl.Name, u.ID)
	if err != nil {
		return err
	}
	out := []federatedIdentityRep{}
	for _, l := range links {
		out = append(out, federatedIdentityRep(l))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// addFederatedIdentity is POST /users/{id}/federated-identity/{alias}: the
// explicit mapping through which tokens of that identity provider (sub =
// userId) speak for the user.
func (a *API) addFederatedIdentity(w http.ResponseWriter, r *http.Request) error {
	rl, u, err := a.targetUser(r, manageUsers)
	if err != nil {
		return err
	}
	var rep federatedIdentityRep
	if err := decode(r, &rep); err != nil {
		return err
	}
	alias := mux.Vars(r)["alias"]
	if rep.IdentityProvider != "" && rep.IdentityProvider != alias {
		return badRequest("identityProvider must match the URL")
	}
	rep.IdentityProvider = alias
	err = a.svc.LinkFederatedIdentity(r.Context(), rl.Name, u.ID, store.FederatedIdentity(rep))
	var ce *store.ConflictError
	switch {
	case errors.Is(err, realms.ErrAlreadyLinked):
		err = conflict("User is already linked with provider")
	case errors.As(err, &ce):
		err = conflict("The identity provider account is already linked to another user")
	}
	if err != nil {
		return err
	}
	return a.changed(w, r, rl.ID, "CREATE", "USER", "users/"+u.ID+"/federated-identity/"+alias, rep)
}

// removeFederatedIdentity is DELETE /users/{id}/federated-identity/{alias}.
func (a *API) removeFederatedIdentity(w http.ResponseWriter, r *http.Request) error {
	rl, u, err := a.targetUser(r, manageUsers)
	if err != nil {
		return err
	}
	alias := mux.Vars(r)["alias"]
	err = a.svc.UnlinkFederatedIdentity(r.Context(), rl.Name, u.ID, alias)
	if errors.Is(err, store.ErrNotFound) {
		err = &apiError{http.StatusNotFound, "Link not found"}
	}
	if err != nil {
		return err
	}
	return a.changed(w, r, rl.ID, "DELETE", "USER", "users/"+u.ID+"/federated-identity/"+alias, nil)
}
