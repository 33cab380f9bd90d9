package admin_test

import (
	"net/url"
	"strings"
	"testing"
)

// eventsFixture is realm demo (client app, user alice) with login events
// enabled, plus a disabled user bob.
type eventsFixture struct {
	app, secret, alice, bob string
}

func newEventsFixture(e *env) eventsFixture {
	e.t.Helper()
	app, secret, alice := e.demoRealm()
	e.must(204, "PUT", "/admin/realms/demo/clients/"+app, e.admin, map[string]any{"attributes": map[string]any{"standard.token.exchange.enabled": "true"}})
	bob := idFromLocation(e.t, e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{
		"username": "bob", "enabled": false, "credentials": []map[string]any{{"value": "bob-Pass-1"}}}))
	e.must(204, "PUT", "/admin/realms/demo/events/config", e.admin, map[string]any{"eventsEnabled": true})
	return eventsFixture{app: app, secret: secret, alice: alice, bob: bob}
}

func (f eventsFixture) token(e *env, form url.Values) map[string]any {
	e.t.Helper()
	_, m := e.tokenRequestFrom("127.0.0.3", "demo", form, "app", f.secret)
	return m
}

func (f eventsFixture) login(e *env) map[string]any {
	e.t.Helper()
	m := f.token(e, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alice-Pass-1"}})
	if m["refresh_token"] == nil {
		e.t.Fatalf("login: %v", m)
	}
	return m
}

// tokenEndpointEvents are the successful token-endpoint events, which name
// the access token they issued (token_id, its jti).
var tokenEndpointEvents = map[string]bool{"LOGIN": true, "CLIENT_LOGIN": true, "REFRESH_TOKEN": true, "TOKEN_EXCHANGE": true}

// Every event type is recorded once per request with Keycloak's
// representation and error strings, and no event carries a secret,
// password or token.
func TestLoginEventsRecordedPerType(t *testing.T) {
	for _, tc := range []struct {
		typ     string
		act     func(e *env, f eventsFixture) (secrets []string)
		user    func(f eventsFixture) string
		session bool
		err     string
		details map[string]string
	}{
		{"LOGIN", func(e *env, f eventsFixture) []string {
			m := f.login(e)
			return []string{m["access_token"].(string), m["refresh_token"].(string), "alice-Pass-1"}
		}, func(f eventsFixture) string { return f.alice }, true, "",
			map[string]string{"grant_type": "password", "username": "alice", "client_auth_method": "client-secret"}},
		{"LOGIN_ERROR", func(e *env, f eventsFixture) []string {
			f.token(e, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"wrong-Pass-9"}})
			return []string{"wrong-Pass-9"}
		}, func(f eventsFixture) string { return f.alice }, false, "invalid_user_credentials", map[string]string{"grant_type": "password", "username": "alice"}},
		{"LOGIN_ERROR", func(e *env, f eventsFixture) []string {
			f.token(e, url.Values{"grant_type": {"password"}, "username": {"nobody"}, "password": {"x-Pass-1"}})
			return []string{"x-Pass-1"}
		}, nil, false, "user_not_found", map[string]string{"username": "nobody"}},
		{"LOGIN_ERROR", func(e *env, f eventsFixture) []string {
			f.token(e, url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {"bob-Pass-1"}})
			return []string{"bob-Pass-1"}
		}, func(f eventsFixture) string { return f.bob }, false, "user_disabled", map[string]string{"username": "bob"}},
		{"CLIENT_LOGIN", func(e *env, f eventsFixture) []string {
			m := f.token(e, url.Values{"grant_type": {"client_credentials"}})
			return []string{m["access_token"].(string)}
		}, nil, false, "", map[string]string{"grant_type": "client_credentials", "username": "service-account-app"}},
		{"CLIENT_LOGIN_ERROR", func(e *env, f eventsFixture) []string {
			_, _ = e.tokenRequestFrom("127.0.0.3", "demo", url.Values{"grant_type": {"client_credentials"}}, "app", "not-the-secret")
			return []string{"not-the-secret"}
		}, nil, false, "invalid_client_credentials", nil},
		{"REFRESH_TOKEN", func(e *env, f eventsFixture) []string {
			m := f.login(e)
			n := f.token(e, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}})
			return []string{m["refresh_token"].(string), n["refresh_token"].(string), n["access_token"].(string)}
		}, func(f eventsFixture) string { return f.alice }, true, "", map[string]string{"grant_type": "refresh_token"}},
		{"REFRESH_TOKEN_ERROR", func(e *env, f eventsFixture) []string {
			f.token(e, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"not-a-refresh-token"}})
			return []string{"not-a-refresh-token"}
		}, nil, false, "invalid_token", nil},
		{"TOKEN_EXCHANGE", func(e *env, f eventsFixture) []string {
			m := f.login(e)
			// Only the exchange is wanted: the login's event is cleared.
			e.must(204, "DELETE", "/admin/realms/demo/events", e.admin, nil)
			n := f.token(e, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {m["access_token"].(string)},
				"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}})
			if n["access_token"] == nil {
				e.t.Fatalf("exchange: %v", n)
			}
			return []string{m["access_token"].(string), n["access_token"].(string)}
		}, func(f eventsFixture) string { return f.alice }, true, "", map[string]string{"username": "alice"}},
		{"TOKEN_EXCHANGE_ERROR", func(e *env, f eventsFixture) []string {
			f.token(e, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {"a.b.c"},
				"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}})
			return []string{"a.b.c"}
		}, nil, false, "invalid_token", nil},
		{"LOGOUT", func(e *env, f eventsFixture) []string {
			m := f.login(e)
			e.postForm("demo", "logout", url.Values{"refresh_token": {m["refresh_token"].(string)}}, "app", f.secret)
			return []string{m["refresh_token"].(string)}
		}, func(f eventsFixture) string { return f.alice }, true, "", nil},
		{"LOGOUT_ERROR", func(e *env, f eventsFixture) []string {
			e.postForm("demo", "logout", url.Values{"refresh_token": {"not-a-refresh-token"}}, "app", f.secret)
			return []string{"not-a-refresh-token"}
		}, nil, false, "invalid_token", nil},
		{"INTROSPECT_TOKEN", func(e *env, f eventsFixture) []string {
			m := f.login(e)
			e.postForm("demo", "token/introspect", url.Values{"token": {m["access_token"].(string)}}, "app", f.secret)
			return []string{m["access_token"].(string)}
		}, func(f eventsFixture) string { return f.alice }, true, "", nil},
		{"REVOKE_GRANT", func(e *env, f eventsFixture) []string {
			m := f.login(e)
			e.postForm("demo", "revoke", url.Values{"token": {m["refresh_token"].(string)}}, "app", f.secret)
			return []string{m["refresh_token"].(string)}
		}, func(f eventsFixture) string { return f.alice }, true, "", nil},
	} {
		t.Run(tc.typ+" "+tc.err, func(t *testing.T) {
			e := newEnv(t)
			f := newEventsFixture(e)
			secrets := append(tc.act(e, f), f.secret)
			r := e.must(200, "GET", "/admin/realms/demo/events?type="+tc.typ, e.admin, nil)
			for _, s := range secrets {
				if s != "" && strings.Contains(r.raw, s) {
					t.Errorf("an event holds a secret or token %q: %s", s, r.raw)
				}
			}
			var got []map[string]any
			r.json(t, &got)
			if len(got) != 1 {
				t.Fatalf("events = %s, want one %s", r.raw, tc.typ)
			}
			ev := got[0]
			// Logout, revocation and introspection are posted from the
			// default address.
			wantIP := "127.0.0.3"
			if tc.typ == "LOGOUT" || tc.typ == "LOGOUT_ERROR" || tc.typ == "REVOKE_GRANT" || tc.typ == "INTROSPECT_TOKEN" {
				wantIP = "127.0.0.1"
			}
			if ev["type"] != tc.typ || ev["clientId"] != "app" || ev["ipAddress"] != wantIP || ev["realmId"] == nil ||
				ev["id"] == nil || ev["time"].(float64) <= 0 {
				t.Errorf("event %v", ev)
			}
			if tc.user != nil && ev["userId"] != tc.user(f) {
				t.Errorf("userId %v, want %s", ev["userId"], tc.user(f))
			}
			if tc.err == "user_not_found" && ev["userId"] != nil {
				t.Errorf("userId %v for an unknown user", ev["userId"])
			}
			if _, has := ev["sessionId"]; has != tc.session {
				t.Errorf("sessionId %v, want present=%v", ev["sessionId"], tc.session)
			}
			if e, _ := ev["error"].(string); e != tc.err {
				t.Errorf("error %q, want %q", e, tc.err)
			}
			details, _ := ev["details"].(map[string]any)
			if tc.err == "" && tokenEndpointEvents[tc.typ] && (details["token_id"] == nil || details["token_id"] == "") {
				t.Errorf("no token_id in %v", details)
			}
			for k, v := range tc.details {
				if details[k] != v {
					t.Errorf("details[%s] = %v, want %s (%v)", k, details[k], v, details)
				}
			}
		})
	}
}

