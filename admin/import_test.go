package admin_test

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/pbkdf2"

	"github.com/gatehouse/gatehouse/internal/apitest"
)

// keycloakRealm is a RealmRepresentation shaped as Keycloak exports it:
// a confidential client, a realm role, a group and a user whose password
// is a Keycloak pbkdf2-sha256 hash (computed here with x/crypto).
func keycloakRealm(t *testing.T, name string) map[string]any {
	t.Helper()
	salt := []byte("0123456789abcdef")
	value := pbkdf2.Key([]byte("kc-password"), salt, 27500, 64, sha256.New)
	return map[string]any{
		"realm": name, "enabled": true,
		"defaultRole": map[string]any{"name": "default-roles-" + name, "composite": true},
		"roles": map[string]any{
			"realm":  []any{map[string]any{"name": "buyer"}, map[string]any{"name": "default-roles-" + name, "composite": true, "composites": map[string]any{"realm": []string{"offline_access"}}}},
			"client": map[string]any{"shop": []any{map[string]any{"name": "checkout"}}},
		},
		"clients": []any{map[string]any{
			"clientId": "shop", "secret": "shop-secret-from-keycloak", "publicClient": false,
			"directAccessGrantsEnabled": true, "redirectUris": []string{"https://shop.example/*"},
			"defaultClientScopes": []string{"roles", "shop-scope"}, "optionalClientScopes": []string{},
			"protocolMappers": []any{map[string]any{"name": "tier", "protocol": "openid-connect", "protocolMapper": "oidc-hardcoded-claim-mapper",
				"consentRequired": false, "config": map[string]string{"claim.name": "tier", "claim.value": "gold", "access.token.claim": "true", "jsonType.label": "String"}}},
		}},
		"clientScopes": []any{map[string]any{"name": "shop-scope", "protocol": "openid-connect",
			"protocolMappers": []any{map[string]any{"name": "shop", "protocol": "openid-connect", "protocolMapper": "oidc-hardcoded-claim-mapper",
				"config": map[string]string{"claim.name": "shop", "claim.value": "main", "access.token.claim": "true", "jsonType.label": "String"}}}}},
		"identityProviders": []any{map[string]any{"alias": "ext", "providerId": "oidc",
			"config": map[string]string{"issuer": "https://idp.example", "jwksUrl": "https://idp.example/jwks"}}},
		"groups": []any{map[string]any{"name": "customers", "path": "/customers", "clientRoles": map[string]any{"shop": []string{"checkout"}}}},
		"users": []any{map[string]any{
			"id": "5b0c7d3e-9f1a-4c2b-8d7e-6f5a4b3c2d1e", "username": "carol", "enabled": true, "email": "carol@example.com",
			"realmRoles": []string{"buyer"}, "groups": []string{"/customers"},
			"federatedIdentities": []any{map[string]any{"identityProvider": "ext", "userId": "ext-carol", "userName": "carol@idp"}},
			"credentials": []any{map[string]any{
				"type":           "password",
				"createdDate":    1700000000000,
				"secretData":     fmt.Sprintf(`{"value":%q,"salt":%q,"additionalParameters":{}}`, base64.StdEncoding.EncodeToString(value), base64.StdEncoding.EncodeToString(salt)),
				"credentialData": `{"hashIterations":27500,"algorithm":"pbkdf2-sha256","additionalParameters":{}}`,
			}},
		}},
	}
}

func TestCreateRealmFromKeycloakExportUsersKeepPasswords(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, keycloakRealm(t, "shop"))
	tok := apitest.Claims(t, e.passwordToken("shop", "shop", "shop-secret-from-keycloak", "carol", "kc-password"))
	if tok["sub"] != "5b0c7d3e-9f1a-4c2b-8d7e-6f5a4b3c2d1e" {
		t.Fatalf("sub = %v, want the exported user ID", tok["sub"])
	}
	realmRoles, _ := tok["realm_access"].(map[string]any)["roles"].([]any)
	if !slices.Contains(realmRoles, any("buyer")) || !slices.Contains(realmRoles, any("offline_access")) {
		t.Fatalf("realm roles = %v", realmRoles)
	}
	shop, _ := tok["resource_access"].(map[string]any)["shop"].(map[string]any)
	if roles, _ := shop["roles"].([]any); !slices.Contains(roles, any("checkout")) {
		t.Fatalf("resource_access = %v, want checkout from the group", tok["resource_access"])
	}
	if tok["tier"] != "gold" || tok["shop"] != "main" {
		t.Fatalf("claims tier=%v shop=%v: the client's mapper and its imported scope's mapper must apply", tok["tier"], tok["shop"])
	}
	var links []map[string]any
	e.must(200, "GET", "/admin/realms/shop/users/5b0c7d3e-9f1a-4c2b-8d7e-6f5a4b3c2d1e/federated-identity", e.admin, nil).json(t, &links)
	if len(links) != 1 || links[0]["userId"] != "ext-carol" {
		t.Fatalf("federated identities = %v", links)
	}
}

