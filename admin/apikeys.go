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
	rr.HandleFunc("/api-keys/counts", a.handle(a.apiKeyCounts)).Methods(http.MethodGet)
	rr.HandleFunc("/users/{id}/api-keys", a.handle(a.userAPIKeys)).Methods(http.MethodGet)
	rr.HandleFunc("/users/{id}/api-keys", a.handle(a.deleteUserAPIKeys)).Methods(http.MethodDelete)
	rr.HandleFunc("/users/{id}/api-keys/{keyId}", a.handle(a.deleteUserAPIKey)).Methods(http.MethodDelete)
	rr.HandleFunc("/users/{id}/access-keys", a.handle(a.userAccessKeys)).Methods(http.MethodGet)
	rr.HandleFunc("/users/{id}/access-keys", a.handle(a.createUserAccessKey)).Methods(http.MethodPost)
	rr.HandleFunc("/users/{id}/access-keys/{keyId}", a.handle(a.updateUserAccessKey)).Methods(http.MethodPut)
	rr.HandleFunc("/users/{id}/access-keys/{keyId}", a.handle(a.deleteUserAccessKey)).Methods(http.MethodDelete)
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

func (a *API) userAPIKeys(w http.ResponseWriter, r *http.Request) error {
	rl, u, err := a.targetUser(r, viewUsers)
	if err != nil {
		return err
	}
	keys, err := a.svc.APIKeys(r.Context(), rl.Name, u.ID)
	if err != nil {
		return err
	}
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, oidc.APIKeyRep(k))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// Writes to a user's keys follow the rule of every other change to a user:
// the caller must hold whatever rights the user holds (targetManagedUser),
// or an access key created for a stronger user would sign in as them.

func (a *API) deleteUserAPIKey(w http.ResponseWriter, r *http.Request) error {
	rl, u, err := a.targetManagedUser(r)
	if err != nil {
		return err
	}
	err = a.eventLost(r, a.svc.DeleteAPIKey(r.Context(), rl.Name, u.ID, mux.Vars(r)["keyId"], actor(r)))
	if err != nil {
		return mapNotFound(err, "API key")
	}
	noContent(w)
	return nil
}

func (a *API) deleteUserAPIKeys(w http.ResponseWriter, r *http.Request) error {
	rl, u, err := a.targetManagedUser(r)
	if err != nil {
		return err
	}
	_, err = a.svc.DeleteAPIKeys(r.Context(), rl.Name, u.ID, actor(r))
	if err = a.eventLost(r, err); err != nil {
		return err
	}
	noContent(w)
	return nil
}

// apiKeyCounts answers {"<user id>": <keys>} for every user holding keys.
func (a *API) apiKeyCounts(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, viewUsers)
	if err != nil {
		return err
	}
	counts, err := a.svc.APIKeyCounts(r.Context(), rl.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, counts)
	return nil
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

func (a *API) userAccessKeys(w http.ResponseWriter, r *http.Request) error {
	rl, u, err := a.targetUser(r, viewUsers)
	if err != nil {
		return err
	}
	keys, err := a.svc.AccessKeys(r.Context(), rl.Name, u.ID)
	if err != nil {
		return err
	}
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, oidc.AccessKeyRep(k))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// createUserAccessKey makes a key pair for the user (or registers an
// uploaded public key) and answers it like the account API, the private
// key included once.
func (a *API) createUserAccessKey(w http.ResponseWriter, r *http.Request) error {
	rl, u, err := a.targetManagedUser(r)
	if err != nil {
		return err
	}
	var in struct {
		Type      string `json:"type"`
		PublicKey string `json:"publicKey"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	k, private, err := a.svc.CreateAccessKey(r.Context(), rl.Name, u.ID, realms.NewAccessKey{Type: in.Type, PublicKeyPEM: in.PublicKey}, actor(r))
	if err = a.eventLost(r, err); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, oidc.NewAccessKeyRep(k, private))
	return nil
}

func (a *API) updateUserAccessKey(w http.ResponseWriter, r *http.Request) error {
	rl, u, err := a.targetManagedUser(r)
	if err != nil {
		return err
	}
	var in struct {
		Status string `json:"status"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	k, err := a.svc.SetAccessKeyStatus(r.Context(), rl.Name, u.ID, mux.Vars(r)["keyId"], in.Status, actor(r))
	if err = a.eventLost(r, err); err != nil {
		return mapNotFound(err, "access key")
	}
	writeJSON(w, http.StatusOK, oidc.AccessKeyRep(k))
	return nil
}

func (a *API) deleteUserAccessKey(w http.ResponseWriter, r *http.Request) error {
	rl, u, err := a.targetManagedUser(r)
	if err != nil {
		return err
	}
	err = a.eventLost(r, a.svc.DeleteAccessKey(r.Context(), rl.Name, u.ID, mux.Vars(r)["keyId"], actor(r)))
	if err != nil {
		return mapNotFound(err, "access key")
	}
	noContent(w)
	return nil
}
