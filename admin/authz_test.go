package admin_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// authzEnv is realm demo with resource server "models" (its UUID in srv)
// and user olive holding realm role analyst.
type authzEnv struct {
	*env
	base  string // .../clients/{id}/authz/resource-server
	srv   string
	olive string
}

func newAuthzEnv(t *testing.T) *authzEnv {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	srv, _ := e.createClient("demo", e.admin, map[string]any{"clientId": "models", "serviceAccountsEnabled": true,
		"authorizationServicesEnabled": true})
	e.must(201, "POST", "/admin/realms/demo/roles", e.admin, map[string]any{"name": "analyst"})
	olive := idFromLocation(t, e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{"username": "olive", "enabled": true}))
	e.must(204, "POST", "/admin/realms/demo/users/"+olive+"/role-mappings/realm", e.admin, []map[string]string{{"name": "analyst"}})
	return &authzEnv{env: e, base: "/admin/realms/demo/clients/" + srv + "/authz/resource-server", srv: srv, olive: olive}
}

func wantMessage(t *testing.T, r resp, status int, contains string) {
	t.Helper()
	if r.status != status || !strings.Contains(r.raw, contains) {
		t.Fatalf("got %d %s, want %d mentioning %q", r.status, r.raw, status, contains)
	}
}

func TestResourceServerSettingsAndEnabling(t *testing.T) {
	e := newAuthzEnv(t)
	var rs map[string]any
	e.must(200, "GET", e.base, e.admin, nil).json(t, &rs)
	if rs["policyEnforcementMode"] != "ENFORCING" || rs["decisionStrategy"] != "UNANIMOUS" || rs["clientId"] != "models" ||
		rs["allowRemoteResourceManagement"] != true {
		t.Fatalf("defaults: %v", rs)
	}
	e.must(204, "PUT", e.base, e.admin, map[string]any{"policyEnforcementMode": "PERMISSIVE", "allowRemoteResourceManagement": false})
	e.must(200, "GET", e.base, e.admin, nil).json(t, &rs)
	if rs["policyEnforcementMode"] != "PERMISSIVE" || rs["decisionStrategy"] != "UNANIMOUS" || rs["allowRemoteResourceManagement"] != false {
		t.Fatalf("after PUT: %v", rs)
	}
	wantMessage(t, e.call("PUT", e.base, e.admin, map[string]any{"decisionStrategy": "MAJORITY"}), 400, "decisionStrategy")
	wantMessage(t, e.call("PUT", e.base, e.admin, map[string]any{"resources": []any{}}), 400, "unsupported field resources")
	wantMessage(t, e.call("PUT", e.base, e.admin, map[string]any{"clientId": "other"}), 400, "clientId")

	var client map[string]any
	e.must(200, "GET", "/admin/realms/demo/clients/"+e.srv, e.admin, nil).json(t, &client)
	if client["authorizationServicesEnabled"] != true {
		t.Fatalf("client representation: %v", client["authorizationServicesEnabled"])
	}
	// A public client cannot be a resource server.
	wantMessage(t, e.call("POST", "/admin/realms/demo/clients", e.admin, map[string]any{"clientId": "spa", "publicClient": true,
		"authorizationServicesEnabled": true}), 400, "authorizationServicesEnabled")
	plain, _ := e.createClient("demo", e.admin, map[string]any{"clientId": "plain"})
	e.must(404, "GET", "/admin/realms/demo/clients/"+plain+"/authz/resource-server", e.admin, nil)

	// Turning it off hides the server's records; on again, they are back
	// with the settings they had.
	e.must(201, "POST", e.base+"/resource", e.admin, map[string]any{"name": "doc"})
	e.must(204, "PUT", "/admin/realms/demo/clients/"+e.srv, e.admin, map[string]any{"authorizationServicesEnabled": false})
	e.must(404, "GET", e.base+"/resource", e.admin, nil)
	e.must(204, "PUT", "/admin/realms/demo/clients/"+e.srv, e.admin, map[string]any{"authorizationServicesEnabled": true})
	if got := names(t, e.must(200, "GET", e.base+"/resource", e.admin, nil), "name"); !slices.Equal(got, []string{"doc"}) {
		t.Fatalf("resources after re-enabling: %v", got)
	}
}

