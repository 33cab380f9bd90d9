package oidc_test

import (
	"context"
	"net/url"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2/clientcredentials"
)

// A confidential client gets a service-account token with x/oauth2's
// clientcredentials, verifiable with go-oidc against discovery + JWKS, in
// every signature algorithm a realm may use.
func TestClientCredentialsWithOAuth2Library(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t, withAlgorithm(alg))
			ctx := context.Background()
			cc := clientcredentials.Config{ClientID: "app", ClientSecret: e.secret, TokenURL: e.endpoint("token")}
			tok, err := cc.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tok.RefreshToken != "" {
				t.Errorf("client_credentials issued a refresh token")
			}
			provider, err := gooidc.NewProvider(ctx, e.issuer())
			if err != nil {
				t.Fatal(err)
			}
			v := provider.VerifierContext(ctx, &gooidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: []string{alg}})
			if _, err := v.Verify(ctx, tok.AccessToken); err != nil {
				t.Fatalf("go-oidc rejects the access token: %v", err)
			}
			c := claims(t, tok.AccessToken)
			sa, err := e.svc.ServiceAccount(ctx, mustRealmID(t, e), e.app)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]any{
				"typ": "Bearer", "azp": "app", "client_id": "app", "iss": e.issuer(),
				"preferred_username": "service-account-app", "sub": sa.ID, "scope": "profile email",
			}
			for k, v := range want {
				if c[k] != v {
					t.Errorf("claim %s = %v, want %v", k, c[k], v)
				}
			}
			if _, ok := c["sid"]; ok {
				t.Errorf("client_credentials token has a sid")
			}
			if h := header(t, tok.AccessToken); h["kid"] == nil || h["alg"] != alg {
				t.Errorf("header = %v", h)
			}
		})
	}
}

func mustRealmID(t testing.TB, e *env) string {
	t.Helper()
	st, err := e.svc.Realm(context.Background(), e.realm)
	if err != nil {
		t.Fatal(err)
	}
	return st.Realm.ID
}

// Keycloak's client_credentials answer: no refresh token, refresh_expires_in
// 0, no session_state, Cache-Control no-store; with Basic and with the
// client_secret_post form alike.
func TestClientCredentialsResponseShape(t *testing.T) {
	e := newEnv(t)
	for name, r := range map[string]response{
		"basic": e.post("token", url.Values{"grant_type": {"client_credentials"}}, "app", e.secret),
		"post":  e.post("token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "client_secret": {e.secret}}, "", ""),
	} {
		t.Run(name, func(t *testing.T) {
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q", got)
			}
			if r.body["token_type"] != "Bearer" || r.body["expires_in"] != float64(300) || r.body["refresh_expires_in"] != float64(0) {
				t.Errorf("body = %v", r.body)
			}
			for _, absent := range []string{"refresh_token", "session_state", "id_token"} {
				if _, ok := r.body[absent]; ok {
					t.Errorf("%s present", absent)
				}
			}
			if _, ok := r.body["not-before-policy"]; !ok {
				t.Errorf("not-before-policy missing")
			}
		})
	}
}
