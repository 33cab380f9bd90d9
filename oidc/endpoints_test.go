package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse/gatehouse/store"
)

func (e *env) get(rawURL string, bearer string) response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return e.do(req)
}

func TestDiscoveryAndRealmInfo(t *testing.T) {
	e := newEnv(t)
	d := e.get(e.issuer()+"/.well-known/openid-configuration", "")
	if d.status != 200 {
		t.Fatal(d.raw)
	}
	for k, v := range map[string]string{
		"issuer":                 e.issuer(),
		"token_endpoint":         e.endpoint("token"),
		"jwks_uri":               e.endpoint("certs"),
		"introspection_endpoint": e.endpoint("token/introspect"),
		"userinfo_endpoint":      e.endpoint("userinfo"),
		"revocation_endpoint":    e.endpoint("revoke"),
		"end_session_endpoint":   e.endpoint("logout"),
	} {
		if d.str(k) != v {
			t.Errorf("%s = %q, want %q", k, d.str(k), v)
		}
	}
	info := e.get(e.issuer(), "")
	if info.status != 200 || info.str("realm") != "demo" || info.str("public_key") == "" ||
		info.str("token-service") != e.issuer()+"/protocol/openid-connect" {
		t.Errorf("realm info: %s", info.raw)
	}
	certs := e.get(e.endpoint("certs"), "")
	keys, _ := certs.body["keys"].([]any)
	if len(keys) != 1 {
		t.Fatalf("certs: %s", certs.raw)
	}
	k := keys[0].(map[string]any)
	if k["kid"] == nil || k["use"] != "sig" || k["alg"] != "RS256" || k["d"] != nil {
		t.Errorf("jwk = %v", k)
	}
}

func TestUnknownAndDisabledRealm(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/realms/nope", "/realms/nope/.well-known/openid-configuration", "/realms/../etc/passwd"} {
		if r := e.get(e.base+p, ""); r.status != 404 || r.body == nil {
			t.Errorf("%s: %d %s", p, r.status, r.raw)
		}
	}
	if _, err := e.svc.UpdateRealm(context.Background(), "demo", func(r *store.Realm) error { r.Enabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	r := e.post("token", url.Values{"grant_type": {"client_credentials"}}, "app", e.secret)
	if r.status != 403 || r.str("error") != "access_denied" || r.str("error_description") != "Realm not enabled" {
		t.Errorf("disabled realm: %d %s", r.status, r.raw)
	}
}

// Keys rotate without breaking tokens already issued: both verify, JWKS
// lists both, new tokens use the new kid.
func TestKeyRotationKeepsOldTokensValid(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	old := e.passwordLogin(nil).str("access_token")
	if _, err := e.svc.RotateKey(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	fresh := e.passwordLogin(nil).str("access_token")
	if header(t, old)["kid"] == header(t, fresh)["kid"] {
		t.Fatal("kid did not change after rotation")
	}
	provider, err := gooidc.NewProvider(ctx, e.issuer())
	if err != nil {
		t.Fatal(err)
	}
	v := provider.Verifier(&gooidc.Config{SkipClientIDCheck: true})
	for name, tok := range map[string]string{"old": old, "new": fresh} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Errorf("%s token: %v", name, err)
		}
		if r := e.post("token/introspect", url.Values{"token": {tok}}, "app", e.secret); r.body["active"] != true {
			t.Errorf("%s token inactive: %s", name, r.raw)
		}
	}
}

func TestIntrospection(t *testing.T) {
	e := newEnv(t)
	login := e.passwordLogin(nil)
	at, rt := login.str("access_token"), login.str("refresh_token")
	r := e.post("token/introspect", url.Values{"token": {at}}, "app", e.secret)
	if r.status != 200 || r.body["active"] != true || r.str("username") != "alice" || r.str("client_id") != "app" ||
		r.str("token_type") != "Bearer" || r.str("sub") != e.alice.ID {
		t.Errorf("access token: %s", r.raw)
	}
	r = e.post("token/introspect", url.Values{"token": {rt}, "token_type_hint": {"refresh_token"}}, "app", e.secret)
	if r.body["active"] != true || r.str("token_type") != "Refresh" {
		t.Errorf("refresh token: %s", r.raw)
	}
	// Anything invalid is {"active":false}.
	other := newEnv(t) // a different server and realm keys
	foreign := other.passwordLogin(nil).str("access_token")
	for name, tok := range map[string]string{
		"garbage": "not-a-token", "jwt-garbage": "a.b.c", "foreign realm": foreign,
		"tampered": at[:len(at)-4] + "AAAA", "alg none": noneToken(t, at),
	} {
		r := e.post("token/introspect", url.Values{"token": {tok}}, "app", e.secret)
		if r.status != 200 || r.raw == "" || r.body["active"] != false || len(r.body) != 1 {
			t.Errorf("%s: %d %s", name, r.status, r.raw)
		}
	}
	// Caller rules.
	if r := e.post("token/introspect", url.Values{"token": {at}, "client_id": {"cli"}}, "", ""); r.status != 403 {
		t.Errorf("public client may introspect: %d %s", r.status, r.raw)
	}
	if r := e.post("token/introspect", url.Values{"token": {at}}, "app", "wrong"); r.status != 401 {
		t.Errorf("bad secret: %d %s", r.status, r.raw)
	}
	if r := e.post("token/introspect", url.Values{}, "app", e.secret); r.status != 400 {
		t.Errorf("no token: %d %s", r.status, r.raw)
	}
}

