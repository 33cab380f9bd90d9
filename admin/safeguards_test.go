package admin_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// postForm posts form to a realm's protocol endpoint P/<endpoint> with the
// client's Basic credentials and decodes the JSON answer.
func (e *env) postForm(realm, endpoint string, form url.Values, client, secret string) (int, map[string]any) {
	e.t.Helper()
	req := e.protocolRequest(realm, endpoint, form)
	req.SetBasicAuth(url.QueryEscape(client), url.QueryEscape(secret))
	return do(e.t, req)
}

// demoRealm creates realm demo with a confidential client "app" (direct
// grants and a service account) and user alice; it returns the client's
// UUID and secret and alice's ID.
func (e *env) demoRealm() (clientID, secret, aliceID string) {
	e.t.Helper()
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	clientID, secret = e.createClient("demo", e.admin, map[string]any{"clientId": "app", "directAccessGrantsEnabled": true, "serviceAccountsEnabled": true})
	aliceID = idFromLocation(e.t, e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{
		"username": "alice", "enabled": true, "credentials": []map[string]any{{"value": "alice-Pass-1"}}}))
	return clientID, secret, aliceID
}

// An admin's password reset ends the user's sessions at once: the refresh
// token and the access tokens of those sessions stop working (Keycloak's
// opt-in "sign out all sessions", on by default here). The CLI's
// set-password goes through the same reset-password call.
func TestPasswordResetByAdminEndsTheUsersSessions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reset func(e *env, uid string)
	}{
		{"reset-password", func(e *env, uid string) {
			e.must(204, "PUT", "/admin/realms/demo/users/"+uid+"/reset-password", e.admin,
				map[string]any{"type": "password", "value": "alice-Pass-2", "temporary": false})
		}},
		{"user update with credentials", func(e *env, uid string) {
			e.must(204, "PUT", "/admin/realms/demo/users/"+uid, e.admin,
				map[string]any{"credentials": []map[string]any{{"type": "password", "value": "alice-Pass-2"}}})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			_, secret, uid := e.demoRealm()
			m := e.passwordLogin("demo", "app", secret, "alice", "alice-Pass-1")
			at, rt := m["access_token"].(string), m["refresh_token"].(string)
			tc.reset(e, uid)
			if s, m := e.tokenRequest("demo", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "app", secret); s != 400 || m["error"] != "invalid_grant" {
				t.Errorf("refresh after the reset: %d %v", s, m)
			}
			for _, tok := range []string{at, rt} {
				if _, m := e.postForm("demo", "token/introspect", url.Values{"token": {tok}}, "app", secret); m["active"] != false {
					t.Errorf("token of an ended session still active: %v", m)
				}
			}
			if s, m := e.tokenRequest("demo", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alice-Pass-2"}}, "app", secret); s != 200 {
				t.Errorf("login with the new password: %d %v", s, m)
			}
		})
	}
}

