package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// Every token-endpoint error of Keycloak 26 that applies to the password,
// client_credentials and refresh_token grants: status, error and
// error_description exactly as Keycloak 26 answers, with Cache-Control
// no-store on every one.
func TestTokenEndpointKeycloakErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mk := func(c store.Client) (store.Client, string) {
		t.Helper()
		c.Enabled = !strings.HasPrefix(c.ClientID, "disabled")
		got, secret, err := e.svc.CreateClient(ctx, "demo", realms.NewClient{Client: c})
		if err != nil {
			t.Fatal(err)
		}
		return got, secret
	}
	_, disabledSecret := mk(store.Client{ClientID: "disabled-app", DirectAccessGrantsEnabled: true})
	_, bearerSecret := mk(store.Client{ClientID: "bearer", BearerOnly: true})
	_, noDirectSecret := mk(store.Client{ClientID: "no-direct", ServiceAccountsEnabled: true})
	_, consentSecret := mk(store.Client{ClientID: "consent", DirectAccessGrantsEnabled: true, ConsentRequired: true})
	_, noSASecret := mk(store.Client{ClientID: "no-sa", DirectAccessGrantsEnabled: true})
	saOff, saOffSecret := mk(store.Client{ClientID: "sa-off", ServiceAccountsEnabled: true})
	expired, expiredSecret := mk(store.Client{ClientID: "expired-secret", ServiceAccountsEnabled: true})

	realmID := mustRealmID(t, e)
	sa, err := e.svc.ServiceAccount(ctx, realmID, saOff)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UpdateUser(ctx, realmID, sa.ID, func(u *store.User) error { u.Enabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UpdateClient(ctx, realmID, expired.ID, func(c *store.Client) error {
		c.Secret.ExpiresAt = time.Now().Add(-time.Second)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	mkUser := func(name string, enabled, temporary bool) {
		t.Helper()
		if _, err := e.svc.CreateUser(ctx, "demo", realms.NewUser{User: store.User{Username: name, Enabled: enabled},
			Password: "pw-" + name, Temporary: temporary}); err != nil {
			t.Fatal(err)
		}
	}
	mkUser("bob-disabled", false, false)
	mkUser("carol-temp", true, true)
	cliRefresh := e.post("token", url.Values{"grant_type": {"password"}, "client_id": {"cli"},
		"username": {"alice"}, "password": {alicePassword}}, "", "").str("refresh_token")

	type row struct {
		name       string
		form       url.Values
		user, pass string // Basic credentials
		status     int
		err, desc  string
	}
	pw := func(extra ...string) url.Values {
		f := url.Values{"grant_type": {"password"}}
		for i := 0; i+1 < len(extra); i += 2 {
			f.Add(extra[i], extra[i+1])
		}
		return f
	}
	rows := []row{
		{"no grant_type", url.Values{"username": {"alice"}}, "app", e.secret, 400, "invalid_request", "Missing form parameter: grant_type"},
		{"unknown grant", url.Values{"grant_type": {"urn:x:magic"}}, "app", e.secret, 400, "unsupported_grant_type", "Unsupported grant_type"},
		{"authorization_code with standard flow off", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, "app", e.secret, 400, "unauthorized_client", "Client not allowed to exchange code"},
		{"duplicated parameter", pw("username", "alice", "username", "bob", "password", "x"), "app", e.secret, 400, "invalid_request", "duplicated parameter"},
		{"no client_id", pw("username", "alice", "password", alicePassword), "", "", 400, "invalid_client", "Missing client_id parameter"},
		{"unknown client", pw("username", "alice", "password", alicePassword), "nobody", "x", 401, "invalid_client", "Invalid client or Invalid client credentials"},
		{"disabled client", pw("username", "alice", "password", alicePassword), "disabled-app", disabledSecret, 401, "invalid_client", "Invalid client or Invalid client credentials"},
		{"wrong secret", pw("username", "alice", "password", alicePassword), "app", "wrong", 401, "unauthorized_client", "Invalid client or Invalid client credentials"},
		{"missing secret", pw("username", "alice", "password", alicePassword, "client_id", "app"), "", "", 401, "unauthorized_client", "Invalid client or Invalid client credentials"},
		{"expired secret", url.Values{"grant_type": {"client_credentials"}}, "expired-secret", expiredSecret, 401, "unauthorized_client", "Invalid client or Invalid client credentials"},
		{"bearer-only client", pw("username", "alice", "password", alicePassword), "bearer", bearerSecret, 400, "invalid_client", "Bearer-only not allowed"},
		{"direct grants off", pw("username", "alice", "password", alicePassword), "no-direct", noDirectSecret, 400, "unauthorized_client", "Client not allowed for direct access grants"},
		{"consent required", pw("username", "alice", "password", alicePassword), "consent", consentSecret, 400, "invalid_client", "Client requires user consent"},
		{"no username", pw("password", alicePassword), "app", e.secret, 401, "invalid_request", "Missing parameter: username"},
		{"unknown user", pw("username", "nobody", "password", "x"), "app", e.secret, 400, "invalid_grant", "Invalid user credentials"},
		{"service-account user", pw("username", "service-account-app", "password", "x"), "app", e.secret, 400, "invalid_grant", "Invalid user credentials"},
		{"wrong password", pw("username", "alice", "password", "nope"), "app", e.secret, 401, "invalid_grant", "Invalid user credentials"},
		{"missing password", pw("username", "alice"), "app", e.secret, 401, "invalid_grant", "Invalid user credentials"},
		{"disabled user", pw("username", "bob-disabled", "password", "pw-bob-disabled"), "app", e.secret, 400, "invalid_grant", "Account disabled"},
		{"temporary password", pw("username", "carol-temp", "password", "pw-carol-temp"), "app", e.secret, 400, "invalid_grant", "Account is not fully set up"},
		{"invalid scope", pw("username", "alice", "password", alicePassword, "scope", "openid bogus"), "app", e.secret, 400, "invalid_scope", "Invalid scopes: openid bogus"}, // Keycloak echoes the whole parameter,
		{"cc public client", url.Values{"grant_type": {"client_credentials"}, "client_id": {"cli"}}, "", "", 401, "unauthorized_client", "Public client not allowed to retrieve service account"},
		{"cc service accounts off", url.Values{"grant_type": {"client_credentials"}}, "no-sa", noSASecret, 401, "unauthorized_client", "Client not enabled to retrieve service account"},
		{"cc service-account user disabled", url.Values{"grant_type": {"client_credentials"}}, "sa-off", saOffSecret, 401, "invalid_request", "User 'service-account-sa-off' disabled"},
		{"no refresh_token", url.Values{"grant_type": {"refresh_token"}}, "app", e.secret, 400, "invalid_request", "No refresh token"},
		{"malformed refresh token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"garbage"}}, "app", e.secret, 400, "invalid_grant", "Invalid refresh token"},
		{"oversized refresh token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {strings.Repeat("a", 4000)}}, "app", e.secret, 400, "invalid_grant", "Invalid refresh token"},
		{"refresh token of another client", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {cliRefresh}}, "app", e.secret, 400, "invalid_grant", "Invalid refresh token. Token client and authorized client don't match"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			got := e.post("token", r.form, r.user, r.pass)
			if got.status != r.status || got.str("error") != r.err || got.str("error_description") != r.desc {
				t.Errorf("got %d %s\nwant %d {error:%s error_description:%s}", got.status, got.raw, r.status, r.err, r.desc)
			}
			if cc := got.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q", cc)
			}
		})
	}
}

// A refresh token past its idle timeout answers "Token is not active".
func TestRefreshTokenExpired(t *testing.T) {
	e := newEnv(t, withRealm(func(r *store.Realm) { r.SSOSessionIdleTimeout = 1 }))
	rt := e.passwordLogin(nil).str("refresh_token")
	e.clock.advance(2 * time.Second)
	r := e.post("token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "app", e.secret)
	if r.status != 400 || r.str("error") != "invalid_grant" || r.str("error_description") != "Token is not active" {
		t.Errorf("got %d %s", r.status, r.raw)
	}
}

// Malformed requests get spec-shaped errors, never a 500.
func TestTokenEndpointBadInput(t *testing.T) {
	e := newEnv(t)
	send := func(method, ctype, body string, hdr map[string]string) response {
		req, err := http.NewRequest(method, e.endpoint("token"), strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		return e.do(req)
	}
	form := "application/x-www-form-urlencoded"
	cases := []struct {
		name          string
		method, ctype string
		body          string
		hdr           map[string]string
		status        int
		err           string
	}{
		{"GET", http.MethodGet, "", "", nil, 405, "invalid_request"},
		{"JSON body", http.MethodPost, "application/json", `{"grant_type":"password"}`, nil, 400, "invalid_request"},
		{"no content type", http.MethodPost, "", "grant_type=password", nil, 400, "invalid_request"},
		{"body over 64 KiB", http.MethodPost, form, "grant_type=password&x=" + strings.Repeat("a", 70<<10), nil, 413, "invalid_request"},
		{"invalid UTF-8", http.MethodPost, form, "grant_type=password&username=%ff%fe", nil, 400, "invalid_request"},
		{"malformed escape", http.MethodPost, form, "grant_type=%zz", nil, 400, "invalid_request"},
		{"malformed Basic", http.MethodPost, form, "grant_type=client_credentials", map[string]string{"Authorization": "Basic !!!"}, 400, "invalid_request"},
		{"Basic without colon", http.MethodPost, form, "grant_type=client_credentials", map[string]string{"Authorization": "Basic YXBw"}, 400, "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := send(c.method, c.ctype, c.body, c.hdr)
			if r.status != c.status || r.str("error") != c.err || r.str("error_description") == "" {
				t.Errorf("got %d %s, want %d %s", r.status, r.raw, c.status, c.err)
			}
		})
	}
}
