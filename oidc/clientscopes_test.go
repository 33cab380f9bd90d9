package oidc_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

func (e *env) realmState() store.Realm {
	e.t.Helper()
	st, err := e.svc.Realm(context.Background(), e.realm)
	if err != nil {
		e.t.Fatal(err)
	}
	return st.Realm
}

func (e *env) scopeID(name string) string {
	e.t.Helper()
	cs, err := e.svc.ClientScopeByName(context.Background(), e.realmState().ID, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return cs.ID
}

// TestScopeParameterSelectsOptionalScopes: an optional scope applies only
// when requested, with its mappers; default scopes always apply; a scope
// the client does not have is Keycloak's invalid_scope.
func TestScopeParameterSelectsOptionalScopes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.UpdateUser(ctx, "demo", e.alice.ID, func(u *store.User) error {
		u.Attributes = map[string][]string{"phoneNumber": {"+31 6 1234"}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		scope     string
		wantScope string
		phone     bool
		upn       bool
	}{
		{"", "profile email", false, false},
		{"openid", "openid profile email", false, false},
		{"phone", "phone profile email", true, false},
		{"openid phone microprofile-jwt", "openid phone microprofile-jwt profile email", true, true},
		{"roles email", "profile email", false, false}, // defaults may be named
	} {
		r := e.passwordLogin(url.Values{"scope": {tc.scope}})
		c := claims(t, r.str("access_token"))
		if r.str("scope") != tc.wantScope || c["scope"] != tc.wantScope {
			t.Errorf("scope %q: response %q claim %v, want %q", tc.scope, r.str("scope"), c["scope"], tc.wantScope)
		}
		if _, ok := c["phone_number"]; ok != tc.phone {
			t.Errorf("scope %q: phone_number present %v, want %v", tc.scope, ok, tc.phone)
		}
		if _, ok := c["upn"]; ok != tc.upn {
			t.Errorf("scope %q: upn present %v, want %v", tc.scope, ok, tc.upn)
		}
		if tc.upn && c["upn"] != "alice" {
			t.Errorf("upn = %v", c["upn"])
		}
	}
	r := e.post("token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {alicePassword},
		"scope": {"openid bogus"}}, "app", e.secret)
	if r.status != 400 || r.str("error") != "invalid_scope" || r.str("error_description") != "Invalid scopes: openid bogus" {
		t.Errorf("unknown scope: %d %s", r.status, r.raw)
	}
	// A scope removed from the client's optional scopes can no longer be
	// requested.
	if err := e.svc.SetClientScope(ctx, e.realm, e.app.ID, e.scopeID("phone"), true, false); err != nil {
		t.Fatal(err)
	}
	r = e.post("token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {alicePassword},
		"scope": {"phone"}}, "app", e.secret)
	if r.status != 400 || r.str("error") != "invalid_scope" {
		t.Errorf("removed scope: %d %s", r.status, r.raw)
	}
}

// TestOfflineAccessScopeNeedsTheRole keeps the offline_access rule: the
// scope is optional, and asking for it without the role is refused.
func TestOfflineAccessScopeNeedsTheRole(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	bob, err := e.svc.CreateUser(ctx, "demo", realms.NewUser{User: store.User{Username: "bob", Enabled: true}, Password: "bob-Secret-1"})
	if err != nil {
		t.Fatal(err)
	}
	rs := e.realmState()
	if err := e.svc.RevokeRoles(ctx, "demo", bob.ID, rs.DefaultRoleID); err != nil {
		t.Fatal(err)
	}
	r := e.post("token", url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {"bob-Secret-1"},
		"scope": {"offline_access"}}, "app", e.secret)
	if r.status != 400 {
		t.Errorf("offline_access without the role: %d %s", r.status, r.raw)
	}
	r = passwordAs(e, url.Values{"scope": {"offline_access"}})
	if r.str("scope") != "offline_access profile email" {
		t.Errorf("offline scope = %q", r.str("scope"))
	}
}

