package admin_test

import (
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
)

// sortedNames is the "name" of every element of a JSON list, sorted.
func sortedNames(t *testing.T, r resp) string {
	t.Helper()
	out := names(t, r, "name")
	sort.Strings(out)
	return strings.Join(out, " ")
}

// TestBuiltinClientScopesOfANewRealm: a new realm has Keycloak's built-in
// scopes with their default and optional assignment, and its new clients
// take them.
func TestBuiltinClientScopesOfANewRealm(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	base := "/admin/realms/demo"
	if got := sortedNames(t, e.must(200, "GET", base+"/client-scopes", e.admin, nil)); got != "acr address basic email microprofile-jwt offline_access phone profile roles web-origins" {
		t.Errorf("client scopes = %s", got)
	}
	if got := sortedNames(t, e.must(200, "GET", base+"/default-default-client-scopes", e.admin, nil)); got != "acr basic email profile roles web-origins" {
		t.Errorf("default scopes = %s", got)
	}
	if got := sortedNames(t, e.must(200, "GET", base+"/default-optional-client-scopes", e.admin, nil)); got != "address microprofile-jwt offline_access phone" {
		t.Errorf("optional scopes = %s", got)
	}
	id, _ := e.createClient("demo", e.admin, map[string]any{"clientId": "app"})
	if got := sortedNames(t, e.must(200, "GET", base+"/clients/"+id+"/default-client-scopes", e.admin, nil)); got != "acr basic email profile roles web-origins" {
		t.Errorf("client default scopes = %s", got)
	}
	var c map[string]any
	e.must(200, "GET", base+"/clients/"+id, e.admin, nil).json(t, &c)
	if c["fullScopeAllowed"] != true || len(c["optionalClientScopes"].([]any)) != 4 {
		t.Errorf("client representation = %v", c)
	}
	// The master realm of the bootstrap has them too.
	if got := sortedNames(t, e.must(200, "GET", "/admin/realms/master/default-default-client-scopes", e.admin, nil)); got != "acr basic email profile roles web-origins" {
		t.Errorf("master default scopes = %s", got)
	}
}