func TestCreateRealmFromInvalidExportCreatesNothing(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(map[string]any)
		field string
	}{
		{"unknown group", func(r map[string]any) { r["users"].([]any)[0].(map[string]any)["groups"] = []string{"/nope"} }, "users[0].groups"},
		{"unknown role", func(r map[string]any) { r["users"].([]any)[0].(map[string]any)["realmRoles"] = []string{"nope"} }, "users[0]"},
		{"hostile iterations", func(r map[string]any) {
			r["users"].([]any)[0].(map[string]any)["credentials"].([]any)[0].(map[string]any)["credentialData"] =
				`{"hashIterations":2000000000,"algorithm":"pbkdf2-sha256"}`
		}, "users[0].credentials[0]"},
		{"unknown scope", func(r map[string]any) {
			r["clients"].([]any)[0].(map[string]any)["defaultClientScopes"] = []string{"nope"}
		}, "clients[0].defaultClientScopes"},
		{"link to unknown provider", func(r map[string]any) { r["identityProviders"] = []any{} }, "users[0].federatedIdentities"},
		{"bad redirect", func(r map[string]any) {
			r["clients"].([]any)[0].(map[string]any)["redirectUris"] = []string{"not a uri"}
		}, "clients[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			rep := keycloakRealm(t, "shop")
			tc.edit(rep)
			r := e.must(400, "POST", "/admin/realms", e.admin, rep)
			if msg := r.obj(t)["errorMessage"]; !strings.HasPrefix(fmt.Sprint(msg), tc.field) {
				t.Fatalf("errorMessage = %v, want it to name %s", msg, tc.field)
			}
			e.must(404, "GET", "/admin/realms/shop", e.admin, nil)
		})
	}
}

func TestPartialExportMasksSecretsAndHasNoUsers(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, keycloakRealm(t, "shop"))
	var out map[string]any
	e.must(200, "POST", "/admin/realms/shop/partial-export?exportClients=true&exportGroupsAndRoles=true", e.admin, nil).json(t, &out)
	if out["realm"] != "shop" || out["users"] != nil {
		t.Fatalf("realm=%v users=%v: settings without users", out["realm"], out["users"])
	}
	var shop map[string]any
	for _, c := range out["clients"].([]any) {
		if c.(map[string]any)["clientId"] == "shop" {
			shop = c.(map[string]any)
		}
	}
	if shop == nil || shop["secret"] != "**********" {
		t.Fatalf("shop client = %v, want its secret masked", shop)
	}
	if idp := out["identityProviders"].([]any)[0].(map[string]any); idp["alias"] != "ext" {
		t.Fatalf("identityProviders = %v", out["identityProviders"])
	}
	if !strings.Contains(fmt.Sprint(out["roles"]), "checkout") || !strings.Contains(fmt.Sprint(out["groups"]), "customers") {
		t.Fatalf("roles %v groups %v", out["roles"], out["groups"])
	}
	var bare map[string]any
	e.must(200, "POST", "/admin/realms/shop/partial-export", e.admin, nil).json(t, &bare)
	if bare["clients"] != nil || bare["roles"] != nil || bare["groups"] != nil {
		t.Fatalf("export without flags carries clients/roles/groups: %v", bare)
	}
	e.must(400, "POST", "/admin/realms/shop/partial-export?exportClients=maybe", e.admin, nil)
	// The export creates an equivalent realm elsewhere (secrets aside).
	out["realm"] = "shop2"
	out["defaultRole"] = map[string]any{"name": "default-roles-shop2"}
	delete(out, "id")
	roles := out["roles"].(map[string]any)["realm"].([]any)
	for _, r := range roles {
		if r.(map[string]any)["name"] == "default-roles-shop" {
			r.(map[string]any)["name"] = "default-roles-shop2"
		}
	}
	for _, c := range out["clients"].([]any) {
		delete(c.(map[string]any), "id")
	}
	e.must(201, "POST", "/admin/realms", e.admin, out)
	pw := url.Values{"grant_type": {"password"}, "username": {"carol"}, "password": {"kc-password"}}
	e.must(201, "POST", "/admin/realms/shop2/users", e.admin, map[string]any{"username": "carol", "enabled": true,
		"credentials": []any{map[string]any{"type": "password", "value": "kc-password"}}})
	if st, m := e.tokenRequest("shop2", pw, "shop", "**********"); st != 401 {
		t.Fatalf("the mask as the imported client's secret: %d %v", st, m)
	}
}

