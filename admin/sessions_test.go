package admin_test

import (
	"net/url"
	"testing"
)

// sessionsFixture is realm demo with alice logged in to client app twice
// from 127.0.0.2: one online and one offline session.
type sessionsFixture struct {
	app, alice            string
	online, offline       map[string]any // token responses
	onlineSID, offlineSID string
}

func newSessionsFixture(e *env) sessionsFixture {
	e.t.Helper()
	app, secret, alice := e.demoRealm()
	f := sessionsFixture{app: app, alice: alice}
	login := func(scope string) map[string]any {
		form := url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alice-Pass-1"}, "scope": {scope}}
		status, m := e.tokenRequestFrom("127.0.0.2", "demo", form, "app", secret)
		if status != 200 {
			e.t.Fatalf("login %q: %d %v", scope, status, m)
		}
		return m
	}
	f.online, f.offline = login("openid"), login("openid offline_access")
	f.onlineSID, f.offlineSID = f.online["session_state"].(string), f.offline["session_state"].(string)
	return f
}

// The session lists show each live session once, online and offline apart,
// in Keycloak's UserSessionRepresentation with the login's address.
func TestSessionListsShowLiveSessions(t *testing.T) {
	e := newEnv(t)
	f := newSessionsFixture(e)
	base := "/admin/realms/demo"
	for _, tc := range []struct {
		path    string
		wantSID string
	}{
		{base + "/users/" + f.alice + "/sessions", f.onlineSID},
		{base + "/users/" + f.alice + "/offline-sessions/" + f.app, f.offlineSID},
		{base + "/clients/" + f.app + "/user-sessions", f.onlineSID},
		{base + "/clients/" + f.app + "/offline-sessions", f.offlineSID},
	} {
		t.Run(tc.path, func(t *testing.T) {
			var got []map[string]any
			e.must(200, "GET", tc.path, e.admin, nil).json(t, &got)
			if len(got) != 1 {
				t.Fatalf("sessions = %v, want one", got)
			}
			s := got[0]
			want := map[string]any{"id": tc.wantSID, "username": "alice", "userId": f.alice, "ipAddress": "127.0.0.2",
				"rememberMe": false, "transientUser": false}
			for k, v := range want {
				if s[k] != v {
					t.Errorf("%s = %v, want %v", k, s[k], v)
				}
			}
			if s["start"].(float64) <= 0 || s["lastAccess"].(float64) < s["start"].(float64) {
				t.Errorf("start %v lastAccess %v", s["start"], s["lastAccess"])
			}
			if c := s["clients"].(map[string]any); len(c) != 1 || c[f.app] != "app" {
				t.Errorf("clients = %v", c)
			}
			var page []map[string]any
			e.must(200, "GET", tc.path+"?first=1", e.admin, nil).json(t, &page)
			if len(page) != 0 {
				t.Errorf("first=1: %v", page)
			}
		})
	}
	for path, want := range map[string]float64{
		base + "/clients/" + f.app + "/session-count":         1,
		base + "/clients/" + f.app + "/offline-session-count": 1,
	} {
		if got := e.must(200, "GET", path, e.admin, nil).obj(t)["count"]; got != want {
			t.Errorf("%s: count %v, want %v", path, got, want)
		}
	}
	var stats []map[string]any
	e.must(200, "GET", base+"/client-session-stats", e.admin, nil).json(t, &stats)
	if len(stats) != 1 || stats[0]["id"] != f.app || stats[0]["clientId"] != "app" || stats[0]["active"] != "1" || stats[0]["offline"] != "1" {
		t.Errorf("client-session-stats = %v", stats)
	}
}

