package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

const teAPIKey = "urn:gatehouse:params:oauth:token-type:api_key"

// account sends a JSON request to the realm's account API with a Bearer
// credential ("" = none).
func (e *env) account(method, path, bearer, body string) response {
	e.t.Helper()
	return e.jsonCall(method, e.issuer()+"/account"+path, bearer, body)
}

// jsonCall sends a JSON body ("" = none) with a Bearer credential ("" =
// none).
func (e *env) jsonCall(method, url, bearer, body string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return e.do(req)
}

func (e *env) newAPIKey(access, body string) response {
	e.t.Helper()
	r := e.account(http.MethodPost, "/api-keys", access, body)
	if r.status != http.StatusCreated {
		e.t.Fatalf("create API key: %d %s", r.status, r.raw)
	}
	return r
}

func (e *env) introspect(token string) response {
	e.t.Helper()
	return e.post("token/introspect", url.Values{"token": {token}}, "app", e.secret)
}

func (e *env) userinfoWith(token string) response {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.endpoint("userinfo"), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return e.do(req)
}

func TestAPIKeySeedFlow(t *testing.T) {
	e, secret, _ := exchangeEnv(t)
	ctx := context.Background()
	access := e.passwordLogin(nil).str("access_token")
	created := e.newAPIKey(access, `{"description":"ci runner"}`)
	key, keyID := created.str("apiKey"), created.str("keyId")
	if !strings.HasPrefix(key, "ghk_"+keyID+"_") || created.str("expiresAt") == "" || created.str("createdAt") == "" {
		t.Fatalf("create answer %s", created.raw)
	}

	list := e.account(http.MethodGet, "/api-keys", access, "")
	if list.status != 200 || strings.Contains(list.raw, key[len(key)-20:]) || !strings.Contains(list.raw, keyID) {
		t.Fatalf("list: %d %s (must name the key, never show it)", list.status, list.raw)
	}

	in := e.introspect(key)
	if in.body["active"] != true || in.str("token_type") != "api_key" || in.str("key_id") != keyID ||
		in.str("sub") != e.alice.ID || in.str("username") != "alice" || in.body["exp"] == nil {
		t.Fatalf("introspection: %s", in.raw)
	}
	if ra, _ := in.body["realm_access"].(map[string]any); ra == nil || !strings.Contains(in.raw, "default-roles-demo") {
		t.Fatalf("introspection lacks the user's realm roles: %s", in.raw)
	}

	ui := e.userinfoWith(key)
	if ui.status != 200 || ui.str("sub") != e.alice.ID || ui.str("preferred_username") != "alice" {
		t.Fatalf("userinfo with the key: %d %s", ui.status, ui.raw)
	}

	ex := e.exchange(secret, url.Values{"subject_token": {key}, "subject_token_type": {teAPIKey}, "scope": {"openid"}})
	if ex.status != 200 || ex.str("issued_token_type") != teAccess {
		t.Fatalf("exchange: %d %s", ex.status, ex.raw)
	}
	exchanged := ex.str("access_token")
	c := claims(t, exchanged)
	if c["sub"] != e.alice.ID || c["azp"] != "exchanger" || c["api_key_id"] != keyID {
		t.Fatalf("exchanged token claims %v", c)
	}
	if r := e.userinfoWith(exchanged); r.status != 200 {
		t.Fatalf("userinfo with the exchanged token: %d %s", r.status, r.raw)
	}

	// Deleting the key ends the key and every token obtained with it at
	// once.
	if r := e.account(http.MethodDelete, "/api-keys/"+keyID, access, ""); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}
	if r := e.introspect(key); r.raw != "{\"active\":false}\n" {
		t.Fatalf("introspection after delete: %s", r.raw)
	}
	if r := e.userinfoWith(key); r.status != http.StatusUnauthorized {
		t.Fatalf("userinfo with the deleted key: %d", r.status)
	}
	if r := e.introspect(exchanged); r.body["active"] != false {
		t.Fatalf("exchanged token after the key's deletion: %s", r.raw)
	}
	if r := e.exchange(secret, url.Values{"subject_token": {key}, "subject_token_type": {teAPIKey}}); r.status != 400 || r.str("error") != "invalid_token" {
		t.Fatalf("exchange of the deleted key: %d %s", r.status, r.raw)
	}
	_ = ctx
}