// scope=offline_access needs the offline_access realm role (new users and
// service accounts get it through default-roles-<realm>); without it the
// answer is Keycloak's 400 not_allowed.
func TestOfflineAccessNeedsTheOfflineAccessRole(t *testing.T) {
	e := newEnv(t)
	clientID, secret, aliceID := e.demoRealm()
	bobID := idFromLocation(t, e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{
		"username": "bob", "enabled": true, "credentials": []map[string]any{{"value": "bob-Pass-1"}}}))
	var sa map[string]any
	e.must(200, "GET", "/admin/realms/demo/clients/"+clientID+"/service-account-user", e.admin, nil).json(t, &sa)
	var defaults map[string]any
	e.must(200, "GET", "/admin/realms/demo/roles/default-roles-demo", e.admin, nil).json(t, &defaults)
	for _, uid := range []string{bobID, sa["id"].(string)} {
		e.must(204, "DELETE", "/admin/realms/demo/users/"+uid+"/role-mappings/realm", e.admin, []map[string]any{defaults})
	}
	password := func(user, pw string) url.Values {
		return url.Values{"grant_type": {"password"}, "username": {user}, "password": {pw}, "scope": {"openid offline_access"}}
	}
	cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"offline_access"}}
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
	}{
		{"user with the role (default roles)", password("alice", "alice-Pass-1"), 200},
		{"user without the role", password("bob", "bob-Pass-1"), 400},
		{"service account without the role", cc, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, m := e.tokenRequest("demo", tc.form, "app", secret)
			if s != tc.status {
				t.Fatalf("%d %v, want %d", s, m, tc.status)
			}
			if s == 200 {
				if !strings.Contains(m["scope"].(string), "offline_access") {
					t.Errorf("offline_access not granted: %v", m)
				}
				return
			}
			if m["error"] != "not_allowed" || m["error_description"] != "Offline tokens not allowed for the user or client" {
				t.Errorf("error: %v", m)
			}
		})
	}
	// Without offline_access the same users get their tokens.
	if s, m := e.tokenRequest("demo", url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {"bob-Pass-1"}}, "app", secret); s != 200 {
		t.Errorf("bob without offline_access: %d %v", s, m)
	}
	// Granting the role directly is enough.
	var offline map[string]any
	e.must(200, "GET", "/admin/realms/demo/roles/offline_access", e.admin, nil).json(t, &offline)
	e.must(204, "POST", "/admin/realms/demo/users/"+bobID+"/role-mappings/realm", e.admin, []map[string]any{offline})
	s, m := e.tokenRequest("demo", password("bob", "bob-Pass-1"), "app", secret)
	if s != 200 {
		t.Fatalf("bob holding offline_access: %d %v", s, m)
	}
	// Taking the role away ends the offline session's refreshes.
	e.must(204, "DELETE", "/admin/realms/demo/users/"+bobID+"/role-mappings/realm", e.admin, []map[string]any{offline})
	if s, m := e.tokenRequest("demo", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}}, "app", secret); s != 400 || m["error"] != "not_allowed" {
		t.Errorf("offline refresh after the role was removed: %d %v", s, m)
	}
	_ = aliceID
}

// A refresh token issued before the realm's, the client's or the user's
// notBefore introspects inactive and no longer refreshes, as an access token
// of that age no longer verifies.
func TestRefreshTokenIntrospectionHonoursNotBefore(t *testing.T) {
	for _, tc := range []struct {
		name  string
		push  func(e *env, clientID, userID string, nb int64)
		check string // "" or a field the admin API must echo
	}{
		{"realm", func(e *env, _, _ string, nb int64) {
			e.must(204, "PUT", "/admin/realms/demo", e.admin, map[string]any{"notBefore": nb})
		}, "/admin/realms/demo"},
		{"client", func(e *env, clientID, _ string, nb int64) {
			e.must(204, "PUT", "/admin/realms/demo/clients/"+clientID, e.admin, map[string]any{"notBefore": nb})
		}, "/admin/realms/demo/clients/"},
		{"user", func(e *env, _, userID string, nb int64) {
			if _, err := e.svc.UpdateUser(t.Context(), "demo", userID, func(u *store.User) error { u.NotBefore = nb; return nil }); err != nil {
				t.Fatal(err)
			}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			clientID, secret, aliceID := e.demoRealm()
			m := e.passwordLogin("demo", "app", secret, "alice", "alice-Pass-1")
			at, rt := m["access_token"].(string), m["refresh_token"].(string)
			if _, m := e.postForm("demo", "token/introspect", url.Values{"token": {rt}}, "app", secret); m["active"] != true {
				t.Fatalf("fresh refresh token inactive: %v", m)
			}
			// A notBefore after the tokens' issue time (seconds).
			nb := time.Now().Unix() + 5
			tc.push(e, clientID, aliceID, nb)
			if tc.check != "" {
				path := tc.check
				if tc.name == "client" {
					path += clientID
				}
				if got := e.must(200, "GET", path, e.admin, nil).obj(t)["notBefore"]; got != float64(nb) {
					t.Errorf("notBefore reads back as %v, want %d", got, nb)
				}
			}
			for name, tok := range map[string]string{"refresh": rt, "access": at} {
				if _, m := e.postForm("demo", "token/introspect", url.Values{"token": {tok}}, "app", secret); m["active"] != false {
					t.Errorf("%s token issued before notBefore introspects %v", name, m)
				}
			}
			if s, m := e.tokenRequest("demo", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "app", secret); s != 400 || m["error_description"] != "Stale token" {
				t.Errorf("refresh with a token issued before notBefore: %d %v", s, m)
			}
		})
	}
}

