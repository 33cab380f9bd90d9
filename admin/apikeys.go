package admin

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// Keys held by a realm's users, for admins. Personal API keys: list a
// user's keys, delete one or all, and the per-user counts of the whole realm
// in one call (a console shows them as a column of the user list). Access
// keys: list, create for the user, ACTIVE/INACTIVE, delete.

func (a *API) keyRoutes(rr *mux.Router) {
	rr.HandleFunc("/api-keys/counts", a.apiKeyCounts).Methods(http.MethodGet)
	rr.HandleFunc("/users/{id}/api-keys", a.userAPIKeys).Methods(http.MethodGet)
	rr.HandleFunc("/users/{id}/api-keys", a.deleteUserAPIKeys).Methods(http.MethodDelete)
	rr.HandleFunc("/users/{id}/api-keys/{keyId}", a.deleteUserAPIKey).Methods(http.MethodDelete)
	rr.HandleFunc("/users/{id}/access-keys", a.userAccessKeys).Methods(http.MethodGet)
	rr.HandleFunc("/users/{id}/access-keys", a.createUserAccessKey).Methods(http.MethodPost)
	rr.HandleFunc("/users/{id}/access-keys/{keyId}", a.updateUserAccessKey).Methods(http.MethodPut)
	rr.HandleFunc("/users/{id}/access-keys/{keyId}", a.deleteUserAccessKey).Methods(http.MethodDelete)
}

// actor is the admin of the request, for the events the service records.
func actor(r *http.Request) realms.Actor {
	c := callerOf(r)
	return realms.Actor{RealmID: c.token.Realm.ID, ClientID: c.token.Client.ClientID, UserID: c.token.User.ID,
		Username: c.token.User.Username, IP: c.ip}
}

// eventLost logs a change whose admin event was not written and reports it
// as done; other errors pass through.
func (a *API) eventLost(r *http.Request, err error) error {
	if errors.Is(err, realms.ErrEventNotRecorded) {
		a.log.Error("admin: audit log write failed", "path", r.URL.Path, "err", err)
		return nil
	}
	return err
}

func (a *API) userAPIKeys(w http.ResponseWriter, r *http.Request) {
	rl, u, ok := a.targetUser(w, r, viewUsers)
	if !ok {
		return
	}
	keys, err := a.svc.APIKeys(r.Context(), rl.Name, u.ID)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, oidc.APIKeyRep(k))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) deleteUserAPIKey(w http.ResponseWriter, r *http.Request) {
	rl, u, ok := a.targetUser(w, r, manageUsers)
	if !ok {
		return
	}
	err := a.eventLost(r, a.svc.DeleteAPIKey(r.Context(), rl.Name, u.ID, mux.Vars(r)["keyId"], actor(r)))
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("API key")
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	noContent(w)
}

func (a *API) deleteUserAPIKeys(w http.ResponseWriter, r *http.Request) {
	rl, u, ok := a.targetUser(w, r, manageUsers)
	if !ok {
		return
	}
	_, err := a.svc.DeleteAPIKeys(r.Context(), rl.Name, u.ID, actor(r))
	if err = a.eventLost(r, err); err != nil {
		a.writeError(w, r, err)
		return
	}
	noContent(w)
}

// apiKeyCounts answers {"<user id>": <keys>} for every user holding keys.
func (a *API) apiKeyCounts(w http.ResponseWriter, r *http.Request) {
	rl, err := a.targetRealm(r, viewUsers)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	counts, err := a.svc.APIKeyCounts(r.Context(), rl.Name)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, counts)
}

// credentialSettingsRep are the realm settings of user-held credentials,
// part of the realm representation.
type credentialSettingsRep struct {
	APIKeyDefaultLifespanDays *int `json:"apiKeyDefaultLifespanDays,omitempty"`
	APIKeyMaxLifespanDays     *int `json:"apiKeyMaxLifespanDays,omitempty"`
	WorkloadTokenLifespan     *int `json:"workloadTokenLifespan,omitempty"`
}

func toCredentialSettings(r store.Realm) credentialSettingsRep {
	return credentialSettingsRep{APIKeyDefaultLifespanDays: ptr(r.APIKeyDefaultLifespanDays),
		APIKeyMaxLifespanDays: ptr(r.APIKeyMaxLifespanDays), WorkloadTokenLifespan: ptr(r.WorkloadTokenLifespan)}
}

func (rep credentialSettingsRep) apply(r *store.Realm) {
	for _, f := range []struct {
		dst *int
		v   *int
	}{{&r.APIKeyDefaultLifespanDays, rep.APIKeyDefaultLifespanDays}, {&r.APIKeyMaxLifespanDays, rep.APIKeyMaxLifespanDays},
		{&r.WorkloadTokenLifespan, rep.WorkloadTokenLifespan}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
}

func (a *API) userAccessKeys(w http.ResponseWriter, r *http.Request) {
	rl, u, ok := a.targetUser(w, r, viewUsers)
	if !ok {
		return
	}
	keys, err := a.svc.AccessKeys(r.Context(), rl.Name, u.ID)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, oidc.AccessKeyRep(k))
	}
	writeJSON(w, http.StatusOK, out)
}

// createUserAccessKey makes a key pair for the user (or registers an
// uploaded public key) and answers it like the account API, the private
// key included once.
func (a *API) createUserAccessKey(w http.ResponseWriter, r *http.Request) {
	rl, u, ok := a.targetUser(w, r, manageUsers)
	if !ok {
		return
	}
	var in struct {
		Type      string `json:"type"`
		PublicKey string `json:"publicKey"`
	}
	if err := decode(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	k, private, err := a.svc.CreateAccessKey(r.Context(), rl.Name, u.ID, realms.NewAccessKey{Type: in.Type, PublicKeyPEM: in.PublicKey}, actor(r))
	if err = a.eventLost(r, err); err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, oidc.NewAccessKeyRep(k, private))
}

func (a *API) updateUserAccessKey(w http.ResponseWriter, r *http.Request) {
	rl, u, ok := a.targetUser(w, r, manageUsers)
	if !ok {
		return
	}
	var in struct {
		Status string `json:"status"`
	}
	if err := decode(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	k, err := a.svc.SetAccessKeyStatus(r.Context(), rl.Name, u.ID, mux.Vars(r)["keyId"], in.Status, actor(r))
	if err = a.eventLost(r, err); errors.Is(err, store.ErrNotFound) {
		err = notFound("access key")
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, oidc.AccessKeyRep(k))
}

func (a *API) deleteUserAccessKey(w http.ResponseWriter, r *http.Request) {
	rl, u, ok := a.targetUser(w, r, manageUsers)
	if !ok {
		return
	}
	err := a.eventLost(r, a.svc.DeleteAccessKey(r.Context(), rl.Name, u.ID, mux.Vars(r)["keyId"], actor(r)))
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("access key")
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	noContent(w)
}
