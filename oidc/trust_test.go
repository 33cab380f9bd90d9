package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// tenantRealm creates a realm run by another tenant, with a public client
// "cli" and a user of the given name who logs in with password "tenant-Pass-1".
func (e *env) tenantRealm(name, username string) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.svc.CreateRealm(ctx, store.Realm{Name: name, Enabled: true}); err != nil {
		e.t.Fatal(err)
	}
	if _, _, err := e.svc.CreateClient(ctx, name, realms.NewClient{Client: store.Client{ClientID: "cli", Enabled: true,
		PublicClient: true, DirectAccessGrantsEnabled: true}}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.svc.CreateUser(ctx, name, realms.NewUser{User: store.User{Username: username, Enabled: true},
		Password: "tenant-Pass-1"}); err != nil {
		e.t.Fatal(err)
	}
}

// tenantLogin runs the password grant at realm, sending Host: host when
// given (the server has no --hostname, so the host becomes the token's iss).
func (e *env) tenantLogin(realm, username, host string) response {
	e.t.Helper()
	req := mustReq(e.t, http.MethodPost, e.base+"/realms/"+realm+"/protocol/openid-connect/token",
		url.Values{"grant_type": {"password"}, "client_id": {"cli"}, "username": {username}, "password": {"tenant-Pass-1"}})
	if host != "" {
		req.Host = host
	}
	r := e.do(req)
	if r.status != 200 {
		e.t.Fatalf("login at %s: %d %s", realm, r.status, r.raw)
	}
	return r
}

// withHost sends req with Host: host.
func (e *env) doWithHost(req *http.Request, host string) response {
	e.t.Helper()
	if host != "" {
		req.Host = host
	}
	return e.do(req)
}