// noneToken re-encodes a token's payload under alg "none".
func noneToken(t *testing.T, jwt string) string {
	t.Helper()
	parts := splitJWT(t, jwt)
	return "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."
}

func splitJWT(t *testing.T, jwt string) []string {
	t.Helper()
	var parts []string
	start := 0
	for i := 0; i < len(jwt); i++ {
		if jwt[i] == '.' {
			parts = append(parts, jwt[start:i])
			start = i + 1
		}
	}
	parts = append(parts, jwt[start:])
	if len(parts) != 3 {
		t.Fatalf("not a JWT")
	}
	return parts
}

func TestUserinfo(t *testing.T) {
	e := newEnv(t)
	at := e.passwordLogin(url.Values{"scope": {"openid"}}).str("access_token")
	r := e.get(e.endpoint("userinfo"), at)
	if r.status != 200 || r.str("sub") != e.alice.ID || r.str("preferred_username") != "alice" || r.str("email") != "alice@example.com" {
		t.Errorf("userinfo: %d %s", r.status, r.raw)
	}
	post := e.post("userinfo", url.Values{"access_token": {at}}, "", "")
	if post.status != 200 || post.str("sub") != e.alice.ID {
		t.Errorf("POST userinfo: %d %s", post.status, post.raw)
	}
	noOpenID := e.passwordLogin(nil).str("access_token")
	if r := e.get(e.endpoint("userinfo"), noOpenID); r.status != 403 || r.str("error") != "insufficient_scope" {
		t.Errorf("without openid: %d %s", r.status, r.raw)
	}
	for _, bad := range []string{"", "garbage", at + "x"} {
		r := e.get(e.endpoint("userinfo"), bad)
		if r.status != 401 || r.str("error") != "invalid_token" || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("token %q: %d %s", bad, r.status, r.raw)
		}
	}
}

func TestRevocation(t *testing.T) {
	e := newEnv(t)
	// Access token: inactive right after revocation.
	at := e.passwordLogin(nil).str("access_token")
	if r := e.post("revoke", url.Values{"token": {at}}, "app", e.secret); r.status != 200 {
		t.Fatalf("revoke access token: %d %s", r.status, r.raw)
	}
	if r := e.post("token/introspect", url.Values{"token": {at}}, "app", e.secret); r.body["active"] != false {
		t.Errorf("revoked access token active")
	}
	// Refresh token: its session ends.
	login := e.passwordLogin(nil)
	if r := e.post("revoke", url.Values{"token": {login.str("refresh_token")}}, "app", e.secret); r.status != 200 {
		t.Fatalf("revoke refresh token: %d %s", r.status, r.raw)
	}
	if r := e.post("token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {login.str("refresh_token")}}, "app", e.secret); r.status != 400 {
		t.Errorf("revoked refresh token works: %s", r.raw)
	}
	if r := e.post("token/introspect", url.Values{"token": {login.str("access_token")}}, "app", e.secret); r.body["active"] != false {
		t.Errorf("access token of revoked session active")
	}
	// Invalid token: 200 (RFC 7009). Another client's token: 400.
	if r := e.post("revoke", url.Values{"token": {"garbage"}}, "app", e.secret); r.status != 200 {
		t.Errorf("garbage: %d", r.status)
	}
	cliLogin := e.post("token", url.Values{"grant_type": {"password"}, "client_id": {"cli"}, "username": {"alice"}, "password": {alicePassword}}, "", "")
	if r := e.post("revoke", url.Values{"token": {cliLogin.str("refresh_token")}}, "app", e.secret); r.status != 400 || r.str("error_description") != "Unmatching clients" {
		t.Errorf("other client's token: %d %s", r.status, r.raw)
	}
	if r := e.post("revoke", url.Values{"token": {at}, "token_type_hint": {"bogus"}}, "app", e.secret); r.status != 400 || r.str("error") != "unsupported_token_type" {
		t.Errorf("bad hint: %d %s", r.status, r.raw)
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	login := e.passwordLogin(nil)
	if r := e.post("logout", url.Values{"refresh_token": {login.str("refresh_token")}}, "app", e.secret); r.status != 204 {
		t.Fatalf("logout: %d %s", r.status, r.raw)
	}
	if r := e.post("token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {login.str("refresh_token")}}, "app", e.secret); r.status != 400 {
		t.Errorf("refresh after logout: %d", r.status)
	}
	if r := e.post("logout", url.Values{}, "app", e.secret); r.status != 400 || r.str("error_description") != "No refresh token" {
		t.Errorf("no token: %d %s", r.status, r.raw)
	}
}

// Old Keycloak URLs under /auth work end to end.
func TestRelativePath(t *testing.T) {
	e := newEnv(t, withRelativePath("/auth"))
	cc := clientcredentials.Config{ClientID: "app", ClientSecret: e.secret, TokenURL: e.endpoint("token")}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if iss := claims(t, tok.AccessToken)["iss"]; iss != e.srv.URL+"/auth/realms/demo" {
		t.Errorf("iss = %v", iss)
	}
	if _, err := gooidc.NewProvider(context.Background(), e.issuer()); err != nil {
		t.Error(err)
	}
	if r := e.get(e.srv.URL+"/realms/demo", ""); r.status != 404 {
		t.Errorf("root path served with a relative path set: %d", r.status)
	}
	if r := e.get(e.srv.URL+"/auth/health/ready", ""); r.status != 200 {
		t.Errorf("health under /auth: %d", r.status)
	}
}
