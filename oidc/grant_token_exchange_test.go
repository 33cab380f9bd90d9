package oidc_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

const (
	teGrant     = "urn:ietf:params:oauth:grant-type:token-exchange"
	teAccess    = "urn:ietf:params:oauth:token-type:access_token"
	teJWT       = "urn:ietf:params:oauth:token-type:jwt"
	teRefreshTT = "urn:ietf:params:oauth:token-type:refresh_token"
)

// exchangeEnv adds to the demo realm a confidential client "exchanger"
// allowed standard token exchange, a client "api" as an audience, and an
// external identity provider "ext".
func exchangeEnv(t *testing.T) (*env, string, *issuer) {
	e := newEnv(t)
	ctx := context.Background()
	_, secret, err := e.svc.CreateClient(ctx, "demo", realms.NewClient{Client: store.Client{ClientID: "exchanger", Enabled: true,
		Attributes: map[string]string{"standard.token.exchange.enabled": "true"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.CreateClient(ctx, "demo", realms.NewClient{Client: store.Client{ClientID: "api", Enabled: true}}); err != nil {
		t.Fatal(err)
	}
	// Alice holds a role of "exchanger" and of "api", so her tokens name
	// both in aud (Keycloak's audience resolution).
	for _, cid := range []string{"exchanger", "api"} {
		c, _ := e.store.GetClientByClientID(ctx, mustRealmID(t, e), cid)
		role, err := e.svc.CreateRole(ctx, "demo", store.Role{Name: "use", ClientID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.GrantRoles(ctx, "demo", e.alice.ID, role.ID); err != nil {
			t.Fatal(err)
		}
	}
	ext := newIssuer(t)
	e.addIDP("demo", store.IdentityProvider{Alias: "ext", Enabled: true, Config: map[string]string{"issuer": ext.url, "jwksUrl": ext.jwks.URL}})
	e.link(e.alice.ID, "ext", "cp-alice")
	return e, secret, ext
}

// link gives the demo user userID a federated identity link to account sub
// of identity provider alias.
func (e *env) link(userID, alias, sub string) {
	e.t.Helper()
	if err := e.svc.LinkFederatedIdentity(context.Background(), "demo", userID,
		store.FederatedIdentity{IdentityProvider: alias, UserID: sub, UserName: sub}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) exchange(secret string, form url.Values) response {
	e.t.Helper()
	form.Set("grant_type", teGrant)
	return e.post("token", form, "exchanger", secret)
}

func TestTokenExchangeOwnRealm(t *testing.T) {
	e, secret, _ := exchangeEnv(t)
	subject := e.passwordLogin(nil).str("access_token")
	sc := claims(t, subject)
	r := e.exchange(secret, url.Values{"subject_token": {subject}, "subject_token_type": {teAccess}, "audience": {"api"}})
	if r.status != 200 || r.str("issued_token_type") != teAccess || r.str("token_type") != "Bearer" {
		t.Fatalf("exchange: %d %s", r.status, r.raw)
	}
	c := claims(t, r.str("access_token"))
	if c["sub"] != e.alice.ID || c["azp"] != "exchanger" || c["aud"] != "api" || c["sid"] != sc["sid"] {
		t.Errorf("exchanged claims: %v", c)
	}
	if c["exp"].(float64) > sc["exp"].(float64) {
		t.Errorf("exchanged token outlives the subject: %v > %v", c["exp"], sc["exp"])
	}
	if in := e.post("token/introspect", url.Values{"token": {r.str("access_token")}}, "app", e.secret); in.body["active"] != true {
		t.Errorf("exchanged token inactive: %s", in.raw)
	}
	// Discovery lists the grant.
	d := e.get(e.issuer()+"/.well-known/openid-configuration", "")
	found := false
	for _, g := range d.body["grant_types_supported"].([]any) {
		found = found || g == teGrant
	}
	if !found {
		t.Error("discovery does not list token exchange")
	}
}

func TestTokenExchangeExternalIssuer(t *testing.T) {
	e, secret, ext := exchangeEnv(t)
	sub := ext.token(t, "alice", 2*time.Minute)
	r := e.exchange(secret, url.Values{"subject_token": {sub}, "subject_token_type": {teJWT}, "subject_issuer": {"ext"}})
	if r.status != 200 {
		t.Fatalf("external exchange: %d %s", r.status, r.raw)
	}
	c := claims(t, r.str("access_token"))
	if c["sub"] != e.alice.ID || c["preferred_username"] != "alice" {
		t.Errorf("mapped user: %v", c)
	}
	if exp := int64(c["exp"].(float64)); exp > time.Now().Add(2*time.Minute).Unix()+1 {
		t.Errorf("exp %d beyond the subject token's", exp)
	}
	// Refresh token only where the client allows it.
	if r := e.exchange(secret, url.Values{"subject_token": {sub}, "subject_token_type": {teJWT}, "requested_token_type": {teRefreshTT}}); r.status != 400 {
		t.Errorf("refresh token without permission: %d %s", r.status, r.raw)
	}
	realmID := mustRealmID(t, e)
	c2, _ := e.store.GetClientByClientID(context.Background(), realmID, "exchanger")
	if _, err := e.svc.UpdateClient(context.Background(), "demo", c2.ID, func(c *store.Client) error {
		c.Attributes["standard.token.exchange.enableRefreshRequestedTokenType"] = "true"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r = e.exchange(secret, url.Values{"subject_token": {sub}, "subject_token_type": {teJWT}, "requested_token_type": {teRefreshTT}})
	if r.status != 200 || r.str("refresh_token") == "" || r.str("issued_token_type") != teRefreshTT {
		t.Fatalf("refresh exchange: %d %s", r.status, r.raw)
	}
	if in := r.body["refresh_expires_in"].(float64); in > 121 {
		t.Errorf("refresh token outlives the subject token: %v s", in)
	}
}

// Every rejection path of the exchange.
func TestTokenExchangeRejections(t *testing.T) {
	e, secret, ext := exchangeEnv(t)
	ctx := context.Background()
	subject := e.passwordLogin(nil).str("access_token")
	if _, _, err := e.svc.CreateClient(ctx, "demo", realms.NewClient{Client: store.Client{ClientID: "plain", Enabled: true}}); err != nil {
		t.Fatal(err)
	}
	plainID, _ := e.store.GetClientByClientID(ctx, mustRealmID(t, e), "plain")
	plainSecret, _ := e.svc.ClientSecret(ctx, "demo", plainID.ID)
	if _, _, err := e.svc.CreateClient(ctx, "demo", realms.NewClient{Client: store.Client{ClientID: "outsider", Enabled: true,
		Attributes: map[string]string{"standard.token.exchange.enabled": "true"}}}); err != nil {
		t.Fatal(err)
	}
	outsider, _ := e.store.GetClientByClientID(ctx, mustRealmID(t, e), "outsider")
	outsiderSecret, _ := e.svc.ClientSecret(ctx, "demo", outsider.ID)

	base := func(extra ...string) url.Values {
		f := url.Values{"grant_type": {teGrant}, "subject_token": {subject}, "subject_token_type": {teAccess}}
		for i := 0; i+1 < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		return f
	}
	other := newEnv(t).passwordLogin(nil).str("access_token") // another server's realm
	cases := []struct {
		name       string
		form       url.Values
		user, pass string
		status     int
		err        string
	}{
		{"public client", base("client_id", "cli"), "", "", 400, "unauthorized_client"},
		{"exchange not enabled", base(), "plain", plainSecret, 400, "unauthorized_client"},
		{"missing subject_token", base("subject_token", ""), "exchanger", secret, 400, "invalid_request"},
		{"bad subject_token_type", base("subject_token_type", "urn:x"), "exchanger", secret, 400, "invalid_request"},
		{"bad requested_token_type", base("requested_token_type", "urn:ietf:params:oauth:token-type:id_token"), "exchanger", secret, 400, "invalid_request"},
		{"garbage subject", base("subject_token", "garbage"), "exchanger", secret, 400, "invalid_token"},
		{"foreign realm subject", base("subject_token", other), "exchanger", secret, 400, "invalid_token"},
		{"requester not in audience", base(), "outsider", outsiderSecret, 403, "access_denied"},
		{"unknown audience", base("audience", "nope"), "exchanger", secret, 400, "invalid_target"},
		{"audience out of reach", base("audience", "plain"), "exchanger", secret, 400, "invalid_target"},
		{"scope widening", base("scope", "openid address"), "exchanger", secret, 400, "invalid_scope"},
		{"unknown subject_issuer", base("subject_issuer", "nope"), "exchanger", secret, 400, "invalid_request"},
		{"external user unknown", base("subject_token", ext.token(t, "nobody", time.Minute), "subject_token_type", teJWT), "exchanger", secret, 400, "invalid_grant"},
		{"external token expired", base("subject_token", ext.token(t, "alice", -time.Minute), "subject_token_type", teJWT), "exchanger", secret, 400, "invalid_token"},
		{"impersonation", base("requested_subject", "bob"), "exchanger", secret, 400, "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.post("token", c.form, c.user, c.pass)
			if r.status != c.status || r.str("error") != c.err || r.str("error_description") == "" {
				t.Errorf("got %d %s, want %d %s", r.status, r.raw, c.status, c.err)
			}
		})
	}
}

// TestTokenExchangeOfflineAccessNeedsTheRoleStill: an offline_access scope
// carried by the subject token is refused once the user has lost the
// offline_access role, as at a refresh.
func TestTokenExchangeOfflineAccessNeedsTheRoleStill(t *testing.T) {
	e, secret, _ := exchangeEnv(t)
	ctx := context.Background()
	subject := e.passwordLogin(url.Values{"scope": {"offline_access"}}).str("access_token")
	if sc := claims(t, subject)["scope"]; sc == nil || !strings.Contains(sc.(string), "offline_access") {
		t.Fatalf("subject token scope = %v", sc)
	}
	form := func() url.Values {
		return url.Values{"subject_token": {subject}, "subject_token_type": {teAccess}, "scope": {"offline_access"}}
	}
	if r := e.exchange(secret, form()); r.status != 200 {
		t.Fatalf("exchange with the role: %d %s", r.status, r.raw)
	}
	rs := e.realmState()
	if err := e.svc.RevokeRoles(ctx, "demo", e.alice.ID, rs.DefaultRoleID); err != nil {
		t.Fatal(err)
	}
	if r := e.exchange(secret, form()); r.status != 400 || r.str("error") != "not_allowed" {
		t.Errorf("exchange after the role was removed: %d %s", r.status, r.raw)
	}
}
