package admin

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// userSessionRep is Keycloak's UserSessionRepresentation. Gatehouse has no
// remember-me login and no transient users, so both are always false.
type userSessionRep struct {
	ID            string            `json:"id"`
	Username      string            `json:"username"`
	UserID        string            `json:"userId"`
	IPAddress     string            `json:"ipAddress"`
	Start         int64             `json:"start"`
	LastAccess    int64             `json:"lastAccess"`
	RememberMe    bool              `json:"rememberMe"`
	Clients       map[string]string `json:"clients"`
	TransientUser bool              `json:"transientUser"`
}

func toSessionReps(in []realms.SessionInfo) []userSessionRep {
	out := make([]userSessionRep, 0, len(in))
	for _, s := range in {
		out = append(out, userSessionRep{ID: s.ID, Username: s.Username, UserID: s.UserID, IPAddress: s.IPAddress,
			Start: millis(s.AuthTime), LastAccess: millis(s.LastRefresh),
			Clients: map[string]string{s.Session.ClientID: s.ClientID}})
	}
	return out
}

// writeSessions answers a session list, windowed by first/max.
func (a *API) writeSessions(w http.ResponseWriter, r *http.Request, rl store.Realm, f realms.SessionFilter) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	all, err := a.sessions.Sessions(r.Context(), rl, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSessionReps(window(all, p)))
	return nil
}

func window[T any](all []T, p store.Page) []T {
	if p.First >= len(all) {
		return nil
	}
	all = all[p.First:]
	if p.Max > 0 && p.Max < len(all) {
		all = all[:p.Max]
	}
	return all
}

// userSessions is GET /users/{id}/sessions: the user's online sessions.
func (a *API) userSessions(w http.ResponseWriter, r *http.Request) error {
	rl, u, err := a.targetUser(r, viewUsers)
	if err != nil {
		return err
	}
	return a.writeSessions(w, r, rl, realms.SessionFilter{UserID: u.ID})
}

// userOfflineSessions is GET /users/{id}/offline-sessions/{client}: the
// user's offline sessions with one client (by UUID).
func (a *API) userOfflineSessions(w http.ResponseWriter, r *http.Request) error {
	rl, u, err := a.targetUser(r, viewUsers)
	if err != nil {
		return err
	}
	c, err := a.svc.Client(r.Context(), rl.ID, mux.Vars(r)["client"])
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("client")
	}
	if err != nil {
		return err
	}
	return a.writeSessions(w, r, rl, realms.SessionFilter{UserID: u.ID, ClientID: c.ID, Offline: true})
}

// clientSessions is GET /clients/{id}/user-sessions and, with offline,
// /clients/{id}/offline-sessions. Keycloak requires view-users for both.
func (a *API) clientSessions(offline bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rl, c, err := a.targetClient(r, viewUsers)
		if err != nil {
			return err
		}
		return a.writeSessions(w, r, rl, realms.SessionFilter{ClientID: c.ID, Offline: offline})
	}
}

// clientSessionCount is GET /clients/{id}/session-count and
// /clients/{id}/offline-session-count: {"count": n}.
func (a *API) clientSessionCount(offline bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rl, c, err := a.targetClient(r, viewClients)
		if err != nil {
			return err
		}
		all, err := a.sessions.Sessions(r.Context(), rl, realms.SessionFilter{ClientID: c.ID, Offline: offline})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]int{"count": len(all)})
		return nil
	}
}

// clientSessionStats is GET /client-session-stats: per client with live
// sessions, its counts as strings (Keycloak's shape).
func (a *API) clientSessionStats(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, viewRealm)
	if err != nil {
		return err
	}
	stats, err := a.sessions.SessionStats(r.Context(), rl)
	if err != nil {
		return err
	}
	out := []map[string]string{}
	for _, s := range stats {
		out = append(out, map[string]string{"id": s.Client.ID, "clientId": s.Client.ClientID,
			"active": strconv.Itoa(s.Active), "offline": strconv.Itoa(s.Offline)})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// logoutUser is POST /users/{id}/logout.
func (a *API) logoutUser(w http.ResponseWriter, r *http.Request) error {
	rl, u, err := a.targetManagedUser(r)
	if err != nil {
		return err
	}
	if err := a.sessions.LogoutUser(r.Context(), rl, u.ID); err != nil {
		return err
	}
	a.audit(r, rl.ID, "ACTION", "USER", "users/"+u.ID+"/logout", nil)
	noContent(w)
	return nil
}

// globalRequestResult is Keycloak's GlobalRequestResult: the outcome of
// pushing to clients' admin URLs. Gatehouse clients have no admin URL, so
// nothing is pushed and the answer is {} (Keycloak omits the empty lists).
type globalRequestResult struct {
	SuccessRequests []string `json:"successRequests,omitempty"`
	FailedRequests  []string `json:"failedRequests,omitempty"`
}

// logoutAll is POST /logout-all.
func (a *API) logoutAll(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, manageUsers)
	if err != nil {
		return err
	}
	if err := a.sessions.LogoutAll(r.Context(), rl); err != nil {
		return err
	}
	a.audit(r, rl.ID, "ACTION", "REALM", "logout-all", nil)
	writeJSON(w, http.StatusOK, globalRequestResult{})
	return nil
}

// pushRevocation is POST /push-revocation. Keycloak sends the realm's
// notBefore to the clients' admin URLs; Gatehouse enforces notBefore itself
// on every token and has no admin URLs to push to.
func (a *API) pushRevocation(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, manageRealm)
	if err != nil {
		return err
	}
	a.audit(r, rl.ID, "ACTION", "REALM", "push-revocation", nil)
	writeJSON(w, http.StatusOK, globalRequestResult{})
	return nil
}

// deleteSession is DELETE /sessions/{session}.
func (a *API) deleteSession(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, manageUsers)
	if err != nil {
		return err
	}
	id := mux.Vars(r)["session"]
	err = a.sessions.DeleteSession(r.Context(), rl, id)
	if errors.Is(err, realms.ErrSessionNotFound) {
		err = notFound("session")
	}
	if err != nil {
		return err
	}
	a.audit(r, rl.ID, "DELETE", "USER_SESSION", "sessions/"+id, nil)
	noContent(w)
	return nil
}