func TestAPIKeyFollowsCurrentRolesAndUserState(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	access := e.passwordLogin(nil).str("access_token")
	key := e.newAPIKey(access, "").str("apiKey")
	role, err := e.svc.CreateRole(ctx, "demo", store.Role{Name: "trainer"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.GrantRoles(ctx, "demo", e.alice.ID, role.ID); err != nil {
		t.Fatal(err)
	}
	if r := e.introspect(key); !strings.Contains(r.raw, `"trainer"`) {
		t.Fatalf("role granted after the key was made is missing: %s", r.raw)
	}
	if err := e.svc.RevokeRoles(ctx, "demo", e.alice.ID, role.ID); err != nil {
		t.Fatal(err)
	}
	if r := e.introspect(key); r.body["active"] != true || strings.Contains(r.raw, `"trainer"`) {
		t.Fatalf("role removed a moment ago still shows: %s", r.raw)
	}
	if _, err := e.svc.UpdateUser(ctx, "demo", e.alice.ID, func(u *store.User) error { u.Enabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if r := e.introspect(key); r.body["active"] != false {
		t.Fatalf("key of a disabled user: %s", r.raw)
	}
}

func TestAPIKeyAccountEndpointErrors(t *testing.T) {
	e := newEnv(t, withRealm(func(r *store.Realm) { r.APIKeyDefaultLifespanDays, r.APIKeyMaxLifespanDays = 7, 30 }))
	access := e.passwordLogin(nil).str("access_token")
	key := e.newAPIKey(access, `{"expiresAt":"`+e.svc.Now().AddDate(0, 0, 29).Format("2006-01-02")+`"}`).str("apiKey")
	service := e.post("token", url.Values{"grant_type": {"client_credentials"}}, "app", e.secret).str("access_token")
	for _, tc := range []struct {
		name, method, path, bearer, body string
		status                           int
		want                             string
	}{
		{"no token", "GET", "/api-keys", "", "", 401, "invalid_token"},
		{"an API key cannot make keys", "POST", "/api-keys", key, "{}", 401, "invalid_token"},
		{"beyond the realm maximum", "POST", "/api-keys", access, `{"expiresAt":"2999-01-01"}`, 400, "30 days"},
		{"not a date", "POST", "/api-keys", access, `{"expiresAt":"soon"}`, 400, "ISO 8601"},
		{"not JSON", "POST", "/api-keys", access, `{"description":`, 400, "invalid_request"},
		{"description too long", "POST", "/api-keys", access, `{"description":"` + strings.Repeat("d", 256) + `"}`, 400, "255"},
		{"a service account", "POST", "/api-keys", service, "{}", 403, "access_denied"},
		{"unknown key", "DELETE", "/api-keys/0000000000000000", access, "", 404, "not_found"},
	} {
		r := e.account(tc.method, tc.path, tc.bearer, tc.body)
		if r.status != tc.status || !strings.Contains(r.raw, tc.want) || r.str("error") == "" {
			t.Errorf("%s: %d %s, want %d with %q in an OAuth error", tc.name, r.status, r.raw, tc.status, tc.want)
		}
	}
}

func TestAPIKeyExchangeNeedsAnExchangeClient(t *testing.T) {
	e := newEnv(t)
	access := e.passwordLogin(nil).str("access_token")
	key := e.newAPIKey(access, "").str("apiKey")
	// "app" is confidential but not allowed standard token exchange.
	r := e.post("token", url.Values{"grant_type": {teGrant}, "subject_token": {key}, "subject_token_type": {teAPIKey}}, "app", e.secret)
	if r.status != 400 || r.str("error") != "unauthorized_client" {
		t.Fatalf("exchange by a client without the right: %d %s", r.status, r.raw)
	}
}