// The rename/Host attack: a tenant admin renames their realm to the name of a
// trusted provider's realm and mints a token with Host: set to the provider's
// host. The token then carries the provider's iss, but no key of the provider
// signed it, so neither a bearer topology nor token exchange may accept it,
// whatever Host the presenting request sends. The provider's own token with
// the same claims is the control: it is accepted.
func TestTrustRenamedRealmWithProviderHostIsRefused(t *testing.T) {
	e, secret, _ := exchangeEnv(t)
	ctx := context.Background()
	const corpHost = "corp.example.test"
	corp := newIssuer(t)
	corp.url = "http://" + corpHost + "/realms/corp"
	e.addIDP("demo", store.IdentityProvider{Alias: "corp", Enabled: true, Config: map[string]string{
		"issuer": corp.url, "jwksUrl": corp.jwks.URL, "principalClaim": "preferred_username"}})
	e.putTopology(store.Topology{Name: "cdptkn", Realm: "demo", Authentication: "bearer", TTL: "PT1H"})

	e.tenantRealm("tenant", "alice")
	if _, err := e.svc.UpdateRealm(ctx, "tenant", func(r *store.Realm) error { r.Name = "corp"; return nil }); err != nil {
		t.Fatal(err)
	}
	forged := e.tenantLogin("corp", "alice", corpHost).str("access_token")
	if iss := claims(t, forged)["iss"]; iss != corp.url {
		t.Fatalf("setup: forged token's iss %v, want the provider's %s", iss, corp.url)
	}
	genuine := corp.sign(t, map[string]any{"iss": corp.url, "sub": "corp-alice", "preferred_username": "alice",
		"exp": time.Now().Add(time.Minute).Unix(), "iat": time.Now().Unix()})

	for _, host := range []string{"", corpHost} {
		knox := func(tok string) response {
			req, _ := http.NewRequest(http.MethodGet, e.gateway("cdptkn", "token"), nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			return e.doWithHost(req, host)
		}
		exchange := func(tok string) response {
			req := mustReq(t, http.MethodPost, e.endpoint("token"), url.Values{"grant_type": {teGrant},
				"subject_token": {tok}, "subject_token_type": {teJWT}})
			req.SetBasicAuth("exchanger", secret)
			return e.doWithHost(req, host)
		}
		if r := knox(forged); r.status != 401 || r.str("error") != "invalid_token" {
			t.Errorf("Host %q: renamed tenant realm's token accepted at the bearer topology: %d %s", host, r.status, r.raw)
		}
		if r := exchange(forged); r.status != 400 || r.str("error") != "invalid_token" {
			t.Errorf("Host %q: renamed tenant realm's token exchanged: %d %s", host, r.status, r.raw)
		}
		if r := knox(genuine); r.status != 200 || claims(t, r.str("access_token"))["sub"] != "alice" {
			t.Errorf("Host %q: provider's own token at the bearer topology: %d %s", host, r.status, r.raw)
		}
		if r := exchange(genuine); r.status != 200 || claims(t, r.str("access_token"))["sub"] != e.alice.ID {
			t.Errorf("Host %q: exchange of the provider's own token: %d %s", host, r.status, r.raw)
		}
	}
}

// A same-server provider is trusted by its realm's identity, fixed when the
// identity provider is configured: once the provider realm is renamed, a
// tenant realm renamed to the provider's old name gets the old issuer URL,
// yet its tokens are not the provider's.
func TestTrustSameServerProviderFollowsRealmIDNotName(t *testing.T) {
	e, secret, _ := exchangeEnv(t)
	ctx := context.Background()
	e.tenantRealm("cp", "alice")
	e.addIDP("demo", store.IdentityProvider{Alias: "cp", Enabled: true, Config: map[string]string{
		"issuer": e.base + "/realms/cp", "principalClaim": "preferred_username"}})
	e.putTopology(store.Topology{Name: "cdptkn", Realm: "demo", Authentication: "bearer", TTL: "PT1H"})
	genuine := e.tenantLogin("cp", "alice", "").str("access_token")
	if r := e.knox(http.MethodGet, e.gateway("cdptkn", "token"), "", "", genuine, ""); r.status != 200 {
		t.Fatalf("provider realm's token: %d %s", r.status, r.raw)
	}

	if _, err := e.svc.UpdateRealm(ctx, "cp", func(r *store.Realm) error { r.Name = "cp-old"; return nil }); err != nil {
		t.Fatal(err)
	}
	e.tenantRealm("tenant", "alice")
	if _, err := e.svc.UpdateRealm(ctx, "tenant", func(r *store.Realm) error { r.Name = "cp"; return nil }); err != nil {
		t.Fatal(err)
	}
	forged := e.tenantLogin("cp", "alice", "").str("access_token")
	if !strings.HasSuffix(claims(t, forged)["iss"].(string), "/realms/cp") {
		t.Fatalf("setup: %v", claims(t, forged)["iss"])
	}
	if r := e.knox(http.MethodGet, e.gateway("cdptkn", "token"), "", "", forged, ""); r.status != 401 {
		t.Errorf("tenant realm renamed to the provider's old name accepted at the bearer topology: %d %s", r.status, r.raw)
	}
	r := e.exchange(secret, url.Values{"subject_token": {forged}, "subject_token_type": {teJWT}})
	if r.status != 400 || r.str("error") != "invalid_token" {
		t.Errorf("tenant realm renamed to the provider's old name exchanged: %d %s", r.status, r.raw)
	}
}

// A provider's token speaks for a user of the trusting realm only through an
// explicit mapping: a federated identity link (by the provider's sub) or the
// provider's opt-in principal claim. It never speaks for the provider realm's
// user, a disabled or missing user, or an admin unless the provider allows
// it; exchange answers with OAuth errors and bearer topologies with Knox's
// 401, each saying why.
func TestTrustProviderTokenMapsOnlyThroughExplicitMapping(t *testing.T) {
	e, secret, ext := exchangeEnv(t)
	ctx := context.Background()
	e.tenantRealm("cp", "alice")
	cpAlice, err := e.svc.Store().GetUserByUsername(ctx, func() string {
		st, _ := e.svc.Realm(ctx, "cp")
		return st.Realm.ID
	}(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	e.addIDP("demo", store.IdentityProvider{Alias: "cp", Enabled: true, Config: map[string]string{"issuer": e.base + "/realms/cp"}})
	e.putTopology(store.Topology{Name: "cdptkn", Realm: "demo", Authentication: "bearer", TTL: "PT1H"})
	bob, err := e.svc.CreateUser(ctx, "demo", realms.NewUser{User: store.User{Username: "bob", Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	cpToken := e.tenantLogin("cp", "alice", "").str("access_token")
	bobToken := ext.token(t, "bob", 2*time.Minute)
	setIDP := func(alias, key, value string) func() {
		return func() {
			if _, err := e.svc.UpdateIdentityProvider(ctx, "demo", alias, func(p *store.IdentityProvider) error {
				p.Config[key] = value
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	setEnabled := func(id string, on bool) func() {
		return func() {
			if _, err := e.svc.UpdateUser(ctx, "demo", id, func(u *store.User) error { u.Enabled = on; return nil }); err != nil {
				t.Fatal(err)
			}
		}
	}
	steps := []struct {
		name   string
		change func()
		token  string
		// wantUser is the demo user the token must speak for, else wantErr
		// the reason it is refused.
		wantUser *store.User
		wantErr  string
	}{
		{"same-server provider, same username, no link", func() {}, cpToken, nil, "No user found"},
		{"external provider, same username, no link", func() {}, bobToken, nil, "No user found"},
		{"linked by the provider's sub", func() { e.link(e.alice.ID, "cp", cpAlice.ID) }, cpToken, &e.alice, ""},
		{"linked user disabled", setEnabled(e.alice.ID, false), cpToken, nil, "User disabled"},
		{"linked user enabled again", setEnabled(e.alice.ID, true), cpToken, &e.alice, ""},
		{"principal claim opt-in", setIDP("ext", realms.IDPPrincipalClaim, "preferred_username"), bobToken, &bob, ""},
		{"mapped user holds admin rights", func() { apitest.GrantRealmManagement(t, e.svc, e.store, "demo", bob.ID, "view-users") }, bobToken, nil,
			"The identity provider may not act for a user with admin rights"},
		{"provider allows admin mapping", setIDP("ext", realms.IDPAllowAdminMapping, "true"), bobToken, &bob, ""},
		{"principal claim names a missing user", func() {}, ext.token(t, "nobody", time.Minute), nil, "No user found"},
		{"principal claim names a service account", func() {}, ext.token(t, "service-account-app", time.Minute), nil, "No user found"},
	}
	for _, st := range steps {
		st.change()
		r := e.exchange(secret, url.Values{"subject_token": {st.token}, "subject_token_type": {teJWT}})
		k := e.knox(http.MethodGet, e.gateway("cdptkn", "token"), "", "", st.token, "")
		if st.wantUser != nil {
			if r.status != 200 || claims(t, r.str("access_token"))["sub"] != st.wantUser.ID {
				t.Errorf("%s: exchange %d %s, want a token for %s", st.name, r.status, r.raw, st.wantUser.ID)
			}
			if k.status != 200 || claims(t, k.str("access_token"))["sub"] != st.wantUser.Username {
				t.Errorf("%s: bearer topology %d %s, want a token for %s", st.name, k.status, k.raw, st.wantUser.Username)
			}
			continue
		}
		if r.status != 400 || r.str("error") != "invalid_grant" || r.str("error_description") != st.wantErr {
			t.Errorf("%s: exchange %d %s, want invalid_grant %q", st.name, r.status, r.raw, st.wantErr)
		}
		if k.status != 401 || k.str("error") != "invalid_token" || k.str("error_description") != st.wantErr ||
			!strings.HasPrefix(k.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: bearer topology %d %s, want 401 %q", st.name, k.status, k.raw, st.wantErr)
		}
	}
}

// Exchange of a provider's token reaches the same audiences as an own
// token's: the requesting client and the subject token's aud, never another
// client of the realm (realm-management included).
func TestTokenExchangeProviderTokenAudience(t *testing.T) {
	e, secret, ext := exchangeEnv(t)
	plain := ext.token(t, "alice", time.Minute)
	withAud := ext.sign(t, map[string]any{"iss": ext.url, "sub": "cp-alice", "aud": []string{"api"},
		"exp": time.Now().Add(time.Minute).Unix()})
	for _, c := range []struct {
		name, token, audience string
		ok                    bool
	}{
		{"the requesting client", plain, "exchanger", true},
		{"a client in the provider token's aud", withAud, "api", true},
		{"a client outside its aud", plain, "api", false},
		{"realm-management", plain, realms.RealmManagementClientID, false},
		{"realm-management with another aud", withAud, realms.RealmManagementClientID, false},
	} {
		r := e.exchange(secret, url.Values{"subject_token": {c.token}, "subject_token_type": {teJWT}, "audience": {c.audience}})
		switch {
		case c.ok && (r.status != 200 || !strings.Contains(r.raw, "access_token")):
			t.Errorf("%s: %d %s", c.name, r.status, r.raw)
		case !c.ok && (r.status != 400 || r.str("error") != "invalid_target"):
			t.Errorf("%s: %d %s, want invalid_target", c.name, r.status, r.raw)
		}
	}
}
