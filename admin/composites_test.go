package admin_test

import (
	"slices"
	"strings"
	"testing"
)

// Composite roles through the admin API: by name, by ID and for client
// roles; the /realm and /clients/{client} filters; cycles refused; role
// users; list search and paging; and a user's available and composite
// mappings.
func TestCompositeRolesAdminAPI(t *testing.T) {
	e := newEnv(t)
	appID, _, aliceID := e.demoRealm()
	base := "/admin/realms/demo"
	for _, n := range []string{"a", "b", "c", "reader"} {
		e.must(201, "POST", base+"/roles", e.admin, map[string]any{"name": n, "attributes": map[string][]string{"k": {n}}})
	}
	e.must(201, "POST", base+"/clients/"+appID+"/roles", e.admin, map[string]any{"name": "app-admin"})
	var b map[string]any
	e.must(200, "GET", base+"/roles/b", e.admin, nil).json(t, &b)
	var appAdmin map[string]any
	e.must(200, "GET", base+"/clients/"+appID+"/roles/app-admin", e.admin, nil).json(t, &appAdmin)
	e.must(204, "POST", base+"/users/"+aliceID+"/role-mappings/realm", e.admin, []map[string]string{{"name": "a"}})
	bID := b["id"].(string)

	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		want, wantNot      string
	}{
		{"add by name", "POST", "/roles/a/composites", []map[string]any{{"name": "b"}}, 204, "", ""},
		{"add a client role by id", "POST", "/roles-by-id/" + bID + "/composites", []map[string]any{{"id": appAdmin["id"]}}, 204, "", ""},
		{"composite flag", "GET", "/roles/a", nil, 200, `"composite":true`, ""},
		{"list", "GET", "/roles/a/composites", nil, 200, `"name":"b"`, ""},
		{"add another", "POST", "/roles/a/composites", []map[string]any{{"name": "reader"}}, 204, "", ""},
		{"search", "GET", "/roles/a/composites?search=EAD", nil, 200, `"name":"reader"`, `"name":"b"`},
		{"paging", "GET", "/roles/a/composites?first=1&max=1", nil, 200, `"name":"reader"`, `"name":"b"`},
		{"bad paging", "GET", "/roles/a/composites?first=x", nil, 400, "first", ""},
		{"remove it again", "DELETE", "/roles/a/composites", []map[string]any{{"name": "reader"}}, 204, "", ""},
		{"realm filter", "GET", "/roles-by-id/" + bID + "/composites/realm", nil, 200, `[]`, ""},
		{"client filter", "GET", "/roles/b/composites/clients/" + appID, nil, 200, `"name":"app-admin"`, ""},
		{"client role composites", "POST", "/clients/" + appID + "/roles/app-admin/composites", []map[string]any{{"name": "c"}}, 204, "", ""},
		{"client role composites listed", "GET", "/clients/" + appID + "/roles/app-admin/composites", nil, 200, `"name":"c"`, ""},
		{"self cycle", "POST", "/roles/a/composites", []map[string]any{{"name": "a"}}, 400, "cycle", ""},
		{"transitive cycle", "POST", "/roles/c/composites", []map[string]any{{"name": "a"}}, 400, "cycle", ""},
		{"unknown child", "POST", "/roles/a/composites", []map[string]any{{"name": "nope"}}, 404, "Could not find role", ""},
		{"unknown parent", "GET", "/roles/nope/composites", nil, 404, "", ""},
		{"unknown field", "POST", "/roles/a/composites", []map[string]any{{"name": "b", "extra": true}}, 400, "unsupported field extra", ""},
		{"unknown client filter", "GET", "/roles/a/composites/clients/nope", nil, 404, "Could not find client", ""},
		{"composites on update refused", "PUT", "/roles/a", map[string]any{"composites": map[string]any{"realm": []string{"c"}}}, 400, "composites", ""},
		{"create with client composites", "POST", "/roles", map[string]any{"name": "d", "composites": map[string]any{"client": map[string][]string{"app": {"app-admin"}}}}, 201, "", ""},
		{"create with an unknown composite", "POST", "/roles", map[string]any{"name": "e", "composites": map[string]any{"realm": []string{"nope"}}}, 404, "", ""},
		{"role users", "GET", "/roles/a/users", nil, 200, `"username":"alice"`, ""},
		{"role users are direct only", "GET", "/roles/b/users", nil, 200, `[]`, ""},
		{"client role users", "GET", "/clients/" + appID + "/roles/app-admin/users", nil, 200, `[]`, ""},
		{"role users paging", "GET", "/roles/a/users?first=1", nil, 200, `[]`, ""},
		{"user realm composite", "GET", "/users/" + aliceID + "/role-mappings/realm/composite", nil, 200, `"name":"c"`, ""},
		{"user client composite", "GET", "/users/" + aliceID + "/role-mappings/clients/" + appID + "/composite", nil, 200, `"name":"app-admin"`, ""},
		{"user realm available", "GET", "/users/" + aliceID + "/role-mappings/realm/available", nil, 200, `"name":"reader"`, `"name":"b"`},
		{"user client available", "GET", "/users/" + aliceID + "/role-mappings/clients/" + appID + "/available", nil, 200, `[]`, ""},
		{"user mappings", "GET", "/users/" + aliceID + "/role-mappings", nil, 200, `"realmMappings":[{`, ""},
		{"search", "GET", "/roles?search=EAD", nil, 200, `"name":"reader"`, `"name":"a"`},
		{"brief by default", "GET", "/roles?search=reader", nil, 200, `"containerId"`, `"attributes"`},
		{"full on request", "GET", "/roles?search=reader&briefRepresentation=false", nil, 200, `"attributes":{"k":["reader"]}`, ""},
		{"paging", "GET", "/roles?first=1&max=1", nil, 200, `"name":"b"`, `"name":"a"`},
		{"remove", "DELETE", "/roles/a/composites", []map[string]any{{"id": bID}}, 204, "", ""},
		{"removed", "GET", "/roles/a/composites", nil, 200, `[]`, ""},
		{"no longer composite", "GET", "/roles/a", nil, 200, `"composite":false`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.must(tc.status, tc.method, base+tc.path, e.admin, tc.body)
			if !strings.Contains(got.raw, tc.want) || (tc.wantNot != "" && strings.Contains(got.raw, tc.wantNot)) {
				t.Errorf("%s %s = %s, want %q and not %q", tc.method, tc.path, got.raw, tc.want, tc.wantNot)
			}
		})
	}
}

