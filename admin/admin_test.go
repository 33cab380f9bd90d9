package admin_test

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// The "done when" flow of the admin issue, through the REST API exactly as
// Keycloak's admin client drives it: create a realm, a confidential client,
// read and regenerate its secret (the old one fails at once), create a user,
// reset the password, create a realm role, map it, and see it in the next
// token.
func TestAdminFlowKeycloakClient(t *testing.T) {
	e := newEnv(t)
	r := e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	if loc := r.header.Get("Location"); loc != e.srv.URL+"/admin/realms/demo" {
		t.Errorf("Location = %q", loc)
	}
	e.must(409, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})

	id, secret := e.createClient("demo", e.admin, map[string]any{
		"clientId": "app", "serviceAccountsEnabled": true, "directAccessGrantsEnabled": true, "publicClient": false})
	if len(secret) < 40 {
		t.Fatalf("generated secret %q", secret)
	}
	got := e.must(200, "GET", "/admin/realms/demo/clients/"+id, e.admin, nil).obj(t)
	if got["clientId"] != "app" || got["secret"] != secret || got["id"] != id {
		t.Errorf("client representation: %v", got)
	}
	conflict := e.must(409, "POST", "/admin/realms/demo/clients", e.admin, map[string]any{"clientId": "app"})
	if conflict.obj(t)["errorMessage"] != "Client app already exists" {
		t.Errorf("409 body: %s", conflict.raw)
	}
	if status, _ := e.serviceToken("demo", "app", secret); status != 200 {
		t.Fatalf("client_credentials with the new client: %d", status)
	}
	var regen map[string]string
	e.must(200, "POST", "/admin/realms/demo/clients/"+id+"/client-secret", e.admin, nil).json(t, &regen)
	if regen["type"] != "secret" || regen["value"] == "" || regen["value"] == secret {
		t.Fatalf("regenerated: %v", regen)
	}
	if status, m := e.serviceToken("demo", "app", secret); status != 401 {
		t.Errorf("old secret still works right after regeneration: %d %v", status, m)
	}
	if status, _ := e.serviceToken("demo", "app", regen["value"]); status != 200 {
		t.Errorf("new secret fails: %d", status)
	}

	uid := idFromLocation(t, e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{
		"username": "alice", "enabled": true, "email": "alice@example.com",
		"credentials": []map[string]any{{"type": "password", "value": "first-Pass1", "temporary": false}}}))
	e.passwordToken("demo", "app", regen["value"], "alice", "first-Pass1")
	e.must(204, "PUT", "/admin/realms/demo/users/"+uid+"/reset-password", e.admin,
		map[string]any{"type": "password", "value": "second-Pass2", "temporary": false})
	if status, _ := e.tokenRequest("demo", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"first-Pass1"}}, "app", regen["value"]); status != 401 {
		t.Errorf("old password still works: %d", status)
	}
	e.must(201, "POST", "/admin/realms/demo/roles", e.admin, map[string]any{"name": "reader", "description": "reads"})
	role := e.must(200, "GET", "/admin/realms/demo/roles/reader", e.admin, nil).obj(t)
	e.must(204, "POST", "/admin/realms/demo/users/"+uid+"/role-mappings/realm", e.admin,
		[]map[string]any{{"id": role["id"], "name": "reader"}})
	tok := e.passwordToken("demo", "app", regen["value"], "alice", "second-Pass2")
	if !strings.Contains(payload(t, tok), `"reader"`) {
		t.Errorf("mapped role missing from the next token: %s", payload(t, tok))
	}
	var mapped []map[string]any
	e.must(200, "GET", "/admin/realms/demo/users/"+uid+"/role-mappings/realm", e.admin, nil).json(t, &mapped)
	names := []string{}
	for _, m := range mapped {
		names = append(names, m["name"].(string))
	}
	if !slices.Contains(names, "reader") {
		t.Errorf("role-mappings/realm = %v", names)
	}
}

// A script administers clients with its own confidential client's
// client_credentials token once that service account holds manage-clients,
// and can do nothing else.
func TestServiceAccountWithManageClients(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "other", "enabled": true})
	botID, botSecret := e.createClient("demo", e.admin, map[string]any{"clientId": "bot", "serviceAccountsEnabled": true})
	e.grantRealmManagement("demo", botID, "manage-clients")
	status, m := e.serviceToken("demo", "bot", botSecret)
	if status != 200 {
		t.Fatalf("bot token: %d %v", status, m)
	}
	bot := m["access_token"].(string)

	id, _ := e.createClient("demo", bot, map[string]any{"clientId": "made-by-bot"})
	e.must(200, "GET", "/admin/realms/demo/clients/"+id+"/client-secret", bot, nil)
	e.must(200, "POST", "/admin/realms/demo/clients/"+id+"/client-secret", bot, nil)
	e.must(204, "PUT", "/admin/realms/demo/clients/"+id, bot, map[string]any{"enabled": false})
	e.must(204, "DELETE", "/admin/realms/demo/clients/"+id, bot, nil)

	for _, c := range []struct{ method, path string }{
		{"GET", "/admin/realms/demo/users"},
		{"POST", "/admin/realms/demo/roles"},
		{"PUT", "/admin/realms/demo"},
		{"GET", "/admin/realms/other/clients"},
		{"POST", "/admin/realms"},
		{"DELETE", "/admin/realms/demo"},
	} {
		if r := e.call(c.method, c.path, bot, map[string]any{"name": "x", "realm": "x"}); r.status != 403 {
			t.Errorf("%s %s: %d %s, want 403", c.method, c.path, r.status, r.raw)
		}
	}
	// Privilege escalation through mappings is refused.
	e.grantRealmManagement("demo", botID, "manage-users")
	_, m = e.serviceToken("demo", "bot", botSecret)
	bot = m["access_token"].(string)
	var sa map[string]any
	e.must(200, "GET", "/admin/realms/demo/clients/"+botID+"/service-account-user", e.admin, nil).json(t, &sa)
	var rm []map[string]any
	e.must(200, "GET", "/admin/realms/demo/clients?clientId=realm-management", e.admin, nil).json(t, &rm)
	if r := e.call("POST", "/admin/realms/demo/users/"+sa["id"].(string)+"/role-mappings/clients/"+rm[0]["id"].(string), bot,
		[]map[string]string{{"name": "realm-admin"}}); r.status != 403 {
		t.Errorf("manage-users granted itself realm-admin: %d %s", r.status, r.raw)
	}
	// Roles are read at call time: removing manage-clients takes effect at once.
	e.must(204, "DELETE", "/admin/realms/demo/users/"+sa["id"].(string)+"/role-mappings/clients/"+rm[0]["id"].(string), e.admin,
		[]map[string]string{{"name": "manage-clients"}})
	if r := e.call("GET", "/admin/realms/demo/clients", bot, nil); r.status != 403 {
		t.Errorf("revoked manage-clients still works: %d", r.status)
	}
}