// Bad addresses and missing rights get Keycloak's errors.
func TestSessionRoutesRefuseBadInput(t *testing.T) {
	e := newEnv(t)
	f := newSessionsFixture(e)
	_, viewer := e.userWithRights("demo", "viewer", nil, "view-realm")
	base := "/admin/realms/demo"
	for _, tc := range []struct {
		method, path, token string
		status              int
	}{
		{"GET", base + "/users/nobody/sessions", e.admin, 404},
		{"GET", base + "/users/" + f.alice + "/offline-sessions/nothing", e.admin, 404},
		{"GET", base + "/clients/nothing/user-sessions", e.admin, 404},
		{"GET", base + "/clients/nothing/session-count", e.admin, 404},
		{"DELETE", base + "/sessions/nothing", e.admin, 404},
		{"POST", base + "/users/nobody/logout", e.admin, 404},
		{"GET", base + "/users/" + f.alice + "/sessions?max=x", e.admin, 400},
		{"GET", "/admin/realms/nothing/client-session-stats", e.admin, 404},
		{"GET", base + "/users/" + f.alice + "/sessions", viewer, 403},
		{"GET", base + "/clients/" + f.app + "/user-sessions", viewer, 403},
		{"DELETE", base + "/sessions/" + f.onlineSID, viewer, 403},
		{"POST", base + "/users/" + f.alice + "/logout", viewer, 403},
		{"POST", base + "/logout-all", viewer, 403},
		{"POST", base + "/push-revocation", viewer, 403},
		{"GET", base + "/client-session-stats", "", 401},
	} {
		r := e.call(tc.method, tc.path, tc.token, nil)
		if r.status != tc.status {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.status, r.raw, tc.status)
		}
		if r.status >= 400 && r.obj(t)["errorMessage"] == nil {
			t.Errorf("%s %s: no errorMessage in %s", tc.method, tc.path, r.raw)
		}
	}
	// The viewer may read the stats (view-realm).
	e.must(200, "GET", base+"/client-session-stats", viewer, nil)
}

// Ending sessions through the admin API takes effect on the next request:
// the ended session's refresh token is refused at once.
func TestAdminEndsSessions(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(e *env, f sessionsFixture) resp
		// ended says which of the two sessions end.
		online, offline bool
		// realmNotBefore: the realm's notBefore moves.
		realmNotBefore bool
	}{
		{"DELETE /sessions/{online}", func(e *env, f sessionsFixture) resp {
			return e.must(204, "DELETE", "/admin/realms/demo/sessions/"+f.onlineSID, e.admin, nil)
		}, true, false, false},
		{"DELETE /sessions/{offline}", func(e *env, f sessionsFixture) resp {
			return e.must(204, "DELETE", "/admin/realms/demo/sessions/"+f.offlineSID, e.admin, nil)
		}, false, true, false},
		{"POST /users/{id}/logout", func(e *env, f sessionsFixture) resp {
			return e.must(204, "POST", "/admin/realms/demo/users/"+f.alice+"/logout", e.admin, nil)
		}, true, true, false},
		{"POST /logout-all", func(e *env, f sessionsFixture) resp {
			return e.must(200, "POST", "/admin/realms/demo/logout-all", e.admin, nil)
		}, true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			f := newSessionsFixture(e)
			r := tc.end(e, f)
			if r.status == 200 && r.raw != "{}\n" {
				t.Errorf("answer %q, want Keycloak's empty GlobalRequestResult", r.raw)
			}
			var secret map[string]string
			e.must(200, "GET", "/admin/realms/demo/clients/"+f.app+"/client-secret", e.admin, nil).json(t, &secret)
			for _, s := range []struct {
				name  string
				tok   map[string]any
				ended bool
			}{{"online", f.online, tc.online}, {"offline", f.offline, tc.offline}} {
				status, m := e.tokenRequest("demo", url.Values{"grant_type": {"refresh_token"},
					"refresh_token": {s.tok["refresh_token"].(string)}}, "app", secret["value"])
				if ended := status != 200; ended != s.ended {
					t.Errorf("%s session: refresh %d %v, want ended=%v", s.name, status, m, s.ended)
				}
			}
			nb := e.must(200, "GET", "/admin/realms/demo", e.admin, nil).obj(t)["notBefore"].(float64)
			if (nb > 0) != tc.realmNotBefore {
				t.Errorf("realm notBefore = %v", nb)
			}
		})
	}
}

// push-revocation answers Keycloak's empty GlobalRequestResult: there are
// no client admin URLs to push to, notBefore being enforced here.
func TestPushRevocationAnswersGlobalRequestResult(t *testing.T) {
	e := newEnv(t)
	e.demoRealm()
	if r := e.must(200, "POST", "/admin/realms/demo/push-revocation", e.admin, nil); r.raw != "{}\n" {
		t.Errorf("push-revocation = %q", r.raw)
	}
}
