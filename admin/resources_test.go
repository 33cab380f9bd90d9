package admin_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestClientSecretRotationGrace(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	id, old := e.createClient("demo", e.admin, map[string]any{"clientId": "app", "serviceAccountsEnabled": true,
		"attributes": map[string]string{"client.secret.rotation.grace.seconds": "60"}})
	var regen map[string]string
	e.must(200, "POST", "/admin/realms/demo/clients/"+id+"/client-secret", e.admin, nil).json(t, &regen)
	for _, s := range []string{old, regen["value"]} {
		if status, _ := e.serviceToken("demo", "app", s); status != 200 {
			t.Errorf("secret within grace refused: %d", status)
		}
	}
	var rotated map[string]string
	e.must(200, "GET", "/admin/realms/demo/clients/"+id+"/client-secret/rotated", e.admin, nil).json(t, &rotated)
	if rotated["value"] != old {
		t.Errorf("rotated = %v", rotated)
	}
	rep := e.must(200, "GET", "/admin/realms/demo/clients/"+id, e.admin, nil).obj(t)
	attrs := rep["attributes"].(map[string]any)
	exp, _ := strconv.ParseInt(fmt.Sprint(attrs["client.secret.rotated.expiration.time"]), 10, 64)
	if attrs["client.secret.rotated"] != old || exp < time.Now().Unix()+50 {
		t.Errorf("rotation attributes: %v", attrs)
	}
	e.must(204, "DELETE", "/admin/realms/demo/clients/"+id+"/client-secret/rotated", e.admin, nil)
	if status, _ := e.serviceToken("demo", "app", old); status != 401 {
		t.Errorf("rotated secret works after DELETE …/rotated: %d", status)
	}
	e.must(404, "GET", "/admin/realms/demo/clients/"+id+"/client-secret/rotated", e.admin, nil)
}

// Deleting a client or a user ends its sessions: refresh tokens stop working.
func TestDeleteInvalidatesRefreshTokens(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	id, secret := e.createClient("demo", e.admin, map[string]any{"clientId": "app", "directAccessGrantsEnabled": true})
	uid := idFromLocation(t, e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{
		"username": "alice", "enabled": true, "credentials": []map[string]any{{"value": "pw-Alice-1"}}}))
	login := func() string {
		_, m := e.tokenRequest("demo", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"pw-Alice-1"}}, "app", secret)
		return m["refresh_token"].(string)
	}
	refresh := func(rt string) int {
		s, _ := e.tokenRequest("demo", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "app", secret)
		return s
	}
	rt := login()
	e.must(204, "DELETE", "/admin/realms/demo/users/"+uid, e.admin, nil)
	if s := refresh(rt); s != 400 {
		t.Errorf("refresh after user deletion: %d", s)
	}
	e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{
		"username": "alice", "enabled": true, "credentials": []map[string]any{{"value": "pw-Alice-1"}}})
	rt = login()
	e.must(204, "DELETE", "/admin/realms/demo/clients/"+id, e.admin, nil)
	if s := refresh(rt); s != 401 && s != 400 {
		t.Errorf("refresh after client deletion: %d", s)
	}
	e.must(404, "GET", "/admin/realms/demo/clients/"+id, e.admin, nil)
}