// Events are recorded only while the realm records them, and only the
// enabled types.
func TestLoginEventsFollowTheConfig(t *testing.T) {
	e := newEnv(t)
	f := newEventsFixture(e)
	count := func() int {
		var got []map[string]any
		e.must(200, "GET", "/admin/realms/demo/events", e.admin, nil).json(t, &got)
		return len(got)
	}
	f.login(e)
	if n := count(); n != 1 {
		t.Fatalf("enabled: %d events", n)
	}
	e.must(204, "PUT", "/admin/realms/demo/events/config", e.admin, map[string]any{"enabledEventTypes": []string{"LOGIN_ERROR"}})
	f.login(e)
	f.token(e, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"wrong-Pass-9"}})
	if n := count(); n != 2 {
		t.Errorf("LOGIN_ERROR only: %d events, want 2", n)
	}
	e.must(204, "PUT", "/admin/realms/demo/events/config", e.admin, map[string]any{"eventsEnabled": false, "enabledEventTypes": []string{}})
	f.login(e)
	if n := count(); n != 2 {
		t.Errorf("disabled: %d events, want 2", n)
	}
	e.must(204, "DELETE", "/admin/realms/demo/events", e.admin, nil)
	if n := count(); n != 0 {
		t.Errorf("after DELETE: %d events", n)
	}
}