// Each realm-management role allows exactly what it names.
func TestAdminAuthorizationMatrix(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	uid := idFromLocation(t, e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{"username": "target", "enabled": true}))
	cid, _ := e.createClient("demo", e.admin, map[string]any{"clientId": "target-client"})

	type probe struct {
		method, path string
		body         any
	}
	probes := map[string]probe{
		"view-realm":     {"GET", "/admin/realms/demo", nil},
		"manage-realm":   {"PUT", "/admin/realms/demo", map[string]any{"displayName": "Demo"}},
		"query-clients":  {"GET", "/admin/realms/demo/clients", nil},
		"view-clients":   {"GET", "/admin/realms/demo/clients/" + cid, nil},
		"create-client":  {"POST", "/admin/realms/demo/clients", map[string]any{"clientId": "c-" + time.Now().Format("150405.000000")}},
		"manage-clients": {"PUT", "/admin/realms/demo/clients/" + cid, map[string]any{"description": "x"}},
		"query-users":    {"GET", "/admin/realms/demo/users", nil},
		"view-users":     {"GET", "/admin/realms/demo/users/" + uid, nil},
		"manage-users":   {"PUT", "/admin/realms/demo/users/" + uid, map[string]any{"firstName": "T"}},
		"view-events":    {"GET", "/admin/realms/demo/admin-events", nil},
	}
	// allowed[role] = the probes the role opens (itself plus what it implies).
	allowed := map[string][]string{
		"view-realm":     {"view-realm"},
		"manage-realm":   {"manage-realm", "view-realm"},
		"query-clients":  {"query-clients"},
		"view-clients":   {"view-clients", "query-clients"},
		"create-client":  {"create-client"},
		"manage-clients": {"manage-clients", "view-clients", "query-clients", "create-client"},
		"query-users":    {"query-users"},
		"view-users":     {"view-users", "query-users"},
		"manage-users":   {"manage-users", "view-users", "query-users"},
		"view-events":    {"view-events"},
	}
	for role, opens := range allowed {
		t.Run(role, func(t *testing.T) {
			id, secret := e.createClient("demo", e.admin, map[string]any{"clientId": "sa-" + role, "serviceAccountsEnabled": true})
			e.grantRealmManagement("demo", id, role)
			_, m := e.serviceToken("demo", "sa-"+role, secret)
			tok := m["access_token"].(string)
			for name, p := range probes {
				body := p.body
				if name == "create-client" {
					body = map[string]any{"clientId": "c-" + role + "-" + time.Now().Format("150405.000000000")}
				}
				r := e.call(p.method, p.path, tok, body)
				ok := r.status >= 200 && r.status < 300
				if want := slices.Contains(opens, name); ok != want {
					t.Errorf("%s via %s %s: %d %s (allowed=%v)", name, p.method, p.path, r.status, r.raw, want)
				}
			}
		})
	}
}

func TestAdminAuthentication(t *testing.T) {
	e := newEnv(t)
	for name, tok := range map[string]string{"none": "", "garbage": "garbage", "forged": "eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwOi8veC9yZWFsbXMvbWFzdGVyIn0."} {
		r := e.call("GET", "/admin/realms", tok, nil)
		if r.status != 401 {
			t.Errorf("%s: %d %s", name, r.status, r.raw)
		}
	}
	// A plain user of a realm has no admin rights at all.
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	e.must(201, "POST", "/admin/realms/demo/clients", e.admin, map[string]any{"clientId": "cli", "publicClient": true, "directAccessGrantsEnabled": true})
	e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{"username": "joe", "enabled": true,
		"credentials": []map[string]any{{"type": "password", "value": "joe-Pass-1"}}})
	joe := e.passwordToken("demo", "cli", "", "joe", "joe-Pass-1")
	if r := e.call("GET", "/admin/realms/demo/users", joe, nil); r.status != 403 {
		t.Errorf("plain user: %d", r.status)
	}
	var list []map[string]any
	e.must(200, "GET", "/admin/realms", joe, nil).json(t, &list)
	if len(list) != 0 {
		t.Errorf("plain user sees realms: %v", list)
	}
}

func payload(t *testing.T, jwt string) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