func TestPartialImportFailSkipOverwrite(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, keycloakRealm(t, "shop"))
	body := func(mode string) map[string]any {
		return map[string]any{"ifResourceExists": mode,
			"users": []any{
				map[string]any{"username": "carol", "enabled": true, "credentials": []any{map[string]any{"type": "password", "value": "carol-new"}}},
				map[string]any{"username": "dave", "enabled": true, "groups": []string{"/customers"}, "credentials": []any{map[string]any{"type": "password", "value": "dave-pw"}}},
			},
			"roles": map[string]any{"realm": []any{map[string]any{"name": "auditor"}}},
		}
	}
	type result struct {
		Added, Skipped, Overwritten int
		Results                     []struct{ Action, ResourceType, ResourceName, ID string }
	}
	r := e.must(409, "POST", "/admin/realms/shop/partialImport", e.admin, body("FAIL"))
	if msg := r.obj(t)["errorMessage"]; msg != "User with user name carol already exists." {
		t.Fatalf("FAIL message = %v", msg)
	}
	if st, _ := e.tokenRequest("shop", url.Values{"grant_type": {"password"}, "username": {"dave"}, "password": {"dave-pw"}}, "shop", "shop-secret-from-keycloak"); st == 200 {
		t.Fatal("FAIL imported dave anyway")
	}
	var skip result
	e.must(200, "POST", "/admin/realms/shop/partialImport", e.admin, body("SKIP")).json(t, &skip)
	if skip.Added != 2 || skip.Skipped != 1 || skip.Overwritten != 0 || len(skip.Results) != 3 {
		t.Fatalf("SKIP = %+v", skip)
	}
	e.passwordLogin("shop", "shop", "shop-secret-from-keycloak", "dave", "dave-pw")
	old := e.passwordLogin("shop", "shop", "shop-secret-from-keycloak", "carol", "kc-password")
	var over result
	e.must(200, "POST", "/admin/realms/shop/partialImport", e.admin, body("OVERWRITE")).json(t, &over)
	if over.Overwritten != 3 || over.Added != 0 {
		t.Fatalf("OVERWRITE = %+v", over)
	}
	tok := apitest.Claims(t, e.passwordToken("shop", "shop", "shop-secret-from-keycloak", "carol", "carol-new"))
	if tok["sub"] != "5b0c7d3e-9f1a-4c2b-8d7e-6f5a4b3c2d1e" {
		t.Fatalf("overwritten carol's sub = %v, want her ID kept", tok["sub"])
	}
	// The session of the overwritten carol ends with her old password.
	if st, m := e.tokenRequest("shop", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old["refresh_token"].(string)}},
		"shop", "shop-secret-from-keycloak"); st != 400 {
		t.Fatalf("refresh of the overwritten user's old session: %d %v", st, m)
	}
	e.must(400, "POST", "/admin/realms/shop/partialImport", e.admin, map[string]any{"ifResourceExists": "MERGE"})
}