func TestAuthzResourcesThroughTheAdminAPI(t *testing.T) {
	e := newAuthzEnv(t)
	e.must(201, "POST", e.base+"/scope", e.admin, map[string]any{"name": "read", "displayName": "Read"})
	var res map[string]any
	e.must(201, "POST", e.base+"/resource", e.admin, map[string]any{
		"name": "llama", "type": "model-group", "uris": []string{"/models/llama"}, "owner": "olive",
		"scopes": []any{map[string]any{"name": "read"}, "deploy"}, "attributes": map[string][]string{"team": {"ml"}},
		"access_mode": "restricted", "backend_roles": []string{"analyst"}, "description": "LLMs",
	}).json(t, &res)
	id := res["_id"].(string)
	owner := res["owner"].(map[string]any)
	if owner["id"] != e.olive || owner["name"] != "olive" || res["access_mode"] != "restricted" ||
		!slices.Equal(names(t, resp{raw: mustJSON(t, res["scopes"])}, "name"), []string{"deploy", "read"}) ||
		mustJSON(t, res["backend_roles"]) != `["analyst"]` {
		t.Fatalf("created: %v", res)
	}
	child := e.must(201, "POST", e.base+"/resource", e.admin, map[string]any{"name": "llama-7b", "owner": map[string]string{"id": e.olive}, "parent": id}).obj(t)
	if child["access_mode"] != "private" || child["parent"] != id {
		t.Fatalf("child: %v", child)
	}

	// Searches.
	if got := names(t, e.must(200, "GET", e.base+"/resource?owner=olive&type=model", e.admin, nil), "name"); !slices.Equal(got, []string{"llama"}) {
		t.Errorf("by owner and type: %v", got)
	}
	if got := names(t, e.must(200, "GET", e.base+"/resource?uri=/models&scope=read", e.admin, nil), "name"); !slices.Equal(got, []string{"llama"}) {
		t.Errorf("by uri and scope: %v", got)
	}
	var ids []string
	e.must(200, "GET", e.base+"/resource?deep=false&name=llama", e.admin, nil).json(t, &ids)
	if len(ids) != 2 {
		t.Errorf("ids: %v", ids)
	}
	if got := e.must(200, "GET", e.base+"/resource?first=1&max=1", e.admin, nil).raw; !strings.Contains(got, "llama-7b") {
		t.Errorf("second page: %s", got)
	}
	e.must(200, "GET", e.base+"/resource/search?name=llama", e.admin, nil)
	e.must(204, "GET", e.base+"/resource/search?name=nope", e.admin, nil)
	if got := names(t, e.must(200, "GET", e.base+"/resource/"+id+"/scopes", e.admin, nil), "name"); !slices.Equal(got, []string{"deploy", "read"}) {
		t.Errorf("resource scopes: %v", got)
	}

	// Validation: every refusal names its field.
	for _, tc := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"name": "x", "foo": 1}, "unsupported field foo"},
		{map[string]any{"name": "x", "scopes": []any{map[string]any{"name": "a", "bar": 1}}}, "bar"},
		{map[string]any{"name": "x", "owner": map[string]any{"id": "olive", "baz": 1}}, "baz"},
		{map[string]any{"name": "x", "access_mode": "public", "backend_roles": []string{"analyst"}}, "backend_roles"},
		{map[string]any{"name": "x", "owner": "olive", "access_mode": "restricted"}, "backend_roles"},
		{map[string]any{"name": "x", "owner": "olive", "access_mode": "restricted", "add_all_backend_roles": true}, "add_all_backend_roles"},
		{map[string]any{"name": "x", "access_mode": "hidden"}, "access_mode"},
		{map[string]any{"name": "x", "owner": "nobody"}, "owner"},
		{map[string]any{"name": ""}, "name"},
		{map[string]any{"name": "x", "_id": "chosen"}, "_id"},
	} {
		wantMessage(t, e.call("POST", e.base+"/resource", e.admin, tc.body), 400, tc.want)
	}
	wantMessage(t, e.call("POST", e.base+"/resource", e.admin, map[string]any{"name": "llama"}), 409, "llama")
	wantMessage(t, e.call("DELETE", e.base+"/resource/"+id, e.admin, nil), 409, "child")

	// Update: the PUT replaces the descriptive fields and keeps the access
	// fields it leaves out.
	e.must(204, "PUT", e.base+"/resource/"+id, e.admin, map[string]any{"name": "llama", "description": "v2", "scopes": []string{"read"}})
	got := e.must(200, "GET", e.base+"/resource/"+id, e.admin, nil).obj(t)
	if got["description"] != "v2" || got["access_mode"] != "restricted" || mustJSON(t, got["backend_roles"]) != `["analyst"]` || len(got["uris"].([]any)) != 0 {
		t.Fatalf("after PUT: %v", got)
	}
	wantMessage(t, e.call("PUT", e.base+"/resource/"+id, e.admin, map[string]any{"_id": "other", "name": "llama"}), 400, "_id")
	e.must(404, "GET", e.base+"/resource/no-such", e.admin, nil)

	// Access key: made once, shown once; GET tells only that it exists.
	var k1, k2, info map[string]any
	e.must(200, "POST", e.base+"/resource/"+id+"/access-key", e.admin, nil).json(t, &k1)
	e.must(200, "POST", e.base+"/resource/"+id+"/access-key", e.admin, nil).json(t, &k2)
	e.must(200, "GET", e.base+"/resource/"+id+"/access-key", e.admin, nil).json(t, &info)
	if k1["accessKey"] == "" || k1["accessKey"] == k2["accessKey"] || info["exists"] != true || info["accessKey"] != nil {
		t.Fatalf("keys %v %v info %v", k1, k2, info)
	}
	if _, err := e.svc.ResolveResourceByAccessKey(t.Context(), realmID(t, e.env, "demo"), e.srv, k1["accessKey"].(string)); err == nil {
		t.Fatal("the replaced key still resolves")
	}
	if r, err := e.svc.ResolveResourceByAccessKey(t.Context(), realmID(t, e.env, "demo"), e.srv, k2["accessKey"].(string)); err != nil || r.ID != id {
		t.Fatalf("the new key: %v %v", r.ID, err)
	}
	events := e.must(200, "GET", "/admin/realms/demo/admin-events", e.admin, nil).raw
	if strings.Contains(events, k2["accessKey"].(string)) || !strings.Contains(events, "AUTHORIZATION_RESOURCE") {
		t.Fatalf("admin events must record the key's making, never the key: %s", events)
	}

	e.must(204, "DELETE", e.base+"/resource/"+child["_id"].(string), e.admin, nil)
	e.must(204, "DELETE", e.base+"/resource/"+id, e.admin, nil)
	e.must(404, "GET", e.base+"/resource/"+id, e.admin, nil)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func realmID(t *testing.T, e *env, name string) string {
	t.Helper()
	st, err := e.svc.Realm(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return st.Realm.ID
}

func TestAuthzPoliciesAndPermissionsThroughTheAdminAPI(t *testing.T) {
	e := newAuthzEnv(t)
	e.must(201, "POST", e.base+"/resource", e.admin, map[string]any{"name": "doc", "scopes": []string{"read", "write"}})
	role := e.must(201, "POST", e.base+"/policy/role", e.admin, map[string]any{
		"name": "analysts", "roles": []map[string]any{{"id": "analyst", "required": false}}}).obj(t)
	if role["type"] != "role" || role["logic"] != "POSITIVE" || role["decisionStrategy"] != "UNANIMOUS" {
		t.Fatalf("role policy: %v", role)
	}
	// Generic create with Keycloak's config strings.
	user := e.must(201, "POST", e.base+"/policy", e.admin, map[string]any{
		"name": "olive only", "type": "user", "logic": "NEGATIVE", "config": map[string]string{"users": `["olive"]`}}).obj(t)
	if user["config"].(map[string]any)["users"] != `["`+e.olive+`"]` {
		t.Fatalf("user policy: %v", user)
	}
	perm := e.must(201, "POST", e.base+"/permission/resource", e.admin, map[string]any{
		"name": "doc readers", "resources": []string{"doc"}, "policies": []string{"analysts"}, "decisionStrategy": "AFFIRMATIVE"}).obj(t)
	scopePerm := e.must(201, "POST", e.base+"/permission/scope", e.admin, map[string]any{
		"name": "writers", "scopes": []string{"write"}, "policies": []string{"olive only"}}).obj(t)

	if got := names(t, e.must(200, "GET", e.base+"/policy?permission=false", e.admin, nil), "name"); !slices.Equal(got, []string{"analysts", "olive only"}) {
		t.Errorf("policies: %v", got)
	}
	if got := names(t, e.must(200, "GET", e.base+"/permission", e.admin, nil), "name"); !slices.Equal(got, []string{"doc readers", "writers"}) {
		t.Errorf("permissions: %v", got)
	}
	if got := names(t, e.must(200, "GET", e.base+"/policy", e.admin, nil), "name"); len(got) != 4 {
		t.Errorf("all: %v", got)
	}
	if got := names(t, e.must(200, "GET", e.base+"/policy?type=role", e.admin, nil), "name"); !slices.Equal(got, []string{"analysts"}) {
		t.Errorf("by type: %v", got)
	}
	typed := e.must(200, "GET", e.base+"/permission/resource/"+perm["id"].(string), e.admin, nil).obj(t)
	if mustJSON(t, typed["policies"]) != `["`+role["id"].(string)+`"]` || typed["decisionStrategy"] != "AFFIRMATIVE" {
		t.Errorf("typed permission: %v", typed)
	}
	generic := e.must(200, "GET", e.base+"/policy/"+role["id"].(string), e.admin, nil).obj(t)
	if !strings.Contains(generic["config"].(map[string]any)["roles"].(string), `"required":false`) {
		t.Errorf("generic role policy: %v", generic)
	}
	if got := names(t, e.must(200, "GET", e.base+"/permission/"+perm["id"].(string)+"/associatedPolicies", e.admin, nil), "name"); !slices.Equal(got, []string{"analysts"}) {
		t.Errorf("associated: %v", got)
	}
	if got := names(t, e.must(200, "GET", e.base+"/policy/"+role["id"].(string)+"/dependentPolicies", e.admin, nil), "name"); !slices.Equal(got, []string{"doc readers"}) {
		t.Errorf("dependent: %v", got)
	}
	if got := names(t, e.must(200, "GET", e.base+"/permission/"+scopePerm["id"].(string)+"/scopes", e.admin, nil), "name"); !slices.Equal(got, []string{"write"}) {
		t.Errorf("permission scopes: %v", got)
	}
	if got := names(t, e.must(200, "GET", e.base+"/permission/"+perm["id"].(string)+"/resources", e.admin, nil), "name"); !slices.Equal(got, []string{"doc"}) {
		t.Errorf("permission resources: %v", got)
	}
	if got := names(t, e.must(200, "GET", e.base+"/resource/"+docID(t, e)+"/permissions", e.admin, nil), "name"); !slices.Equal(got, []string{"doc readers"}) {
		t.Errorf("resource permissions: %v", got)
	}
	if got := names(t, e.must(200, "GET", e.base+"/policy/providers", e.admin, nil), "type"); !slices.Equal(got, []string{"aggregate", "client", "group", "role", "user"}) {
		t.Errorf("policy providers: %v", got)
	}
	if got := names(t, e.must(200, "GET", e.base+"/permission/providers", e.admin, nil), "type"); !slices.Equal(got, []string{"resource", "scope"}) {
		t.Errorf("permission providers: %v", got)
	}
	e.must(200, "GET", e.base+"/policy/search?name=analysts", e.admin, nil)
	e.must(204, "GET", e.base+"/policy/search?name=doc+readers", e.admin, nil)
	// A permission is not found under /policy/{type}, a policy not under
	// /permission.
	e.must(404, "GET", e.base+"/permission/"+role["id"].(string), e.admin, nil)
	e.must(404, "GET", e.base+"/policy/user/"+role["id"].(string), e.admin, nil)

	for _, tc := range []struct {
		path string
		body map[string]any
		want string
	}{
		{"/policy/role", map[string]any{"name": "x", "roles": []map[string]any{{"id": "analyst"}}, "fetchRoles": true}, "unsupported field fetchRoles"},
		{"/policy/role", map[string]any{"name": "x", "roles": []map[string]any{{"id": "nope"}}}, "nope"},
		{"/policy/user", map[string]any{"name": "x", "users": []string{"olive"}, "roles": []map[string]any{{"id": "analyst"}}}, "roles"},
		{"/policy", map[string]any{"name": "x", "type": "js", "config": map[string]string{"code": "1"}}, "config.code"},
		{"/policy", map[string]any{"name": "x", "type": "resource", "resources": []string{"doc"}}, "permission"},
		{"/policy", map[string]any{"name": "x", "type": "user", "config": map[string]string{"users": "not json"}}, "config.users"},
		{"/policy", map[string]any{"name": "x"}, "type"},
		{"/permission/scope", map[string]any{"name": "x", "scopes": []string{"fly"}}, "fly"},
		{"/permission/resource", map[string]any{"name": "x", "resources": []string{"doc"}, "policies": []string{"doc readers"}}, "policies"},
		{"/policy/aggregate", map[string]any{"name": "x", "type": "user", "policies": []string{"analysts"}}, "type"},
	} {
		wantMessage(t, e.call("POST", e.base+tc.path, e.admin, tc.body), 400, tc.want)
	}
	wantMessage(t, e.call("POST", e.base+"/policy/role", e.admin, map[string]any{"name": "analysts", "roles": []map[string]any{{"id": "analyst"}}}), 409, "analysts")

	// Update through the typed and the generic path; the type stays.
	e.must(204, "PUT", e.base+"/policy/role/"+role["id"].(string), e.admin, map[string]any{
		"name": "analysts", "logic": "NEGATIVE", "roles": []map[string]any{{"id": "analyst", "required": true}}})
	e.must(204, "PUT", e.base+"/policy/"+user["id"].(string), e.admin, map[string]any{"name": "olive", "users": []string{e.olive}})
	wantMessage(t, e.call("PUT", e.base+"/policy/"+user["id"].(string), e.admin, map[string]any{"name": "olive", "type": "client", "clients": []string{"models"}}), 400, "type")
	updated := e.must(200, "GET", e.base+"/policy/role/"+role["id"].(string), e.admin, nil).obj(t)
	if updated["logic"] != "NEGATIVE" || mustJSON(t, updated["roles"]) != `[{"id":"`+roleID(t, e.env, "analyst")+`","required":true}]` {
		t.Errorf("updated: %v", updated)
	}
	e.must(204, "DELETE", e.base+"/permission/"+perm["id"].(string), e.admin, nil)
	e.must(404, "GET", e.base+"/permission/"+perm["id"].(string), e.admin, nil)
}

func roleID(t *testing.T, e *env, name string) string {
	t.Helper()
	var r map[string]any
	e.must(200, "GET", "/admin/realms/demo/roles/"+url.PathEscape(name), e.admin, nil).json(t, &r)
	return r["id"].(string)
}

func TestAuthzAdminRights(t *testing.T) {
	e := newAuthzEnv(t)
	_, viewer := e.userWithRights("demo", "viewer", nil, "view-authorization")
	_, manager := e.userWithRights("demo", "manager", nil, "manage-authorization")
	_, clients := e.userWithRights("demo", "clients", nil, "manage-clients")
	e.must(201, "POST", e.base+"/resource", e.admin, map[string]any{"name": "doc", "owner": "olive"})
	for _, tc := range []struct {
		token  string
		method string
		path   string
		body   any
		want   int
	}{
		{viewer, "GET", "/resource", nil, 200},
		{viewer, "GET", "", nil, 200},
		{viewer, "POST", "/resource", map[string]any{"name": "v"}, 403},
		{viewer, "PUT", "", map[string]any{"decisionStrategy": "AFFIRMATIVE"}, 403},
		{viewer, "POST", "/scope", map[string]any{"name": "v"}, 403},
		{manager, "POST", "/resource", map[string]any{"name": "m"}, 201},
		{manager, "POST", "/policy/user", map[string]any{"name": "m", "users": []string{"olive"}}, 201},
		{manager, "PUT", "", map[string]any{"decisionStrategy": "AFFIRMATIVE"}, 204},
		{clients, "GET", "/resource", nil, 403},
		{"", "GET", "/resource", nil, 401},
	} {
		if r := e.call(tc.method, e.base+tc.path, tc.token, tc.body); r.status != tc.want {
			t.Errorf("%s %s: got %d %s, want %d", tc.method, tc.path, r.status, r.raw, tc.want)
		}
	}
	// An admin sees every resource, the owner's private ones included.
	if got := names(t, e.must(200, "GET", e.base+"/resource", viewer, nil), "name"); !slices.Equal(got, []string{"doc", "m"}) {
		t.Errorf("viewer sees %v", got)
	}
}

func docID(t *testing.T, e *authzEnv) string {
	t.Helper()
	return e.must(200, "GET", e.base+"/resource/search?name=doc", e.admin, nil).obj(t)["_id"].(string)
}
