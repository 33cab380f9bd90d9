package oidc_test

import (
	"context"
	"net/url"
	"slices"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/store"
)

// The password grant through x/oauth2's PasswordCredentialsToken, with
// scope openid: the ID token verifies with go-oidc's IDTokenVerifier and its
// at_hash matches; the access token carries Keycloak's claims with sub = the
// user's stable ID.
func TestPasswordGrantWithOAuth2Library(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t, withAlgorithm(alg))
			ctx := context.Background()
			provider, err := gooidc.NewProvider(ctx, e.issuer())
			if err != nil {
				t.Fatal(err)
			}
			conf := oauth2.Config{ClientID: "app", ClientSecret: e.secret, Endpoint: provider.Endpoint(),
				Scopes: []string{gooidc.ScopeOpenID}}
			tok, err := conf.PasswordCredentialsToken(ctx, "alice", alicePassword)
			if err != nil {
				t.Fatal(err)
			}
			rawID, _ := tok.Extra("id_token").(string)
			if rawID == "" {
				t.Fatal("no id_token for scope openid")
			}
			idt, err := provider.VerifierContext(ctx, &gooidc.Config{ClientID: "app", SupportedSigningAlgs: []string{alg}}).Verify(ctx, rawID)
			if err != nil {
				t.Fatalf("ID token: %v", err)
			}
			if idt.Subject != e.alice.ID {
				t.Errorf("id_token sub = %q, want %q", idt.Subject, e.alice.ID)
			}
			if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
				t.Errorf("at_hash: %v", err)
			}
			c := claims(t, tok.AccessToken)
			for k, v := range map[string]any{
				"sub": e.alice.ID, "typ": "Bearer", "azp": "app", "preferred_username": "alice",
				"email": "alice@example.com", "name": "Alice Liddell", "given_name": "Alice",
				"family_name": "Liddell", "email_verified": true, "scope": "openid profile email",
				"iss": e.issuer(),
			} {
				if c[k] != v {
					t.Errorf("claim %s = %v, want %v", k, c[k], v)
				}
			}
			if c["sid"] == nil || c["sid"] != tok.Extra("session_state") {
				t.Errorf("sid %v vs session_state %v", c["sid"], tok.Extra("session_state"))
			}
			roles := realmRoles(c)
			for _, want := range []string{"default-roles-demo", "offline_access", "uma_authorization"} {
				if !slices.Contains(roles, want) {
					t.Errorf("realm_access.roles = %v, missing %s", roles, want)
				}
			}
			if tok.RefreshToken == "" {
				t.Error("no refresh token")
			}
		})
	}
}

func realmRoles(c map[string]any) []string {
	ra, _ := c["realm_access"].(map[string]any)
	rs, _ := ra["roles"].([]any)
	var out []string
	for _, r := range rs {
		out = append(out, r.(string))
	}
	return out
}

// Without scope=openid there is no ID token, and the public client logs in
// with client_id alone.
func TestPasswordGrantPublicClientNoOpenID(t *testing.T) {
	e := newEnv(t)
	r := e.post("token", url.Values{"grant_type": {"password"}, "client_id": {"cli"},
		"username": {"alice"}, "password": {alicePassword}}, "", "")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if _, ok := r.body["id_token"]; ok {
		t.Error("id_token without openid scope")
	}
	if r.str("refresh_token") == "" || r.str("session_state") == "" || r.body["refresh_expires_in"] != float64(1800) {
		t.Errorf("body = %v", r.body)
	}
	if claims(t, r.str("access_token"))["azp"] != "cli" {
		t.Error("azp is not the public client")
	}
}

// Client attribute access.token.lifespan overrides the realm lifespan.
func TestAccessTokenLifespanAttribute(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.UpdateClient(context.Background(), "demo", e.app.ID, func(c *store.Client) error {
		c.Attributes = map[string]string{"access.token.lifespan": "3600"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r := e.passwordLogin(nil)
	if r.body["expires_in"] != float64(3600) {
		t.Fatalf("expires_in = %v", r.body["expires_in"])
	}
	c := claims(t, r.str("access_token"))
	if got := c["exp"].(float64) - c["iat"].(float64); got != 3600 {
		t.Errorf("exp-iat = %v", got)
	}
}
