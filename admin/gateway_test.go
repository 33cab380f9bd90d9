package admin_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestIdentityProvidersAdmin(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	base := "/admin/realms/demo/identity-provider/instances"
	e.must(201, "POST", base, e.admin, map[string]any{"alias": "cp", "providerId": "oidc", "enabled": true,
		"config": map[string]any{"issuer": "https://cp.example", "jwksUrl": "https://cp.example/jwks", "useJwksUrl": "true", "validateSignature": "true"}})
	e.must(409, "POST", base, e.admin, map[string]any{"alias": "cp", "config": map[string]any{"issuer": "https://x", "jwksUrl": "https://x/jwks"}})
	got := e.must(200, "GET", base+"/cp", e.admin, nil).obj(t)
	if got["alias"] != "cp" || got["config"].(map[string]any)["issuer"] != "https://cp.example" {
		t.Errorf("idp: %v", got)
	}
	for name, body := range map[string]map[string]any{
		"no issuer":            {"alias": "x", "config": map[string]any{}},
		"relative issuer":      {"alias": "x", "config": map[string]any{"issuer": "/realms/x"}},
		"unsigned":             {"alias": "x", "config": map[string]any{"issuer": "https://x", "validateSignature": "false"}},
		"saml":                 {"alias": "x", "providerId": "saml", "config": map[string]any{"issuer": "https://x"}},
		"path traversal alias": {"alias": "../x", "config": map[string]any{"issuer": "https://x"}},
	} {
		if r := e.call("POST", base, e.admin, body); r.status != 400 {
			t.Errorf("%s: %d %s", name, r.status, r.raw)
		}
	}
	e.must(204, "PUT", base+"/cp", e.admin, map[string]any{"enabled": false})
	if got := e.must(200, "GET", base+"/cp", e.admin, nil).obj(t); got["enabled"] != false {
		t.Errorf("update: %v", got)
	}
	var list []map[string]any
	e.must(200, "GET", base, e.admin, nil).json(t, &list)
	if len(list) != 1 {
		t.Errorf("list: %v", list)
	}
	e.must(204, "DELETE", base+"/cp", e.admin, nil)
	e.must(404, "GET", base+"/cp", e.admin, nil)
}

func TestTopologiesAdmin(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	r := e.must(201, "PUT", "/admin/gateway/topologies/authtkn", e.admin, map[string]any{"realm": "demo", "authentication": "basic"})
	got := r.obj(t)
	// Knox's defaults fill what was not given.
	if got["ttl"] != "PT30S" || got["maxLifetime"] != "P7D" || got["renewInterval"] != "P1D" || got["limitPerUser"] != float64(10) ||
		got["limitAction"] != "RETURN_ERROR" || got["managed"] != false {
		t.Errorf("defaults: %v", got)
	}
	e.must(200, "PUT", "/admin/gateway/topologies/authtkn", e.admin, map[string]any{"realm": "demo", "authentication": "basic", "ttl": "PT1H", "managed": true})
	if got := e.must(200, "GET", "/admin/gateway/topologies/authtkn", e.admin, nil).obj(t); got["ttl"] != "PT1H" || got["managed"] != true {
		t.Errorf("replace: %v", got)
	}
	for name, body := range map[string]map[string]any{
		"unknown realm":   {"realm": "nope", "authentication": "basic"},
		"bad auth":        {"realm": "demo", "authentication": "kerberos"},
		"bad ttl":         {"realm": "demo", "authentication": "basic", "ttl": "1 hour"},
		"bad action":      {"realm": "demo", "authentication": "basic", "limitAction": "PANIC"},
		"bad target":      {"realm": "demo", "authentication": "basic", "targetUrl": "not a url"},
		"wrong type":      {"realm": "demo", "authentication": "basic", "managed": "yes"},
		"name mismatch":   {"name": "other", "realm": "demo", "authentication": "basic"},
		"negative limits": {"realm": "demo", "authentication": "basic", "limitPerUser": -5},
	} {
		if r := e.call("PUT", "/admin/gateway/topologies/t1", e.admin, body); r.status != 400 {
			t.Errorf("%s: %d %s", name, r.status, r.raw)
		}
	}
	if r := e.call("PUT", "/admin/gateway/topologies/..%2Fx", e.admin, map[string]any{"realm": "demo", "authentication": "basic"}); r.status < 400 || r.status >= 500 {
		t.Errorf("traversal name: %d", r.status)
	}
	// Only master admins define topologies.
	e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{"username": "joe", "enabled": true,
		"credentials": []map[string]any{{"value": "joe-Pass-1"}}})
	e.must(201, "POST", "/admin/realms/demo/clients", e.admin, map[string]any{"clientId": "cli", "publicClient": true, "directAccessGrantsEnabled": true})
	joe := e.passwordToken("demo", "cli", "", "joe", "joe-Pass-1")
	if r := e.call("PUT", "/admin/gateway/topologies/x", joe, map[string]any{"realm": "demo", "authentication": "basic"}); r.status != 403 {
		t.Errorf("non-admin PUT: %d", r.status)
	}
	var list []map[string]any
	e.must(200, "GET", "/admin/gateway/topologies", joe, nil).json(t, &list)
	if len(list) != 0 {
		t.Errorf("non-admin sees topologies: %v", list)
	}
	// Renaming the realm keeps its topology (bound to the realm's ID): the
	// admin view names the new name, and Knox issues through it below.
	e.must(204, "PUT", "/admin/realms/demo", e.admin, map[string]any{"realm": "renamed"})
	if got := e.must(200, "GET", "/admin/gateway/topologies/authtkn", e.admin, nil).obj(t); got["realm"] != "renamed" {
		t.Errorf("topology after its realm's rename: %v", got)
	}
	// Knox token through the new topology, then delete it: 404.
	req, _ := http.NewRequest("GET", e.srv.URL+"/gateway/authtkn/knoxtoken/api/v1/token", nil)
	req.SetBasicAuth("joe", "joe-Pass-1")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("knox token: %v %v", err, res)
	}
	res.Body.Close()
	e.must(204, "DELETE", "/admin/gateway/topologies/authtkn", e.admin, nil)
	res, _ = http.DefaultClient.Do(req)
	if res.StatusCode != 404 {
		t.Errorf("deleted topology: %d", res.StatusCode)
	}
	res.Body.Close()
	var events []map[string]any
	e.must(200, "GET", "/admin/realms/master/admin-events", e.admin, nil).json(t, &events)
	if len(events) == 0 || !strings.HasPrefix(events[0]["resourcePath"].(string), "gateway/topologies/") {
		t.Errorf("topology changes not audited: %v", events)
	}
}