// POST /admin/realms takes a whole Keycloak export as a realm file is
// taken: Keycloak's settings Gatehouse does not implement and fields of
// nested elements it does not read are named in X-Gatehouse-Not-Imported
// and in the admin event, fields Keycloak does not know either are ignored
// and named in X-Gatehouse-Unknown-Fields, and a setting Gatehouse claims
// but cannot honour is still a 400 naming it.
func TestCreateRealmReportsWhatItDidNotImport(t *testing.T) {
	e := newEnv(t)
	rep := keycloakRealm(t, "shop")
	rep["components"] = map[string]any{"org.keycloak.keys.KeyProvider": []any{map[string]any{"name": "rsa"}}}
	rep["authenticationFlows"] = []any{map[string]any{"alias": "browser"}}
	rep["someFutureField"] = 7
	rep["users"].([]any)[0].(map[string]any)["totp"] = true
	rep["clients"].([]any)[0].(map[string]any)["authenticationFlowBindingOverrides"] = map[string]any{"browser": "x"}
	r := e.must(201, "POST", "/admin/realms", e.admin, rep)
	if got, want := r.header.Get("X-Gatehouse-Not-Imported"),
		"authenticationFlows, clients[].authenticationFlowBindingOverrides, components, users[].totp"; got != want {
		t.Errorf("X-Gatehouse-Not-Imported = %q, want %q", got, want)
	}
	if got := r.header.Get("X-Gatehouse-Unknown-Fields"); got != "someFutureField" {
		t.Errorf("X-Gatehouse-Unknown-Fields = %q", got)
	}
	var events []map[string]any
	e.must(200, "GET", "/admin/realms/master/admin-events?operationTypes=CREATE&resourceTypes=REALM", e.admin, nil).json(t, &events)
	if len(events) != 1 || !strings.Contains(fmt.Sprint(events[0]["representation"]), `"gatehouseNotImported":{"notSupported":["authenticationFlows"`) {
		t.Errorf("the admin event does not carry the report: %v", events)
	}
	// The user still logs in: the report is about what was left out only.
	e.passwordToken("shop", "shop", "shop-secret-from-keycloak", "carol", "kc-password")

	rep = keycloakRealm(t, "other")
	rep["duplicateEmailsAllowed"] = true
	if msg := e.must(400, "POST", "/admin/realms", e.admin, rep).obj(t)["errorMessage"]; !strings.Contains(fmt.Sprint(msg), "duplicateEmailsAllowed") {
		t.Errorf("errorMessage = %v, want it to name duplicateEmailsAllowed", msg)
	}
	e.must(404, "GET", "/admin/realms/other", e.admin, nil)
}

// An export's scopeMappings and clientScopeMappings are imported: a client
// without full scope puts only its scope-mapped roles in tokens.
func TestImportedScopeMappingsLimitTokenRoles(t *testing.T) {
	e := newEnv(t)
	rep := keycloakRealm(t, "shop")
	roles := rep["roles"].(map[string]any)
	roles["realm"] = append(roles["realm"].([]any), map[string]any{"name": "clerk"})
	rep["users"].([]any)[0].(map[string]any)["realmRoles"] = []string{"buyer", "clerk"}
	rep["clients"].([]any)[0].(map[string]any)["fullScopeAllowed"] = false
	rep["scopeMappings"] = []any{map[string]any{"client": "shop", "roles": []string{"buyer"}}}
	rep["clientScopeMappings"] = map[string]any{"shop": []any{map[string]any{"client": "shop", "roles": []string{"checkout"}}}}
	e.must(201, "POST", "/admin/realms", e.admin, rep)
	tok := apitest.Claims(t, e.passwordToken("shop", "shop", "shop-secret-from-keycloak", "carol", "kc-password"))
	realmRoles, _ := tok["realm_access"].(map[string]any)["roles"].([]any)
	if !slices.Contains(realmRoles, any("buyer")) || slices.Contains(realmRoles, any("clerk")) {
		t.Errorf("realm roles = %v, want buyer (scope-mapped) and not clerk", realmRoles)
	}
	shop, _ := tok["resource_access"].(map[string]any)["shop"].(map[string]any)
	if roles, _ := shop["roles"].([]any); !slices.Contains(roles, any("checkout")) {
		t.Errorf("resource_access = %v, want checkout (client scope mapping)", tok["resource_access"])
	}
	// The partial export writes them back as Keycloak does.
	var exp map[string]any
	e.must(200, "POST", "/admin/realms/shop/partial-export?exportClients=true&exportGroupsAndRoles=true", e.admin, nil).json(t, &exp)
	if !strings.Contains(fmt.Sprint(exp["scopeMappings"]), "client:shop roles:[buyer]") ||
		!strings.Contains(fmt.Sprint(exp["clientScopeMappings"]), "shop:[map[client:shop roles:[checkout]]]") {
		t.Errorf("partial export scopeMappings %v clientScopeMappings %v", exp["scopeMappings"], exp["clientScopeMappings"])
	}
}