// TestDefaultScopeChangesTheClaims: removing a default scope from a client
// removes its claims, and include.in.token.scope=false hides a scope from
// the scope claim while its mappers still run.
func TestDefaultScopeChangesTheClaims(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.svc.SetClientScope(ctx, e.realm, e.app.ID, e.scopeID("email"), false, false); err != nil {
		t.Fatal(err)
	}
	c := claims(t, e.passwordLogin(nil).str("access_token"))
	if _, ok := c["email"]; ok {
		t.Errorf("email claim without the email scope: %v", c)
	}
	if c["scope"] != "profile" || c["preferred_username"] != "alice" {
		t.Errorf("claims = %v", c)
	}
	if _, err := e.svc.UpdateClientScope(ctx, e.realm, e.scopeID("profile"), func(cs *store.ClientScope) error {
		cs.Attributes[realms.AttrIncludeInTokenScope] = "false"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c = claims(t, e.passwordLogin(nil).str("access_token"))
	if c["scope"] != "" || c["name"] != "Alice Liddell" {
		t.Errorf("hidden profile scope: %v", c)
	}
	// Removing the roles scope removes realm_access, resource_access and
	// the resolved audience.
	if err := e.svc.SetClientScope(ctx, e.realm, e.app.ID, e.scopeID("roles"), false, false); err != nil {
		t.Fatal(err)
	}
	c = claims(t, e.passwordLogin(nil).str("access_token"))
	if _, ok := c["realm_access"]; ok {
		t.Errorf("realm_access without the roles scope: %v", c)
	}
}

// TestClientMappersAddClaims: a client's own mappers run on its tokens,
// userinfo and ID token per their flags.
func TestClientMappersAddClaims(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.AddMappers(ctx, e.realm, realms.MapperOwner{ClientUUID: e.app.ID},
		store.ProtocolMapper{Name: "tenant", ProtocolMapper: realms.MapperHardcodedClaim, Config: map[string]string{
			"claim.name": "org.tenant", "claim.value": "acme", "access.token.claim": "true", "userinfo.token.claim": "true"}},
		store.ProtocolMapper{Name: "aud", ProtocolMapper: realms.MapperAudience, Config: map[string]string{
			"included.custom.audience": "https://api.example", "access.token.claim": "true"}},
	); err != nil {
		t.Fatal(err)
	}
	r := e.passwordLogin(url.Values{"scope": {"openid"}})
	c := claims(t, r.str("access_token"))
	org, _ := c["org"].(map[string]any)
	if org["tenant"] != "acme" || c["aud"] != "https://api.example" {
		t.Errorf("access token claims = %v", c)
	}
	if _, ok := claims(t, r.str("id_token"))["org"]; ok {
		t.Error("ID token has a claim its mapper does not send there")
	}
	ui := e.get(e.endpoint("userinfo"), r.str("access_token"))
	if m, _ := ui.body["org"].(map[string]any); m["tenant"] != "acme" {
		t.Errorf("userinfo = %s", ui.raw)
	}
}

// TestFullScopeAllowedFalseLimitsRoles: with fullScopeAllowed off, a
// token carries only roles in the client's and its scopes' scope mappings
// (and the client's own roles).
func TestFullScopeAllowedFalseLimitsRoles(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	api, _, err := e.svc.CreateClient(ctx, "demo", realms.NewClient{Client: store.Client{ClientID: "api", Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	read, err := e.svc.CreateRole(ctx, "demo", store.Role{Name: "read", ClientID: api.ID})
	if err != nil {
		t.Fatal(err)
	}
	own, err := e.svc.CreateRole(ctx, "demo", store.Role{Name: "own", ClientID: e.app.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.GrantRoles(ctx, "demo", e.alice.ID, read.ID, own.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UpdateClient(ctx, "demo", e.app.ID, func(c *store.Client) error { c.RestrictScope = true; return nil }); err != nil {
		t.Fatal(err)
	}
	c := claims(t, e.passwordLogin(nil).str("access_token"))
	if _, ok := c["realm_access"]; ok {
		t.Errorf("realm roles without scope mappings: %v", c["realm_access"])
	}
	if ra, _ := c["resource_access"].(map[string]any); ra["app"] == nil || ra["api"] != nil || c["aud"] != nil {
		t.Errorf("resource_access = %v aud = %v", c["resource_access"], c["aud"])
	}
	// A scope mapping of the client lets the role through (composites
	// expanded: default-roles-demo holds offline_access).
	rs := e.realmState()
	if err := e.svc.SetScopeRoles(ctx, "demo", realms.MapperOwner{ClientUUID: e.app.ID}, true, read.ID, rs.DefaultRoleID); err != nil {
		t.Fatal(err)
	}
	c = claims(t, e.passwordLogin(nil).str("access_token"))
	if c["aud"] != "api" {
		t.Errorf("aud = %v", c["aud"])
	}
	if got := c["realm_access"].(map[string]any)["roles"]; len(got.([]any)) != 3 {
		t.Errorf("realm roles = %v", got)
	}
	// Full scope again: every role.
	if _, err := e.svc.UpdateClient(ctx, "demo", e.app.ID, func(c *store.Client) error { c.RestrictScope = false; return nil }); err != nil {
		t.Fatal(err)
	}
	c = claims(t, e.passwordLogin(nil).str("access_token"))
	if c["aud"] != "api" || c["realm_access"] == nil {
		t.Errorf("full scope claims = %v", c)
	}
}

// TestOptionalScopeSurvivesRefreshAndReachesUserinfo: the optional scopes
// of the login apply again on refresh and at userinfo; a refresh may
// narrow them away, but not ask for one it was not granted.
func TestOptionalScopeSurvivesRefreshAndReachesUserinfo(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.UpdateUser(ctx, "demo", e.alice.ID, func(u *store.User) error {
		u.Attributes = map[string][]string{"phoneNumber": {"+31 6 1234"}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	login := e.passwordLogin(url.Values{"scope": {"openid phone"}})
	ui := e.get(e.endpoint("userinfo"), login.str("access_token"))
	if ui.body["phone_number"] != "+31 6 1234" {
		t.Errorf("userinfo = %s", ui.raw)
	}
	refresh := func(scope string) response {
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {login.str("refresh_token")}}
		if scope != "" {
			f.Set("scope", scope)
		}
		r := e.post("token", f, "app", e.secret)
		if r.status == 200 {
			login = r
		}
		return r
	}
	r := refresh("")
	if c := claims(t, r.str("access_token")); r.str("scope") != "openid phone profile email" || c["phone_number"] != "+31 6 1234" {
		t.Errorf("refresh: %s", r.raw)
	}
	if r := refresh("address"); r.status != 400 || r.str("error") != "invalid_scope" {
		t.Errorf("refresh asking for a scope not granted: %d %s", r.status, r.raw)
	}
	r = refresh("openid")
	if c := claims(t, r.str("access_token")); r.str("scope") != "openid profile email" || c["phone_number"] != nil {
		t.Errorf("narrowed refresh: %s", r.raw)
	}
}

// TestGroupMembershipMapperFollowsGroups: the group-membership mapper
// emits the user's groups (full paths with full.path), [] for none, and a
// membership change shows in the next token.
func TestGroupMembershipMapperFollowsGroups(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.AddMappers(ctx, e.realm, realms.MapperOwner{ClientUUID: e.app.ID},
		store.ProtocolMapper{Name: "groups", ProtocolMapper: realms.MapperGroupMembership, Config: map[string]string{
			"claim.name": "groups", "full.path": "true", "access.token.claim": "true"}}); err != nil {
		t.Fatal(err)
	}
	c := claims(t, e.passwordLogin(nil).str("access_token"))
	if g, ok := c["groups"].([]any); !ok || len(g) != 0 {
		t.Errorf("groups of a user in none = %v", c["groups"])
	}
	eng, err := e.svc.CreateGroup(ctx, e.realm, store.Group{Name: "eng"})
	if err != nil {
		t.Fatal(err)
	}
	backend, err := e.svc.CreateGroup(ctx, e.realm, store.Group{Name: "backend", ParentID: eng.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.JoinGroup(ctx, e.realm, e.alice.ID, backend.ID); err != nil {
		t.Fatal(err)
	}
	c = claims(t, e.passwordLogin(nil).str("access_token"))
	if g, _ := c["groups"].([]any); len(g) != 1 || g[0] != "/eng/backend" {
		t.Errorf("groups = %v, want [/eng/backend]", c["groups"])
	}
}
