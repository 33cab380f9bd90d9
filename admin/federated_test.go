package admin_test

import (
	"strings"
	"testing"
)

// Federated identity links (Keycloak's FederatedIdentityRepresentation):
// listed with view-users, added and removed with manage-users; one link per
// provider and user, one user per provider account; the provider must exist;
// deleting the provider removes its links.
func TestFederatedIdentityAdmin(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	e.must(201, "POST", "/admin/realms/demo/identity-provider/instances", e.admin, map[string]any{"alias": "ext", "providerId": "oidc",
		"config": map[string]any{"issuer": "https://idp.example", "jwksUrl": "https://idp.example/jwks"}})
	alice := idFromLocation(t, e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{"username": "alice", "enabled": true}))
	bob := idFromLocation(t, e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{"username": "bob", "enabled": true}))
	base := func(user string) string { return "/admin/realms/demo/users/" + user + "/federated-identity" }
	link := map[string]any{"identityProvider": "ext", "userId": "ext-alice", "userName": "alice@idp"}

	var list []map[string]any
	e.must(200, "GET", base(alice), e.admin, nil).json(t, &list)
	if len(list) != 0 {
		t.Fatalf("links of a new user: %v", list)
	}
	e.must(204, "POST", base(alice)+"/ext", e.admin, link)
	e.must(200, "GET", base(alice), e.admin, nil).json(t, &list)
	if len(list) != 1 || list[0]["identityProvider"] != "ext" || list[0]["userId"] != "ext-alice" || list[0]["userName"] != "alice@idp" {
		t.Fatalf("links: %v", list)
	}
	for _, c := range []struct {
		name, path string
		body       map[string]any
		status     int
		msg        string
	}{
		{"second link to the provider", base(alice) + "/ext", map[string]any{"userId": "other"}, 409, "User is already linked with provider"},
		{"account linked to another user", base(bob) + "/ext", link, 409, "already linked to another user"},
		{"unknown provider", base(bob) + "/nope", map[string]any{"userId": "x"}, 400, "Could not find identity provider"},
		{"no userId", base(bob) + "/ext", map[string]any{"userName": "x"}, 400, "userId"},
		{"provider differs from the URL", base(bob) + "/ext", map[string]any{"identityProvider": "other", "userId": "x"}, 400, "identityProvider"},
		{"unknown user", base("nope") + "/ext", map[string]any{"userId": "x"}, 404, ""},
	} {
		r := e.call("POST", c.path, e.admin, c.body)
		if r.status != c.status || !strings.Contains(r.raw, `"errorMessage"`) || !strings.Contains(r.raw, c.msg) {
			t.Errorf("%s: %d %s, want %d %q", c.name, r.status, r.raw, c.status, c.msg)
		}
	}

	// Rights: view-users lists, manage-users links.
	viewer, viewerSecret := e.createClient("demo", e.admin, map[string]any{"clientId": "viewer", "serviceAccountsEnabled": true})
	e.grantRealmManagement("demo", viewer, "view-users")
	_, m := e.serviceToken("demo", "viewer", viewerSecret)
	tok := m["access_token"].(string)
	e.must(200, "GET", base(alice), tok, nil)
	e.must(403, "POST", base(bob)+"/ext", tok, map[string]any{"userId": "ext-bob"})
	e.must(403, "DELETE", base(alice)+"/ext", tok, nil)

	e.must(204, "DELETE", base(alice)+"/ext", e.admin, nil)
	if r := e.call("DELETE", base(alice)+"/ext", e.admin, nil); r.status != 404 || !strings.Contains(r.raw, "Link not found") {
		t.Errorf("removing a missing link: %d %s", r.status, r.raw)
	}
	// The freed account can be linked to bob; deleting the provider unlinks.
	e.must(204, "POST", base(bob)+"/ext", e.admin, link)
	e.must(204, "DELETE", "/admin/realms/demo/identity-provider/instances/ext", e.admin, nil)
	e.must(200, "GET", base(bob), e.admin, nil).json(t, &list)
	if len(list) != 0 {
		t.Errorf("links after the provider was deleted: %v", list)
	}
}

// An identity provider's config.clientSecret is never shown: responses and
// admin events carry "**********", and a PUT that sends it back keeps the
// stored secret.
func TestIdentityProviderClientSecretMasked(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	base := "/admin/realms/demo/identity-provider/instances"
	cfg := func(secret string) map[string]any {
		return map[string]any{"issuer": "https://idp.example", "jwksUrl": "https://idp.example/jwks", "clientId": "gh", "clientSecret": secret}
	}
	e.must(201, "POST", base, e.admin, map[string]any{"alias": "ext", "config": cfg("top-s3cret")})
	e.must(204, "PUT", base+"/ext", e.admin, map[string]any{"config": cfg("**********")})
	e.must(204, "PUT", base+"/ext", e.admin, map[string]any{"enabled": false})
	for _, path := range []string{base + "/ext", base, "/admin/realms/demo/admin-events"} {
		r := e.must(200, "GET", path, e.admin, nil)
		if strings.Contains(r.raw, "top-s3cret") || !strings.Contains(r.raw, `**********`) {
			t.Errorf("GET %s: %s", path, r.raw)
		}
	}
	p, err := e.svc.IdentityProvider(t.Context(), fedRealmID(t, e, "demo"), "ext")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := e.svc.IdentityProviderSecret(fedRealmID(t, e, "demo"), p); err != nil || v != "top-s3cret" {
		t.Errorf("stored secret after the masked PUT: %q %v", v, err)
	}
}

func fedRealmID(t *testing.T, e *env, name string) string {
	t.Helper()
	st, err := e.svc.Realm(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return st.Realm.ID
}