// TestClientScopeLifecycleDrivesTokens creates a client scope with a
// mapper through the admin API, makes it an optional scope of a client,
// and requests it in a token.
func TestClientScopeLifecycleDrivesTokens(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	base := "/admin/realms/demo"
	scope := idFromLocation(t, e.must(201, "POST", base+"/client-scopes", e.admin, map[string]any{
		"name": "tenant", "protocol": "openid-connect",
		"attributes": map[string]string{"include.in.token.scope": "true", "display.on.consent.screen": "false"},
		"protocolMappers": []map[string]any{{"name": "tenant", "protocol": "openid-connect", "protocolMapper": "oidc-hardcoded-claim-mapper",
			"config": map[string]string{"claim.name": "tenant", "claim.value": "acme", "access.token.claim": "true"}}},
	}))
	e.must(409, "POST", base+"/client-scopes", e.admin, map[string]any{"name": "tenant"})
	var cs map[string]any
	e.must(200, "GET", base+"/client-scopes/"+scope, e.admin, nil).json(t, &cs)
	if cs["name"] != "tenant" || len(cs["protocolMappers"].([]any)) != 1 {
		t.Errorf("scope = %v", cs)
	}
	id, secret := e.createClient("demo", e.admin, map[string]any{"clientId": "app", "serviceAccountsEnabled": true})
	e.must(204, "PUT", base+"/clients/"+id+"/optional-client-scopes/"+scope, e.admin, nil)
	// One list at a time.
	e.must(400, "PUT", base+"/clients/"+id+"/default-client-scopes/"+scope, e.admin, nil)
	e.must(404, "PUT", base+"/clients/"+id+"/default-client-scopes/nope", e.admin, nil)

	status, m := e.tokenRequest("demo", url.Values{"grant_type": {"client_credentials"}, "scope": {"tenant"}}, "app", secret)
	if status != 200 || m["scope"] != "tenant profile email" {
		t.Fatalf("token: %d %v", status, m)
	}
	// The mapper is edited through the scope's models.
	var ms []map[string]any
	e.must(200, "GET", base+"/client-scopes/"+scope+"/protocol-mappers/models", e.admin, nil).json(t, &ms)
	mid := ms[0]["id"].(string)
	e.must(204, "PUT", base+"/client-scopes/"+scope+"/protocol-mappers/models/"+mid, e.admin, map[string]any{
		"id": mid, "name": "tenant", "protocol": "openid-connect", "protocolMapper": "oidc-hardcoded-claim-mapper",
		"config": map[string]string{"claim.name": "tenant", "claim.value": "globex", "access.token.claim": "true"}})
	_, m = e.tokenRequest("demo", url.Values{"grant_type": {"client_credentials"}, "scope": {"tenant"}}, "app", secret)
	if c := apitest.Claims(t, m["access_token"].(string)); c["tenant"] != "globex" {
		t.Errorf("claims = %v", c)
	}
	_, m = e.tokenRequest("demo", url.Values{"grant_type": {"client_credentials"}}, "app", secret)
	if c := apitest.Claims(t, m["access_token"].(string)); c["tenant"] != nil {
		t.Errorf("optional scope applied without being requested: %v", c)
	}
	e.must(204, "DELETE", base+"/client-scopes/"+scope+"/protocol-mappers/models/"+mid, e.admin, nil)
	e.must(404, "DELETE", base+"/client-scopes/"+scope+"/protocol-mappers/models/"+mid, e.admin, nil)
	e.must(204, "DELETE", base+"/client-scopes/"+scope, e.admin, nil)
	e.must(404, "GET", base+"/client-scopes/"+scope, e.admin, nil)
	status, m = e.tokenRequest("demo", url.Values{"grant_type": {"client_credentials"}, "scope": {"tenant"}}, "app", secret)
	if status != 400 || m["error"] != "invalid_scope" {
		t.Errorf("deleted scope requested: %d %v", status, m)
	}
}

// TestProtocolMapperRefusals: what cannot be run is refused by name, never
// stored and ignored.
func TestProtocolMapperRefusals(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	base := "/admin/realms/demo"
	id, _ := e.createClient("demo", e.admin, map[string]any{"clientId": "app"})
	models := base + "/clients/" + id + "/protocol-mappers/models"
	for _, tc := range []struct {
		body any
		want string
	}{
		{map[string]any{"name": "s", "protocolMapper": "oidc-script-mapper", "config": map[string]string{}}, "oidc-script-mapper"},
		{map[string]any{"name": "f", "protocolMapper": "oidc-full-name-mapper", "config": map[string]string{"bogus.key": "1"}}, "bogus.key"},
		{map[string]any{"name": "f", "protocolMapper": "oidc-full-name-mapper", "priority": 3}, "priority"},
	} {
		r := e.must(400, "POST", models, e.admin, tc.body)
		if !strings.Contains(r.raw, tc.want) {
			t.Errorf("%v: %s does not name %s", tc.body, r.raw, tc.want)
		}
	}
	e.must(400, "POST", base+"/client-scopes", e.admin, map[string]any{"name": "x", "type": "default"})
	e.must(400, "POST", base+"/clients", e.admin, map[string]any{"clientId": "other", "defaultClientScopes": []string{"nope"}})
	// add-models adds all or none.
	e.must(204, "POST", base+"/clients/"+id+"/protocol-mappers/add-models", e.admin, []map[string]any{
		{"name": "a", "protocolMapper": "oidc-full-name-mapper", "config": map[string]string{"access.token.claim": "true"}},
		{"name": "b", "protocolMapper": "oidc-audience-mapper", "config": map[string]string{"included.custom.audience": "x", "access.token.claim": "true"}},
	})
	e.must(409, "POST", models, e.admin, map[string]any{"name": "a", "protocolMapper": "oidc-full-name-mapper"})
	var ms []map[string]any
	e.must(200, "GET", models, e.admin, nil).json(t, &ms)
	if len(ms) != 2 {
		t.Errorf("mappers = %v", ms)
	}
	e.must(404, "GET", models+"/nope", e.admin, nil)
}