// GET /events filters as Keycloak does; bad parameters are 400 and
// missing rights 403.
func TestLoginEventsFilters(t *testing.T) {
	e := newEnv(t)
	f := newEventsFixture(e)
	f.login(e)
	f.token(e, url.Values{"grant_type": {"client_credentials"}})
	f.token(e, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"wrong-Pass-9"}})
	base := "/admin/realms/demo/events"
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"LOGIN_ERROR", "CLIENT_LOGIN", "LOGIN"}},
		{"?type=LOGIN&type=CLIENT_LOGIN", []string{"CLIENT_LOGIN", "LOGIN"}},
		{"?user=" + f.alice, []string{"LOGIN_ERROR", "LOGIN"}}, // the failed login names alice too
		{"?client=app&max=1", []string{"LOGIN_ERROR"}},
		{"?client=other", nil},
		{"?first=2", []string{"LOGIN"}},
		{"?ipAddress=127.0.0.3&type=LOGIN", []string{"LOGIN"}},
		{"?ipAddress=192.0.2.1", nil},
		{"?dateFrom=2000-01-01&dateTo=2999-12-31", []string{"LOGIN_ERROR", "CLIENT_LOGIN", "LOGIN"}},
		{"?dateTo=2000-01-01", nil},
		{"?dateFrom=2999-01-01", nil},
	} {
		var got []map[string]any
		e.must(200, "GET", base+tc.query, e.admin, nil).json(t, &got)
		var types []string
		for _, ev := range got {
			types = append(types, ev["type"].(string))
		}
		if strings.Join(types, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: %v, want %v", tc.query, types, tc.want)
		}
	}
	_, viewer := e.userWithRights("demo", "viewer", nil, "view-events")
	_, other := e.userWithRights("demo", "other", nil, "view-users")
	for _, tc := range []struct {
		method, path, token string
		body                any
		status              int
		msg                 string
	}{
		{"GET", base + "?dateFrom=yesterday", e.admin, nil, 400, "Invalid value for 'Date(From)', expected format is yyyy-MM-dd"},
		{"GET", base + "?dateTo=2020-13-01", e.admin, nil, 400, "Invalid value for 'Date(To)', expected format is yyyy-MM-dd"},
		{"GET", base + "?max=-1", e.admin, nil, 400, "max"},
		{"GET", base, other, nil, 403, ""},
		{"DELETE", base, viewer, nil, 403, ""},
		{"GET", base + "/config", other, nil, 403, ""},
		{"PUT", base + "/config", viewer, map[string]any{"eventsEnabled": true}, 403, ""},
		{"PUT", base + "/config", e.admin, map[string]any{"eventsListeners": []string{"email"}}, 400, "Unknown event listener"},
		{"PUT", base + "/config", e.admin, map[string]any{"adminEventsEnabled": false}, 400, "adminEventsEnabled"},
		{"PUT", base + "/config", e.admin, map[string]any{"bogus": 1}, 400, "bogus"},
		{"PUT", base + "/config", e.admin, "[", 400, "invalid JSON"},
		{"GET", "/admin/realms/nothing/events", e.admin, nil, 404, ""},
		{"GET", "/admin/realms/nothing/events/config", e.admin, nil, 404, ""},
	} {
		r := e.call(tc.method, tc.path, tc.token, tc.body)
		msg, _ := r.obj(t)["errorMessage"].(string)
		if r.status != tc.status || msg == "" || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s %s: %d %s, want %d %q", tc.method, tc.path, r.status, r.raw, tc.status, tc.msg)
		}
	}
	e.must(200, "GET", base, viewer, nil)
	cfg := e.must(200, "GET", base+"/config", viewer, nil).obj(t)
	if cfg["eventsEnabled"] != true || cfg["adminEventsEnabled"] != true || len(cfg["eventsListeners"].([]any)) != 1 {
		t.Errorf("config = %v", cfg)
	}
	e.must(204, "PUT", base+"/config", e.admin, map[string]any{"eventsExpiration": 3600, "eventsListeners": []string{"jboss-logging"}})
	if cfg := e.must(200, "GET", base+"/config", viewer, nil).obj(t); cfg["eventsExpiration"] != 3600.0 || cfg["eventsEnabled"] != true {
		t.Errorf("config after PUT = %v", cfg)
	}
}