func TestUsersQueriesAndConflicts(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	for i := range 5 {
		e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{
			"username": fmt.Sprintf("user%d", i), "email": fmt.Sprintf("u%d@example.com", i), "enabled": i%2 == 0})
	}
	r := e.must(409, "POST", "/admin/realms/demo/users", e.admin, map[string]any{"username": "USER1"})
	if r.obj(t)["errorMessage"] != "User exists with same username" {
		t.Errorf("409: %s", r.raw)
	}
	r = e.must(409, "POST", "/admin/realms/demo/users", e.admin, map[string]any{"username": "new", "email": "U2@example.com"})
	if r.obj(t)["errorMessage"] != "User exists with same email" {
		t.Errorf("409: %s", r.raw)
	}
	var page []map[string]any
	e.must(200, "GET", "/admin/realms/demo/users?first=1&max=2", e.admin, nil).json(t, &page)
	if len(page) != 2 || page[0]["username"] != "user1" || page[1]["username"] != "user2" {
		t.Errorf("page: %v", page)
	}
	e.must(200, "GET", "/admin/realms/demo/users?username=user3&exact=true", e.admin, nil).json(t, &page)
	if len(page) != 1 || page[0]["email"] != "u3@example.com" {
		t.Errorf("exact: %v", page)
	}
	var n int
	e.must(200, "GET", "/admin/realms/demo/users/count?enabled=true", e.admin, nil).json(t, &n)
	if n != 3 {
		t.Errorf("count enabled = %d", n)
	}
	// Keycloak's search is a prefix search; "*" makes it infix.
	e.must(200, "GET", "/admin/realms/demo/users/count?search=*example", e.admin, nil).json(t, &n)
	if n != 5 {
		t.Errorf("count search = %d", n)
	}
	for _, bad := range []struct {
		method, path string
		body         any
		status       int
	}{
		{"GET", "/admin/realms/demo/users?max=abc", nil, 400},
		{"GET", "/admin/realms/demo/users?first=-1", nil, 400},
		{"POST", "/admin/realms/demo/users", map[string]any{"username": 42}, 400},
		{"POST", "/admin/realms/demo/users", `{"username":`, 400},
		{"POST", "/admin/realms/demo/users", map[string]any{"email": "x@y"}, 400},
		{"POST", "/admin/realms/demo/users", map[string]any{"username": "bad-mail", "email": "not-an-email"}, 400},
		{"POST", "/admin/realms/demo/clients", map[string]any{"clientId": ""}, 400},
		{"POST", "/admin/realms/demo/clients", map[string]any{"clientId": "x", "publicClient": true, "serviceAccountsEnabled": true}, 400},
		{"PUT", "/admin/realms/demo", map[string]any{"defaultSignatureAlgorithm": "HS256"}, 400},
		{"PUT", "/admin/realms/demo", map[string]any{"accessTokenLifespan": "300"}, 400},
		{"GET", "/admin/realms/demo/users/00000000-0000-0000-0000-000000000000", nil, 404},
		{"GET", "/admin/realms/nope/users", nil, 404},
		{"GET", "/admin/realms/demo/roles/nope", nil, 404},
		{"PUT", "/admin/realms/demo/users/00000000-0000-0000-0000-000000000000/reset-password", map[string]any{"value": "x"}, 404},
	} {
		r := e.call(bad.method, bad.path, e.admin, bad.body)
		if r.status != bad.status {
			t.Errorf("%s %s %v: %d %s, want %d", bad.method, bad.path, bad.body, r.status, r.raw, bad.status)
			continue
		}
		m := r.obj(t)
		if m["errorMessage"] == nil || m["errorMessage"] == "" {
			t.Errorf("%s %s: no errorMessage in %s", bad.method, bad.path, r.raw)
		}
	}
	// The type error names the field.
	r = e.call("POST", "/admin/realms/demo/users", e.admin, map[string]any{"username": 42})
	if msg := r.obj(t)["errorMessage"].(string); !strings.Contains(msg, "username") {
		t.Errorf("type error does not name the field: %q", msg)
	}
}