// Realm names differing only by case are one name: creating or renaming
// into one is a conflict, as a duplicate is.
func TestRealmNamesDifferingOnlyByCaseConflict(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "other", "enabled": true})
	for _, tc := range []struct{ method, path, name string }{
		{"POST", "/admin/realms", "Demo"},
		{"POST", "/admin/realms", "DEMO"},
		{"POST", "/admin/realms", "MASTER"},
		{"PUT", "/admin/realms/other", "dEmO"},
	} {
		r := e.call(tc.method, tc.path, e.admin, map[string]any{"realm": tc.name, "enabled": true})
		if r.status != 409 || r.obj(t)["errorMessage"] == nil {
			t.Errorf("%s %s realm=%s: %d %s, want 409 with errorMessage", tc.method, tc.path, tc.name, r.status, r.raw)
		}
	}
	// A realm may change the case of its own name.
	e.must(204, "PUT", "/admin/realms/other", e.admin, map[string]any{"realm": "Other"})
	e.must(200, "GET", "/admin/realms/Other", e.admin, nil)
}

// Usernames are trimmed and lower-cased (Keycloak's rule), so any case
// logs in; usernames carrying invisible characters (control, format, line
// and paragraph separators, non-ASCII spaces) are refused with 400 rather
// than stored as look-alikes of another user.
func TestUsernamesAreNormalisedAndInvisibleCharactersRefused(t *testing.T) {
	e := newEnv(t)
	_, secret, _ := e.demoRealm()
	for _, bad := range []string{
		"ali\u200bce", // zero-width space (Cf)
		"alice\u200d", // zero-width joiner (Cf)
		"\ufeffalice", // byte-order mark (Cf)
		"ali\u00adce", // soft hyphen (Cf)
		"ali\u202ece", // right-to-left override (Cf)
		"ali\u2028ce", // line separator (Zl)
		"ali\u2029ce", // paragraph separator (Zp)
		"ali\u00a0ce", // no-break space
		"ali\u3000ce", // ideographic space
		"ali\u0007ce", // bell (Cc)
		"alice\u0085", // next line (Cc)
	} {
		r := e.call("POST", "/admin/realms/demo/users", e.admin, map[string]any{"username": bad, "enabled": true})
		if r.status != 400 || r.obj(t)["errorMessage"] == nil {
			t.Errorf("username %q: %d %s, want 400 with errorMessage", bad, r.status, r.raw)
		}
	}
	uid := idFromLocation(t, e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{
		"username": " Bob.Smith ", "enabled": true, "credentials": []map[string]any{{"value": "bob-Pass-1"}}}))
	if got := e.must(200, "GET", "/admin/realms/demo/users/"+uid, e.admin, nil).obj(t)["username"]; got != "bob.smith" {
		t.Errorf("stored username %v, want bob.smith", got)
	}
	for _, name := range []string{"bob.smith", "BOB.SMITH", "Bob.Smith"} {
		if s, m := e.tokenRequest("demo", url.Values{"grant_type": {"password"}, "username": {name}, "password": {"bob-Pass-1"}}, "app", secret); s != 200 {
			t.Errorf("login as %q: %d %v", name, s, m)
		}
	}
	if r := e.call("POST", "/admin/realms/demo/users", e.admin, map[string]any{"username": "BOB.smith"}); r.status != 409 {
		t.Errorf("same username in another case: %d %s, want 409", r.status, r.raw)
	}
	// Renaming into an invisible character is refused as creating is.
	if r := e.call("PUT", "/admin/realms/demo/users/"+uid, e.admin, map[string]any{"username": "bob\u200b"}); r.status != 400 {
		t.Errorf("rename to an invisible character: %d %s", r.status, r.raw)
	}
	// A user stored before the rule keeps its name and can still be
	// managed (disabled first of all), and renamed to a visible name.
	st, err := e.svc.Realm(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	legacy := store.User{ID: "legacy-user", Username: "ali\u200bce", Enabled: true}
	if err := e.store.CreateUser(t.Context(), st.Realm.ID, legacy); err != nil {
		t.Fatal(err)
	}
	e.must(204, "PUT", "/admin/realms/demo/users/legacy-user", e.admin, map[string]any{"enabled": false})
	e.must(204, "PUT", "/admin/realms/demo/users/legacy-user", e.admin, map[string]any{"username": "alice2"})
}