// The realm's default-roles composite: listed on the realm, edited through
// its /composites route, given to every new user with what it holds, and
// replaceable with PUT realm defaultRole.
func TestDefaultRolesComposite(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "Demo", "enabled": true})
	base := "/admin/realms/Demo"
	realm := e.must(200, "GET", base, e.admin, nil).obj(t)
	def, _ := realm["defaultRole"].(map[string]any)
	if def["name"] != "default-roles-demo" || def["composite"] != true {
		t.Fatalf("defaultRole = %v", realm["defaultRole"])
	}
	got := names(t, e.must(200, "GET", base+"/roles/default-roles-demo/composites", e.admin, nil), "name")
	if !slices.Equal(got, []string{"offline_access", "uma_authorization"}) {
		t.Errorf("default composites = %v", got)
	}
	e.must(201, "POST", base+"/roles", e.admin, map[string]any{"name": "member"})
	e.must(204, "POST", base+"/roles/default-roles-demo/composites", e.admin, []map[string]string{{"name": "member"}})
	e.must(204, "DELETE", base+"/roles/default-roles-demo/composites", e.admin, []map[string]string{{"name": "uma_authorization"}})
	e.must(201, "POST", base+"/clients", e.admin, map[string]any{"clientId": "tester", "publicClient": true, "directAccessGrantsEnabled": true})
	e.must(201, "POST", base+"/users", e.admin, map[string]any{"username": "ann", "enabled": true, "credentials": []map[string]any{{"value": "ann-Pass-1"}}})
	roles, _ := tokenRoles(t, e.passwordToken("Demo", "tester", "", "ann", "ann-Pass-1"), "")
	if !slices.Contains(roles, "member") || slices.Contains(roles, "uma_authorization") || !slices.Contains(roles, "default-roles-demo") {
		t.Errorf("new user's token roles = %v", roles)
	}

	e.must(201, "POST", base+"/roles", e.admin, map[string]any{"name": "other-defaults"})
	for _, tc := range []struct {
		name   string
		rep    map[string]any
		status int
	}{
		{"unknown role", map[string]any{"name": "nope"}, 400},
		{"by name", map[string]any{"name": "other-defaults"}, 204},
	} {
		e.must(tc.status, "PUT", base, e.admin, map[string]any{"defaultRole": tc.rep})
	}
	if d := e.must(200, "GET", base, e.admin, nil).obj(t)["defaultRole"].(map[string]any); d["name"] != "other-defaults" {
		t.Errorf("defaultRole after PUT = %v", d)
	}
	e.must(201, "POST", base+"/users", e.admin, map[string]any{"username": "bo", "enabled": true, "credentials": []map[string]any{{"value": "bo-Pass-1"}}})
	roles, _ = tokenRoles(t, e.passwordToken("Demo", "tester", "", "bo", "bo-Pass-1"), "")
	if !slices.Contains(roles, "other-defaults") || slices.Contains(roles, "member") {
		t.Errorf("user created after the switch has %v", roles)
	}
	e.must(400, "POST", "/admin/realms", e.admin, map[string]any{"realm": "x", "defaultRole": map[string]any{"name": "custom"}})
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "y", "defaultRole": map[string]any{"name": "default-roles-y"}})
}