// A partial import takes scopeMappings and clientScopeMappings, as a
// partial export writes them: in every ifResourceExists mode the missing
// roles are added (a mapping already there is no conflict), and a mapping
// naming what neither the realm nor the import has is a 400 before
// anything is written.
func TestPartialImportTakesScopeMappings(t *testing.T) {
	e := newEnv(t)
	good := map[string]any{
		"scopeMappings":       []any{map[string]any{"client": "shop", "roles": []string{"buyer"}}},
		"clientScopeMappings": map[string]any{"api": []any{map[string]any{"client": "shop", "roles": []string{"call"}}}},
	}
	for i, tc := range []struct {
		name, mode string
		body       map[string]any
		// bad names the field of the 400; empty, the import succeeds.
		bad string
	}{
		{name: "FAIL", mode: "FAIL", body: good},
		{name: "SKIP", mode: "SKIP", body: good},
		{name: "OVERWRITE", mode: "OVERWRITE", body: good},
		{name: "a role nobody has", mode: "SKIP", bad: "scopeMappings[1].roles", body: map[string]any{"scopeMappings": []any{
			map[string]any{"client": "shop", "roles": []string{"buyer"}}, map[string]any{"client": "shop", "roles": []string{"nope"}}}}},
		{name: "a client nobody has", mode: "SKIP", bad: "clientScopeMappings.api[0].client", body: map[string]any{
			"scopeMappings":       []any{map[string]any{"client": "shop", "roles": []string{"buyer"}}},
			"clientScopeMappings": map[string]any{"api": []any{map[string]any{"client": "ghost", "roles": []string{"call"}}}}}},
		{name: "a client and a client scope at once", mode: "SKIP", bad: "scopeMappings[0]", body: map[string]any{"scopeMappings": []any{
			map[string]any{"client": "shop", "clientScope": "roles", "roles": []string{"buyer"}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("scoped%d", i)
			rep := keycloakRealm(t, name)
			rep["clients"].([]any)[0].(map[string]any)["fullScopeAllowed"] = false
			// carol holds a role of another client, api, which shop's
			// tokens carry only once it is scope-mapped to shop.
			rep["clients"] = append(rep["clients"].([]any), map[string]any{"clientId": "api", "secret": "api-secret"})
			rep["roles"].(map[string]any)["client"].(map[string]any)["api"] = []any{map[string]any{"name": "call"}}
			rep["users"].([]any)[0].(map[string]any)["clientRoles"] = map[string]any{"api": []string{"call"}}
			e.must(201, "POST", "/admin/realms", e.admin, rep)
			roles := func() (realmRoles, apiRoles []any) {
				tok := apitest.Claims(t, e.passwordToken(name, "shop", "shop-secret-from-keycloak", "carol", "kc-password"))
				if ra, ok := tok["realm_access"].(map[string]any); ok {
					realmRoles, _ = ra["roles"].([]any)
				}
				if api, ok := tok["resource_access"].(map[string]any)["api"].(map[string]any); ok {
					apiRoles, _ = api["roles"].([]any)
				}
				return realmRoles, apiRoles
			}
			if r, s := roles(); slices.Contains(r, any("buyer")) || slices.Contains(s, any("call")) {
				t.Fatalf("before the import the client without full scope has realm roles %v, api roles %v", r, s)
			}
			body := maps.Clone(tc.body)
			body["ifResourceExists"] = tc.mode
			path := "/admin/realms/" + name + "/partialImport"
			if tc.bad != "" {
				msg := e.must(400, "POST", path, e.admin, body).obj(t)["errorMessage"]
				if !strings.Contains(fmt.Sprint(msg), tc.bad) {
					t.Errorf("errorMessage = %v, want it to name %s", msg, tc.bad)
				}
				if r, _ := roles(); slices.Contains(r, any("buyer")) {
					t.Errorf("a refused import added buyer: %v", r)
				}
				return
			}
			for range 2 { // the second time, every mapping is there already
				e.must(200, "POST", path, e.admin, body)
			}
			if r, s := roles(); !slices.Contains(r, any("buyer")) || !slices.Contains(s, any("call")) {
				t.Errorf("after the import: realm roles %v, api roles %v; want buyer and call", r, s)
			}
		})
	}
}
