package admin_test

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
)

// tokenRoles returns realm_access.roles and resource_access.<client>.roles
// of a token, sorted.
func tokenRoles(t *testing.T, tok, client string) (realm, clientRoles []string) {
	t.Helper()
	c := apitest.Claims(t, tok)
	list := func(m any) []string {
		var out []string
		if mm, ok := m.(map[string]any); ok {
			for _, r := range mm["roles"].([]any) {
				out = append(out, r.(string))
			}
		}
		sort.Strings(out)
		return out
	}
	realm = list(c["realm_access"])
	if ra, ok := c["resource_access"].(map[string]any); ok {
		clientRoles = list(ra[client])
	}
	return realm, clientRoles
}

func names(t *testing.T, r resp, key string) []string {
	t.Helper()
	var list []map[string]any
	r.json(t, &list)
	out := []string{}
	for _, x := range list {
		out = append(out, x[key].(string))
	}
	return out
}

// The group tree through the admin API: create, children, sibling names,
// search, count, get, update, attributes, members, a user's groups, and
// delete with its subtree; each error in Keycloak's status and words.
func TestGroupsAdminAPI(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	base := "/admin/realms/demo"
	eng := idFromLocation(t, e.must(201, "POST", base+"/groups", e.admin, map[string]any{"name": "eng", "attributes": map[string][]string{"site": {"paris"}}}))
	ops := idFromLocation(t, e.must(201, "POST", base+"/groups", e.admin, map[string]any{"name": "ops"}))
	loc := e.must(201, "POST", base+"/groups/"+eng+"/children", e.admin, map[string]any{"name": "backend"})
	if l := loc.header.Get("Location"); !strings.HasSuffix(l, base+"/groups/"+idFromLocation(t, loc)) {
		t.Errorf("child Location = %s, want the group's own resource", l)
	}
	backend := idFromLocation(t, loc)
	db := idFromLocation(t, e.must(201, "POST", base+"/groups/"+backend+"/children", e.admin, map[string]any{"name": "db"}))
	alice := idFromLocation(t, e.must(201, "POST", base+"/users", e.admin, map[string]any{"username": "alice", "enabled": true}))
	bob := idFromLocation(t, e.must(201, "POST", base+"/users", e.admin, map[string]any{"username": "bob", "enabled": true}))
	// UserRepresentation.groups (paths) on create.
	cy := idFromLocation(t, e.must(201, "POST", base+"/users", e.admin, map[string]any{"username": "cy", "groups": []string{"/eng/backend/db", "/ops"}}))
	if got := names(t, e.must(200, "GET", base+"/users/"+cy+"/groups", e.admin, nil), "path"); !slices.Equal(got, []string{"/eng/backend/db", "/ops"}) {
		t.Errorf("groups of a user created in groups = %v", got)
	}

	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		want               string // substring of the answer
	}{
		{"top-level name taken", "POST", "/groups", map[string]any{"name": "eng"}, 409, `"Top level group named 'eng' already exists."`},
		{"sibling name taken", "POST", "/groups/" + eng + "/children", map[string]any{"name": "backend"}, 409, `"Sibling group named 'backend' already exists."`},
		{"same name elsewhere", "POST", "/groups/" + ops + "/children", map[string]any{"name": "backend"}, 201, ""},
		{"unknown field refused", "POST", "/groups", map[string]any{"name": "x", "color": "red"}, 400, "unsupported field color"},
		{"subGroups refused", "POST", "/groups", map[string]any{"name": "x", "subGroups": []any{map[string]any{"name": "y"}}}, 400, "subGroups"},
		{"realmRoles refused", "PUT", "/groups/" + eng, map[string]any{"realmRoles": []string{"r"}}, 400, "realmRoles"},
		{"slash refused", "POST", "/groups", map[string]any{"name": "a/b"}, 400, "cannot contain"},
		{"parentId elsewhere refused", "POST", "/groups", map[string]any{"name": "x", "parentId": eng}, 400, "unsupported field parentId"},
		{"parentId moved by PUT refused", "PUT", "/groups/" + backend, map[string]any{"parentId": ops}, 400, "unsupported field parentId"},
		{"parentId as it is accepted", "PUT", "/groups/" + backend, map[string]any{"name": "backend", "parentId": eng, "path": "/eng/backend"}, 204, ""},
		{"empty name refused", "POST", "/groups", map[string]any{"name": " "}, 400, "name"},
		{"unknown group", "GET", "/groups/nope", nil, 404, "Could not find group by id"},
		{"unknown parent", "POST", "/groups/nope/children", map[string]any{"name": "x"}, 404, ""},
		{"bad q", "GET", "/groups?q=novalue", nil, 400, "key:value"},
		{"top level brief", "GET", "/groups", nil, 200, `"name":"eng","path":"/eng","subGroupCount":1,"subGroups":[]}`},
		{"full rep", "GET", "/groups?briefRepresentation=false&max=1", nil, 200, `"subGroups":[],"attributes":{"site":["paris"]}}]`},
		{"paging", "GET", "/groups?first=1&max=1", nil, 200, `"name":"ops"`},
		{"search shows the path to matches", "GET", "/groups?search=DB", nil, 200, `"path":"/eng","subGroupCount":1,"subGroups":[{"id":"` + backend + `","name":"backend","path":"/eng/backend","parentId":"` + eng + `","subGroupCount":1,"subGroups":[{"id":"` + db + `","name":"db","path":"/eng/backend/db"`},
		{"search without the hierarchy", "GET", "/groups?search=DB&populateHierarchy=false", nil, 200, `[{"id":"` + db + `","name":"db","path":"/eng/backend/db","parentId":"` + backend + `"`},
		{"attribute query", "GET", "/groups?q=site:paris", nil, 200, `"name":"eng"`},
		{"count all", "GET", "/groups/count", nil, 200, `{"count":5}`},
		{"count top", "GET", "/groups/count?top=true", nil, 200, `{"count":2}`},
		{"count search", "GET", "/groups/count?search=backend", nil, 200, `{"count":2}`},
		{"children", "GET", "/groups/" + eng + "/children", nil, 200, `"name":"backend","path":"/eng/backend","parentId":"` + eng + `"`},
		{"get", "GET", "/groups/" + backend, nil, 200, `"path":"/eng/backend"`},
		{"by path", "GET", "/group-by-path/eng/backend/db", nil, 200, `"id":"` + db + `"`},
		{"by unknown path", "GET", "/group-by-path/eng/nope", nil, 404, "Group path does not exist"},
		{"rename", "PUT", "/groups/" + ops, map[string]any{"name": "sre", "description": "on call", "attributes": map[string][]string{"k": {"v"}}}, 204, ""},
		{"rename onto a sibling", "PUT", "/groups/" + ops, map[string]any{"name": "eng"}, 409, "Top level group named 'eng' already exists."},
		{"renamed", "GET", "/groups/" + ops, nil, 200, `"name":"sre","description":"on call","path":"/sre","subGroupCount":1,"subGroups":[],"attributes":{"k":["v"]}`},
		{"join", "PUT", "/users/" + alice + "/groups/" + db, nil, 204, ""},
		{"join again", "PUT", "/users/" + alice + "/groups/" + db, nil, 204, ""},
		{"join top", "PUT", "/users/" + alice + "/groups/" + eng, nil, 204, ""},
		{"join bob", "PUT", "/users/" + bob + "/groups/" + eng, nil, 204, ""},
		{"join unknown group", "PUT", "/users/" + alice + "/groups/nope", nil, 404, "Could not find group by id"},
		{"join unknown user", "PUT", "/users/nope/groups/" + eng, nil, 404, "Could not find user"},
		{"user groups", "GET", "/users/" + alice + "/groups", nil, 200, `[{"id":"` + eng + `","name":"eng","path":"/eng"`},
		{"user groups search", "GET", "/users/" + alice + "/groups?search=d", nil, 200, `"path":"/eng/backend/db"`},
		{"user group count", "GET", "/users/" + alice + "/groups/count", nil, 200, `{"count":2}`},
		{"members", "GET", "/groups/" + eng + "/members", nil, 200, `"username":"alice"`},
		{"members paged", "GET", "/groups/" + eng + "/members?first=1", nil, 200, `"username":"bob"`},
		{"move a group to the top", "POST", "/groups", map[string]any{"id": backend, "name": "backend"}, 204, ""},
		{"moved", "GET", "/groups/" + db, nil, 200, `"path":"/backend/db"`},
		{"move an unknown group", "POST", "/groups", map[string]any{"id": "nope", "name": "x"}, 404, "Could not find child by id"},
		{"move under its own child", "POST", "/groups/" + db + "/children", map[string]any{"id": backend}, 400, "cannot be moved under itself"},
		{"move back, the body as read", "POST", "/groups/" + eng + "/children", map[string]any{"id": backend, "name": "backend", "path": "/backend", "subGroupCount": 1}, 204, ""},
		{"leave", "DELETE", "/users/" + bob + "/groups/" + eng, nil, 204, ""},
		{"left", "GET", "/groups/" + eng + "/members", nil, 200, `"username":"alice"`},
		{"user created in an unknown group", "POST", "/users", map[string]any{"username": "dee", "groups": []string{"/eng/nope"}}, 400, "Group /eng/nope not found"},
		{"groups on user update", "PUT", "/users/" + alice, map[string]any{"groups": []string{"/sre"}}, 400, "unsupported field groups"},
		{"delete subtree", "DELETE", "/groups/" + backend, nil, 204, ""},
		{"subgroup gone", "GET", "/groups/" + db, nil, 404, ""},
		{"membership gone", "GET", "/users/" + alice + "/groups/count", nil, 200, `{"count":1}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.must(tc.status, tc.method, base+tc.path, e.admin, tc.body)
			if !strings.Contains(got.raw, tc.want) {
				t.Errorf("%s %s = %s, want it to contain %s", tc.method, tc.path, got.raw, tc.want)
			}
		})
	}
	if got := names(t, e.must(200, "GET", base+"/groups/"+eng+"/members", e.admin, nil), "username"); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("members after bob left = %v", got)
	}
}

// Roles mapped to a group reach its members' tokens, including members of
// its subgroups, and composites expand; removing the role from the group
// takes effect on the very next token.
func TestGroupRolesReachTokensAndTheirRemovalTheNextToken(t *testing.T) {
	e := newEnv(t)
	appID, _, _ := e.demoRealm()
	base := "/admin/realms/demo"
	e.must(204, "PUT", base+"/users/"+e.userID("demo", "alice"), e.admin, map[string]any{"enabled": true})
	e.must(201, "POST", base+"/roles", e.admin, map[string]any{"name": "reader"})
	e.must(201, "POST", base+"/roles", e.admin, map[string]any{"name": "inner"})
	e.must(201, "POST", base+"/roles", e.admin, map[string]any{"name": "bundle", "composites": map[string]any{"realm": []string{"inner"}}})
	e.must(201, "POST", base+"/clients/"+appID+"/roles", e.admin, map[string]any{"name": "app-user"})
	top := idFromLocation(t, e.must(201, "POST", base+"/groups", e.admin, map[string]any{"name": "staff"}))
	sub := idFromLocation(t, e.must(201, "POST", base+"/groups/"+top+"/children", e.admin, map[string]any{"name": "team"}))
	e.must(204, "POST", base+"/groups/"+top+"/role-mappings/realm", e.admin, []map[string]string{{"name": "reader"}})
	e.must(204, "POST", base+"/groups/"+sub+"/role-mappings/realm", e.admin, []map[string]string{{"name": "bundle"}})
	e.must(204, "POST", base+"/groups/"+sub+"/role-mappings/clients/"+appID, e.admin, []map[string]string{{"name": "app-user"}})
	e.must(204, "PUT", base+"/users/"+e.userID("demo", "alice")+"/groups/"+sub, e.admin, nil)

	token := func() ([]string, []string) {
		return tokenRoles(t, e.passwordToken("demo", "tester", "", "alice", "alice-Pass-1"), "app")
	}
	e.must(201, "POST", base+"/clients", e.admin, map[string]any{"clientId": "tester", "publicClient": true, "directAccessGrantsEnabled": true})
	realm, client := token()
	for _, want := range []string{"reader", "bundle", "inner", "offline_access", "uma_authorization", "default-roles-demo"} {
		if !slices.Contains(realm, want) {
			t.Errorf("realm_access.roles %v lack %s", realm, want)
		}
	}
	if !slices.Equal(client, []string{"app-user"}) {
		t.Errorf("resource_access.app.roles = %v, want [app-user]", client)
	}
	e.must(204, "DELETE", base+"/groups/"+top+"/role-mappings/realm", e.admin, []map[string]string{{"name": "reader"}})
	if realm, _ := token(); slices.Contains(realm, "reader") {
		t.Errorf("role removed from the group still in the next token: %v", realm)
	}
	e.must(204, "DELETE", base+"/roles/bundle/composites", e.admin, []map[string]string{{"name": "inner"}})
	if realm, _ := token(); slices.Contains(realm, "inner") || !slices.Contains(realm, "bundle") {
		t.Errorf("composite removal not in the next token: %v", realm)
	}
	e.must(204, "DELETE", base+"/users/"+e.userID("demo", "alice")+"/groups/"+sub, e.admin, nil)
	if realm, client := token(); slices.Contains(realm, "bundle") || len(client) > 0 {
		t.Errorf("roles of a group left still in the next token: %v %v", realm, client)
	}
}

// userID finds a user's ID by username.
func (e *env) userID(realm, username string) string {
	e.t.Helper()
	var us []map[string]any
	e.must(200, "GET", "/admin/realms/"+realm+"/users?exact=true&username="+username, e.admin, nil).json(e.t, &us)
	if len(us) != 1 {
		e.t.Fatalf("user %s: %v", username, us)
	}
	return us[0]["id"].(string)
}

// Group role mappings through the admin API: the MappingsRepresentation,
// realm and client containers, available and composite, and errors.
func TestGroupRoleMappingsAdminAPI(t *testing.T) {
	e := newEnv(t)
	appID, _, _ := e.demoRealm()
	base := "/admin/realms/demo"
	e.must(201, "POST", base+"/roles", e.admin, map[string]any{"name": "inner"})
	e.must(201, "POST", base+"/roles", e.admin, map[string]any{"name": "outer", "composites": map[string]any{"realm": []string{"inner"}}})
	e.must(201, "POST", base+"/clients/"+appID+"/roles", e.admin, map[string]any{"name": "viewer"})
	top := idFromLocation(t, e.must(201, "POST", base+"/groups", e.admin, map[string]any{"name": "top"}))
	sub := idFromLocation(t, e.must(201, "POST", base+"/groups/"+top+"/children", e.admin, map[string]any{"name": "sub"}))
	e.must(204, "POST", base+"/groups/"+top+"/role-mappings/realm", e.admin, []map[string]string{{"name": "outer"}})
	e.must(204, "POST", base+"/groups/"+sub+"/role-mappings/clients/"+appID, e.admin, []map[string]string{{"name": "viewer"}})
	g := base + "/groups/"
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		want, wantNot      string
	}{
		{"mappings", "GET", g + sub + "/role-mappings", nil, 200, `"clientMappings":{"app":{"id":"` + appID + `","client":"app","mappings":[{`, "realmMappings"},
		{"realm direct", "GET", g + top + "/role-mappings/realm", nil, 200, `"name":"outer"`, `"inner"`},
		{"realm composite inherits and expands", "GET", g + sub + "/role-mappings/realm/composite", nil, 200, `"name":"inner"`, ""},
		{"realm available excludes effective", "GET", g + sub + "/role-mappings/realm/available", nil, 200, `"name":"uma_authorization"`, `"name":"inner"`},
		{"client direct", "GET", g + sub + "/role-mappings/clients/" + appID, nil, 200, `"name":"viewer"`, ""},
		{"client composite", "GET", g + sub + "/role-mappings/clients/" + appID + "/composite", nil, 200, `"name":"viewer"`, ""},
		{"client available", "GET", g + sub + "/role-mappings/clients/" + appID + "/available", nil, 200, `[]`, ""},
		{"top does not inherit from sub", "GET", g + top + "/role-mappings/clients/" + appID + "/composite", nil, 200, `[]`, ""},
		{"unknown role", "POST", g + top + "/role-mappings/realm", []map[string]string{{"name": "nope"}}, 404, "Could not find role", ""},
		{"client role on realm route", "POST", g + top + "/role-mappings/realm", []map[string]string{{"name": "viewer"}}, 404, "", ""},
		{"unknown field", "POST", g + top + "/role-mappings/realm", []map[string]any{{"name": "inner", "x": 1}}, 400, "unsupported field x", ""},
		{"unknown client", "GET", g + top + "/role-mappings/clients/nope", nil, 404, "Could not find client", ""},
		{"unknown group", "GET", g + "nope/role-mappings", nil, 404, "Could not find group by id", ""},
		{"groups of a realm role", "GET", base + "/roles/outer/groups", nil, 200, `[{"id":"` + top + `","name":"top","path":"/top"`, `"sub"`},
		{"groups of a client role", "GET", base + "/clients/" + appID + "/roles/viewer/groups", nil, 200, `"path":"/top/sub"`, `"path":"/top",`},
		{"groups of a role, paged", "GET", base + "/roles/outer/groups?first=1", nil, 200, `[]`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.must(tc.status, tc.method, tc.path, e.admin, tc.body)
			if !strings.Contains(got.raw, tc.want) || (tc.wantNot != "" && strings.Contains(got.raw, tc.wantNot)) {
				t.Errorf("%s %s = %s, want %q and not %q", tc.method, tc.path, got.raw, tc.want, tc.wantNot)
			}
		})
	}
}