// Admin rights reach callers through composites and groups, by role ID;
// and nobody hands out, through a composite, a group or the default role,
// rights they do not hold.
func TestAdminRightsThroughCompositesAndGroups(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	base := "/admin/realms/demo"
	rm := e.rmClient("demo")
	var manageUsers, realmAdmin map[string]any
	e.must(200, "GET", base+"/clients/"+rm+"/roles/manage-users", e.admin, nil).json(t, &manageUsers)
	e.must(200, "GET", base+"/clients/"+rm+"/roles/realm-admin", e.admin, nil).json(t, &realmAdmin)
	e.must(201, "POST", base+"/roles", e.admin, map[string]any{"name": "helpdesk"})
	e.must(204, "POST", base+"/roles/helpdesk/composites", e.admin, []map[string]any{{"id": manageUsers["id"]}})
	admins := idFromLocation(t, e.must(201, "POST", base+"/groups", e.admin, map[string]any{"name": "admins"}))
	e.must(204, "POST", base+"/groups/"+admins+"/role-mappings/clients/"+rm, e.admin, []map[string]any{{"id": manageUsers["id"]}})
	strong := idFromLocation(t, e.must(201, "POST", base+"/groups", e.admin, map[string]any{"name": "strong"}))
	e.must(204, "POST", base+"/groups/"+strong+"/role-mappings/clients/"+rm, e.admin, []map[string]any{{"id": realmAdmin["id"]}})

	e.userWithRights("demo", "viacomposite", []string{"helpdesk"})
	viaComposite := e.passwordToken("demo", "tester", "", "viacomposite", "viacomposite-Pass-1")
	e.userWithRights("demo", "viagroup", nil)
	e.must(204, "PUT", base+"/users/"+e.userID("demo", "viagroup")+"/groups/"+admins, e.admin, nil)
	viaGroup := e.passwordToken("demo", "tester", "", "viagroup", "viagroup-Pass-1")
	_, nobody := e.userWithRights("demo", "nobody", nil)

	for _, tc := range []struct {
		who, token string
		status     int
	}{{"composite", viaComposite, 201}, {"group", viaGroup, 201}, {"nobody", nobody, 403}} {
		e.must(tc.status, "POST", base+"/users", tc.token, map[string]any{"username": "made-by-" + tc.who})
	}
	// manage-users does not cover realm-admin: neither into a composite,
	// nor a group joined, nor the default role.
	target := e.userID("demo", "nobody")
	for _, tc := range []struct {
		name, method, path string
		body               any
	}{
		{"composite", "POST", base + "/roles/helpdesk/composites", []map[string]any{{"id": realmAdmin["id"]}}},
		{"group mapping", "POST", base + "/groups/" + admins + "/role-mappings/clients/" + rm, []map[string]any{{"id": realmAdmin["id"]}}},
		{"join a stronger group", "PUT", base + "/users/" + target + "/groups/" + strong, nil},
		{"delete a stronger group", "DELETE", base + "/groups/" + strong, nil},
		{"create a user in a stronger group", "POST", base + "/users", map[string]any{"username": "sneaky", "groups": []string{"/strong"}}},
	} {
		if got := e.call(tc.method, tc.path, viaGroup, tc.body); got.status != 403 {
			t.Errorf("%s by a manage-users caller: %d %s, want 403", tc.name, got.status, got.raw)
		}
	}
	// Every new user gets the default role: making helpdesk (manage-users)
	// the default takes manage-users, which manage-realm lacks.
	_, realmMgr := e.userWithRights("demo", "realmmgr", nil, "manage-realm")
	e.must(403, "PUT", base, realmMgr, map[string]any{"defaultRole": map[string]any{"name": "helpdesk"}})
	e.must(201, "POST", base+"/roles", e.admin, map[string]any{"name": "plain"})
	e.must(204, "PUT", base, realmMgr, map[string]any{"defaultRole": map[string]any{"name": "plain"}})
	e.must(204, "PUT", base+"/users/"+target+"/groups/"+admins, viaGroup, nil)
	// The rights go with the group mapping on the next request.
	e.must(204, "DELETE", base+"/groups/"+admins+"/role-mappings/clients/"+rm, e.admin, []map[string]any{{"id": manageUsers["id"]}})
	e.must(403, "POST", base+"/users", viaGroup, map[string]any{"username": "too-late"})
}
