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
func (a *API) writeSessions(w http.ResponseWriter, r *http.Request, rl store.Realm, f realms.SessionFilter) {
	p, err := page(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	all, err := a.svc.Sessions(r.Context(), rl, f)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toSessionReps(window(all, p)))
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
func (a *API) userSessions(w http.ResponseWriter, r *http.Request) {
	rl, u, ok := a.targetUser(w, r, viewUsers)
	if !ok {
		return
	}
	a.writeSessions(w, r, rl, realms.SessionFilter{UserID: u.ID})
}

// userOfflineSessions is GET /users/{id}/offline-sessions/{client}: the
// user's offline sessions with one client (by UUID).
func (a *API) userOfflineSessions(w http.ResponseWriter, r *http.Request) {
	rl, u, ok := a.targetUser(w, r, viewUsers)
	if !ok {
		return
	}
	c, err := a.svc.Client(r.Context(), rl.ID, mux.Vars(r)["client"])
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("client")
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeSessions(w, r, rl, realms.SessionFilter{UserID: u.ID, ClientID: c.ID, Offline: true})
}

// clientSessions is GET /clients/{id}/user-sessions and, with offline,
// /clients/{id}/offline-sessions. Keycloak requires view-users for both.
func (a *API) clientSessions(offline bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rl, c, ok := a.targetClient(w, r, viewUsers)
		if !ok {
			return
		}
		a.writeSessions(w, r, rl, realms.SessionFilter{ClientID: c.ID, Offline: offline})
	}
}

// clientSessionCount is GET /clients/{id}/session-count and
// /clients/{id}/offline-session-count: {"count": n}.
func (a *API) clientSessionCount(offline bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rl, c, ok := a.targetClient(w, r, viewClients)
		if !ok {
			return
		}
		all, err := a.svc.Sessions(r.Context(), rl, realms.SessionFilter{ClientID: c.ID, Offline: offline})
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"count": len(all)})
	}
}

// clientSessionStats is GET /client-session-stats: per client with live
// sessions, its counts as strings (Keycloak's shape).
func (a *API) clientSessionStats(w http.ResponseWriter, r *http.Request) {
	rl, err := a.targetRealm(r, viewRealm)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	stats, err := a.svc.SessionStats(r.Context(), rl)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := []map[string]string{}
	for _, s := range stats {
		out = append(out, map[string]string{"id": s.Client.ID, "clientId": s.Client.ClientID,
			"active": strconv.Itoa(s.Active), "offline": strconv.Itoa(s.Offline)})
	}
	writeJSON(w, http.StatusOK, out)
}

// logoutUser is POST /users/{id}/logout.
func (a *API) logoutUser(w http.ResponseWriter, r *http.Request) {
	rl, u, ok := a.targetManagedUser(w, r)
	if !ok {
		return
	}
	if err := a.svc.LogoutUser(r.Context(), rl, u.ID); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.audit(r, rl.ID, "ACTION", "USER", "users/"+u.ID+"/logout", nil)
	noContent(w)
}

// globalRequestResult is Keycloak's GlobalRequestResult: the outcome of
// pushing to clients' admin URLs. Gatehouse clients have no admin URL, so
// nothing is pushed and the answer is {} (Keycloak omits the empty lists).
type globalRequestResult struct {
	SuccessRequests []string `json:"successRequests,omitempty"`
	FailedRequests  []string `json:"failedRequests,omitempty"`
}

// logoutAll is POST /logout-all.
func (a *API) logoutAll(w http.ResponseWriter, r *http.Request) {
	rl, err := a.targetRealm(r, manageUsers)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.svc.LogoutAll(r.Context(), rl); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.audit(r, rl.ID, "ACTION", "REALM", "logout-all", nil)
	writeJSON(w, http.StatusOK, globalRequestResult{})
}

// pushRevocation is POST /push-revocation. Keycloak sends the realm's
// notBefore to the clients' admin URLs; Gatehouse enforces notBefore itself
// on every token and has no admin URLs to push to.
func (a *API) pushRevocation(w http.ResponseWriter, r *http.Request) {
	rl, err := a.targetRealm(r, manageRealm)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.audit(r, rl.ID, "ACTION", "REALM", "push-revocation", nil)
	writeJSON(w, http.StatusOK, globalRequestResult{})
}

// deleteSession is DELETE /sessions/{session}.
func (a *API) deleteSession(w http.ResponseWriter, r *http.Request) {
	rl, err := a.targetRealm(r, manageUsers)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	id := mux.Vars(r)["session"]
	err = a.svc.DeleteSession(r.Context(), rl, id)
	if errors.Is(err, realms.ErrSessionNotFound) {
		err = notFound("session")
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.audit(r, rl.ID, "DELETE", "USER_SESSION", "sessions/"+id, nil)
	noContent(w)
}