// TestScopeMappingsAndFullScopeAllowed: scope mappings are listed by the
// admin API and limit a client's tokens once fullScopeAllowed is off.
func TestScopeMappingsAndFullScopeAllowed(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	base := "/admin/realms/demo"
	e.must(201, "POST", base+"/roles", e.admin, map[string]any{"name": "reader"})
	id, secret := e.createClient("demo", e.admin, map[string]any{"clientId": "app", "serviceAccountsEnabled": true, "fullScopeAllowed": false})
	var c map[string]any
	e.must(200, "GET", base+"/clients/"+id, e.admin, nil).json(t, &c)
	if c["fullScopeAllowed"] != false {
		t.Fatalf("fullScopeAllowed = %v", c["fullScopeAllowed"])
	}
	var sa map[string]any
	e.must(200, "GET", base+"/clients/"+id+"/service-account-user", e.admin, nil).json(t, &sa)
	e.must(204, "POST", base+"/users/"+sa["id"].(string)+"/role-mappings/realm", e.admin, []map[string]string{{"name": "reader"}})
	_, m := e.tokenRequest("demo", url.Values{"grant_type": {"client_credentials"}}, "app", secret)
	if c := apitest.Claims(t, m["access_token"].(string)); c["realm_access"] != nil {
		t.Errorf("roles without a scope mapping: %v", c["realm_access"])
	}
	sm := base + "/clients/" + id + "/scope-mappings/realm"
	if got := sortedNames(t, e.must(200, "GET", sm+"/available", e.admin, nil)); !strings.Contains(got, "reader") {
		t.Errorf("available = %s", got)
	}
	e.must(204, "POST", sm, e.admin, []map[string]string{{"name": "reader"}})
	e.must(404, "POST", sm, e.admin, []map[string]string{{"name": "nope"}})
	if got := sortedNames(t, e.must(200, "GET", sm, e.admin, nil)); got != "reader" {
		t.Errorf("scope mappings = %s", got)
	}
	if got := sortedNames(t, e.must(200, "GET", sm+"/composite", e.admin, nil)); got != "reader" {
		t.Errorf("composite = %s", got)
	}
	var all map[string]any
	e.must(200, "GET", base+"/clients/"+id+"/scope-mappings", e.admin, nil).json(t, &all)
	if len(all["realmMappings"].([]any)) != 1 {
		t.Errorf("scope-mappings = %v", all)
	}
	_, m = e.tokenRequest("demo", url.Values{"grant_type": {"client_credentials"}}, "app", secret)
	ra, _ := apitest.Claims(t, m["access_token"].(string))["realm_access"].(map[string]any)
	if roles, _ := ra["roles"].([]any); len(roles) != 1 || roles[0] != "reader" {
		t.Errorf("realm_access = %v", ra)
	}
	// A client scope's scope mappings count for the clients using it.
	e.must(204, "DELETE", sm, e.admin, []map[string]string{{"name": "reader"}})
	var scopes []map[string]any
	e.must(200, "GET", base+"/client-scopes", e.admin, nil).json(t, &scopes)
	var profile string
	for _, s := range scopes {
		if s["name"] == "profile" {
			profile = s["id"].(string)
		}
	}
	e.must(204, "POST", base+"/client-scopes/"+profile+"/scope-mappings/realm", e.admin, []map[string]string{{"name": "reader"}})
	_, m = e.tokenRequest("demo", url.Values{"grant_type": {"client_credentials"}}, "app", secret)
	if apitest.Claims(t, m["access_token"].(string))["realm_access"] == nil {
		t.Error("the profile scope's scope mapping did not let reader through")
	}
}