func TestRolesAndMappings(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	cid, secret := e.createClient("demo", e.admin, map[string]any{"clientId": "app", "directAccessGrantsEnabled": true})
	e.must(201, "POST", "/admin/realms/demo/clients/"+cid+"/roles", e.admin, map[string]any{"name": "writer"})
	e.must(409, "POST", "/admin/realms/demo/clients/"+cid+"/roles", e.admin, map[string]any{"name": "writer"})
	// Same name as a realm role is fine: separate namespaces.
	e.must(201, "POST", "/admin/realms/demo/roles", e.admin, map[string]any{"name": "writer"})
	role := e.must(200, "GET", "/admin/realms/demo/clients/"+cid+"/roles/writer", e.admin, nil).obj(t)
	if role["clientRole"] != true || role["containerId"] != cid {
		t.Errorf("client role: %v", role)
	}
	byID := e.must(200, "GET", "/admin/realms/demo/roles-by-id/"+role["id"].(string), e.admin, nil).obj(t)
	if byID["name"] != "writer" {
		t.Errorf("roles-by-id: %v", byID)
	}
	uid := idFromLocation(t, e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{
		"username": "bob", "enabled": true, "credentials": []map[string]any{{"value": "pw-Bob-123"}}}))
	e.must(204, "POST", "/admin/realms/demo/users/"+uid+"/role-mappings/clients/"+cid, e.admin, []map[string]any{{"name": "writer"}})
	all := e.must(200, "GET", "/admin/realms/demo/users/"+uid+"/role-mappings", e.admin, nil).obj(t)
	cm := all["clientMappings"].(map[string]any)["app"].(map[string]any)
	if cm["id"] != cid || len(cm["mappings"].([]any)) != 1 {
		t.Errorf("role-mappings: %v", all)
	}
	tok := e.passwordToken("demo", "app", secret, "bob", "pw-Bob-123")
	if !strings.Contains(payload(t, tok), `"resource_access":{"app":{"roles":["writer"]}}`) {
		t.Errorf("client role missing from token: %s", payload(t, tok))
	}
	e.must(204, "PUT", "/admin/realms/demo/roles-by-id/"+role["id"].(string), e.admin, map[string]any{"name": "author"})
	e.must(204, "DELETE", "/admin/realms/demo/clients/"+cid+"/roles/author", e.admin, nil)
	tok = e.passwordToken("demo", "app", secret, "bob", "pw-Bob-123")
	if strings.Contains(payload(t, tok), "resource_access") {
		t.Errorf("deleted role still in token: %s", payload(t, tok))
	}
	e.must(400, "DELETE", "/admin/realms/demo/roles/offline_access", e.admin, nil)
	e.must(400, "DELETE", "/admin/realms/demo/roles/default-roles-demo", e.admin, nil)
	var creds []map[string]any
	e.must(200, "GET", "/admin/realms/demo/users/"+uid+"/credentials", e.admin, nil).json(t, &creds)
	if len(creds) != 1 || creds[0]["type"] != "password" || creds[0]["secretData"] != nil {
		t.Errorf("credentials: %v", creds)
	}
}

func TestRealmLifecycleAndEvents(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true, "accessTokenLifespan": 600})
	rep := e.must(200, "GET", "/admin/realms/demo", e.admin, nil).obj(t)
	if rep["accessTokenLifespan"] != float64(600) || rep["ssoSessionIdleTimeout"] != float64(1800) || rep["defaultSignatureAlgorithm"] != "RS256" {
		t.Errorf("realm: %v", rep)
	}
	id, secret := e.createClient("demo", e.admin, map[string]any{"clientId": "app", "serviceAccountsEnabled": true})
	e.must(204, "PUT", "/admin/realms/demo", e.admin, map[string]any{"defaultSignatureAlgorithm": "ES256"})
	_, m := e.serviceToken("demo", "app", secret)
	if h := header(t, m["access_token"].(string)); h["alg"] != "ES256" {
		t.Errorf("alg after switch: %v", h)
	}
	var events []map[string]any
	e.must(200, "GET", "/admin/realms/demo/admin-events?max=2", e.admin, nil).json(t, &events)
	if len(events) != 2 || events[0]["operationType"] != "UPDATE" || events[0]["resourceType"] != "REALM" ||
		events[1]["resourcePath"] != "clients/"+id {
		t.Errorf("events newest first: %v", events)
	}
	auth := events[0]["authDetails"].(map[string]any)
	if auth["username"] != "admin" || auth["clientId"] != "admin-cli" {
		t.Errorf("authDetails: %v", auth)
	}
	for _, ev := range events {
		if strings.Contains(fmt.Sprint(ev["representation"]), secret) {
			t.Errorf("secret in the audit log")
		}
	}
	// Rename, then delete: everything goes at once.
	e.must(204, "PUT", "/admin/realms/demo", e.admin, map[string]any{"realm": "renamed"})
	e.must(404, "GET", "/admin/realms/demo", e.admin, nil)
	if status, _ := e.serviceToken("renamed", "app", secret); status != 200 {
		t.Errorf("token in renamed realm: %d", status)
	}
	e.must(204, "DELETE", "/admin/realms/renamed", e.admin, nil)
	if status, _ := e.serviceToken("renamed", "app", secret); status != 404 {
		t.Errorf("token after realm deletion: %d", status)
	}
	e.must(409, "DELETE", "/admin/realms/master", e.admin, nil)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "renamed", "enabled": true})
	var clients []map[string]any
	e.must(200, "GET", "/admin/realms/renamed/clients?clientId=app", e.admin, nil).json(t, &clients)
	if len(clients) != 0 {
		t.Errorf("re-created realm sees old clients: %v", clients)
	}
}

func header(t *testing.T, jwt string) map[string]any {
	t.Helper()
	var h map[string]any
	b, err := base64.RawURLEncoding.DecodeString(jwt[:strings.IndexByte(jwt, '.')])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}