// TestMapperRolesInATokenGrantNoAdminRights: a manage-clients admin adds a
// hardcoded-role mapper naming realm-admin to the client it logs in
// through. The token then claims realm-admin, but admin rights come from
// the user's role mappings (by ID), so nothing more is allowed.
func TestMapperRolesInATokenGrantNoAdminRights(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	_, tok := e.userWithRights("demo", "mallory", nil, "manage-clients")
	var cl []map[string]any
	e.must(200, "GET", "/admin/realms/demo/clients?clientId=tester", tok, nil).json(t, &cl)
	e.must(201, "POST", "/admin/realms/demo/clients/"+cl[0]["id"].(string)+"/protocol-mappers/models", tok, map[string]any{
		"name": "escalate", "protocolMapper": "oidc-hardcoded-role-mapper", "config": map[string]string{"role": "realm-management.realm-admin"}})
	tok = e.passwordToken("demo", "tester", "", "mallory", "mallory-Pass-1")
	ra, _ := apitest.Claims(t, tok)["resource_access"].(map[string]any)
	if rm, _ := ra["realm-management"].(map[string]any); !strings.Contains(strings.Join(toStrings(rm["roles"]), " "), "realm-admin") {
		t.Fatalf("the mapper did not run: %v", ra)
	}
	e.must(403, "GET", "/admin/realms/demo/users", tok, nil)
	e.must(403, "POST", "/admin/realms/demo/roles", tok, map[string]any{"name": "x"})
}

func toStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// TestKeycloakAdminClientClientScopes drives client scopes, protocol
// mappers and scope mappings through Keycloak's own admin client library
// (testdata/kcadmin/flow_scopes.mjs), ending with the token they shape.
func TestKeycloakAdminClientClientScopes(t *testing.T) {
	runKeycloakAdminFlow(t, "flow_scopes.mjs")
}

// TestClientScopesStayInTheirRealm: a client scope, a mapper or a role of
// another realm cannot be attached by ID.
func TestClientScopesStayInTheirRealm(t *testing.T) {
	e := newEnv(t)
	for _, r := range []string{"a", "b"} {
		e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": r, "enabled": true})
	}
	bScope := idFromLocation(t, e.must(201, "POST", "/admin/realms/b/client-scopes", e.admin, map[string]any{"name": "secret-scope"}))
	e.must(201, "POST", "/admin/realms/b/roles", e.admin, map[string]any{"name": "b-role"})
	var bRole map[string]any
	e.must(200, "GET", "/admin/realms/b/roles/b-role", e.admin, nil).json(t, &bRole)
	aClient, _ := e.createClient("a", e.admin, map[string]any{"clientId": "app"})
	e.must(404, "PUT", "/admin/realms/a/clients/"+aClient+"/default-client-scopes/"+bScope, e.admin, nil)
	e.must(404, "PUT", "/admin/realms/a/default-default-client-scopes/"+bScope, e.admin, nil)
	e.must(404, "GET", "/admin/realms/a/client-scopes/"+bScope, e.admin, nil)
	e.must(404, "POST", "/admin/realms/a/client-scopes/"+bScope+"/protocol-mappers/models", e.admin,
		map[string]any{"name": "x", "protocolMapper": "oidc-full-name-mapper"})
	e.must(404, "POST", "/admin/realms/a/clients/"+aClient+"/scope-mappings/realm", e.admin, []map[string]any{{"id": bRole["id"]}})
	if got := sortedNames(t, e.must(200, "GET", "/admin/realms/a/clients/"+aClient+"/default-client-scopes", e.admin, nil)); strings.Contains(got, "secret-scope") {
		t.Errorf("a's client took b's scope: %s", got)
	}
}
