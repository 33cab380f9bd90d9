package admin_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// userWithRights creates an enabled password user in realm holding the
// given realm-management roles (and, in master, realm roles named in
// realmRoles) and returns its ID and an access token.
func (e *env) userWithRights(realm, username string, realmRoles []string, rights ...string) (string, string) {
	e.t.Helper()
	client := "admin-cli"
	if realm != "master" {
		client = "tester"
		if r := e.call("POST", "/admin/realms/"+realm+"/clients", e.admin,
			map[string]any{"clientId": client, "publicClient": true, "directAccessGrantsEnabled": true}); r.status != 201 && r.status != 409 {
			e.t.Fatalf("tester client: %d %s", r.status, r.raw)
		}
	}
	password := username + "-Pass-1"
	id := idFromLocation(e.t, e.must(201, "POST", "/admin/realms/"+realm+"/users", e.admin, map[string]any{
		"username": username, "enabled": true, "credentials": []map[string]any{{"value": password}}}))
	if len(rights) > 0 {
		var body []map[string]string
		for _, r := range rights {
			body = append(body, map[string]string{"name": r})
		}
		e.must(204, "POST", "/admin/realms/"+realm+"/users/"+id+"/role-mappings/clients/"+e.rmClient(realm), e.admin, body)
	}
	if len(realmRoles) > 0 {
		var body []map[string]string
		for _, r := range realmRoles {
			body = append(body, map[string]string{"name": r})
		}
		e.must(204, "POST", "/admin/realms/"+realm+"/users/"+id+"/role-mappings/realm", e.admin, body)
	}
	return id, e.passwordToken(realm, client, "", username, password)
}

// rmClient returns the UUID of realm's realm-management client.
func (e *env) rmClient(realm string) string {
	e.t.Helper()
	var rm []map[string]any
	e.must(200, "GET", "/admin/realms/"+realm+"/clients?clientId=realm-management", e.admin, nil).json(e.t, &rm)
	if len(rm) != 1 {
		e.t.Fatalf("realm-management client: %v", rm)
	}
	return rm[0]["id"].(string)
}

// The escalation the review found: a user with only manage-clients renames
// realm-admin away, then renames manage-clients to realm-admin. Built-in
// roles keep their names (by path and by ID, in every realm and in master),
// and the caller still has nothing but manage-clients.
func TestManageClientsCannotRenameItselfToRealmAdmin(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	for _, realm := range []string{"demo", "master"} {
		t.Run(realm, func(t *testing.T) {
			_, tok := e.userWithRights(realm, "clientmgr", nil, "manage-clients")
			rm := e.rmClient(realm)
			roles := "/admin/realms/" + realm + "/clients/" + rm + "/roles/"
			for _, step := range []struct{ role, to string }{{"realm-admin", "x"}, {"manage-clients", "realm-admin"}} {
				r := e.must(400, "PUT", roles+step.role, tok, map[string]any{"name": step.to})
				if !strings.Contains(r.obj(t)["errorMessage"].(string), "cannot be renamed") {
					t.Errorf("rename %s: %s", step.role, r.raw)
				}
			}
			ra := e.must(200, "GET", roles+"realm-admin", e.admin, nil).obj(t)
			e.must(400, "PUT", "/admin/realms/"+realm+"/roles-by-id/"+ra["id"].(string), tok, map[string]any{"name": "x"})
			e.must(400, "DELETE", roles+"realm-admin", tok, nil)
			e.must(400, "DELETE", roles+"view-users", e.admin, nil)
			// Description changes are fine; the name is what is protected.
			e.must(204, "PUT", roles+"view-users", tok, map[string]any{"description": "reads users"})
			if r := e.call("GET", "/admin/realms/"+realm+"/users", tok, nil); r.status != 403 {
				t.Errorf("manage-clients reads users after the attack: %d", r.status)
			}
		})
	}
	// Master's realm roles: admin, create-realm and default-roles-master.
	for _, role := range []string{"admin", "create-realm", "default-roles-master"} {
		e.must(400, "PUT", "/admin/realms/master/roles/"+role, e.admin, map[string]any{"name": role + "-x"})
		e.must(400, "DELETE", "/admin/realms/master/roles/"+role, e.admin, nil)
	}
}

// Rights follow role IDs: even with the names rewritten or a built-in role
// deleted and re-created under its name behind the API's back (a store
// edited by hand, data from an older version), only the original role
// grants its right.
func TestRightsFollowRoleIDsNotNames(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	st, err := e.svc.Realm(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	rl := st.Realm
	_, tok := e.userWithRights("demo", "clientmgr", nil, "manage-clients")
	rename := func(id, name string) {
		if _, err := e.store.UpdateRole(ctx, rl.ID, id, func(r *store.Role) error { r.Name = name; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	rename(rl.AdminRoleIDs["realm-admin"], "x")
	rename(rl.AdminRoleIDs["manage-clients"], "realm-admin")
	// Any write through the service drops the realm's cached roles.
	e.must(201, "POST", "/admin/realms/demo/roles", e.admin, map[string]any{"name": "cache-bump"})
	if r := e.call("GET", "/admin/realms/demo/users", tok, nil); r.status != 403 {
		t.Errorf("renamed manage-clients grants realm-admin: %d", r.status)
	}
	e.must(200, "GET", "/admin/realms/demo/clients", tok, nil)

	// Deleted and re-created under the same name: the new role is an
	// ordinary role, mapped by anyone with manage-users, granting nothing.
	if err := e.store.DeleteRole(ctx, rl.ID, rl.AdminRoleIDs["view-users"]); err != nil {
		t.Fatal(err)
	}
	rm := e.rmClient("demo")
	e.must(201, "POST", "/admin/realms/demo/clients/"+rm+"/roles", e.admin, map[string]any{"name": "view-users"})
	_, mgr := e.userWithRights("demo", "usermgr", nil, "manage-users")
	viewerID, viewer := e.userWithRights("demo", "viewer", nil)
	e.must(204, "POST", "/admin/realms/demo/users/"+viewerID+"/role-mappings/clients/"+rm, mgr,
		[]map[string]string{{"name": "view-users"}})
	if r := e.call("GET", "/admin/realms/demo/users/"+viewerID, viewer, nil); r.status != 403 {
		t.Errorf("re-created view-users grants view-users: %d %s", r.status, r.raw)
	}
}

// view-clients sees that a client has a secret, never the secret; only
// manage-clients reads it.
func TestViewClientsSeesSecretsMasked(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	id, secret := e.createClient("demo", e.admin, map[string]any{"clientId": "app"})
	// A rotated secret exists too.
	e.must(204, "PUT", "/admin/realms/demo/clients/"+id, e.admin, map[string]any{"attributes": map[string]string{realms.AttrSecretRotationGrace: "3600"}})
	e.must(200, "POST", "/admin/realms/demo/clients/"+id+"/client-secret", e.admin, nil)
	_, viewer := e.userWithRights("demo", "viewer", nil, "view-clients")
	_, manager := e.userWithRights("demo", "manager", nil, "manage-clients")

	got := e.must(200, "GET", "/admin/realms/demo/clients/"+id, viewer, nil).obj(t)
	if got["secret"] != "**********" {
		t.Errorf("view-clients GET client secret = %v", got["secret"])
	}
	if attrs := got["attributes"].(map[string]any); attrs["client.secret.rotated"] != nil && attrs["client.secret.rotated"] != "**********" {
		t.Errorf("view-clients sees the rotated secret: %v", attrs)
	}
	var list []map[string]any
	e.must(200, "GET", "/admin/realms/demo/clients?clientId=app", viewer, nil).json(t, &list)
	if len(list) != 1 || list[0]["secret"] != "**********" {
		t.Errorf("view-clients list: %v", list)
	}
	e.must(403, "GET", "/admin/realms/demo/clients/"+id+"/client-secret", viewer, nil)
	e.must(403, "GET", "/admin/realms/demo/clients/"+id+"/client-secret/rotated", viewer, nil)

	got = e.must(200, "GET", "/admin/realms/demo/clients/"+id, manager, nil).obj(t)
	if s, _ := got["secret"].(string); s == "" || s == "**********" || s == secret {
		t.Errorf("manage-clients reads secret %q (old %q)", s, secret)
	}
	e.must(200, "GET", "/admin/realms/demo/clients/"+id+"/client-secret", manager, nil)
	e.must(200, "GET", "/admin/realms/demo/clients/"+id+"/client-secret/rotated", manager, nil)
}

// manage-users cannot take over a user who holds rights it lacks: no
// password reset, disable, edit, credential removal or deletion.
func TestManageUsersCannotTakeOverStrongerUsers(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	_, mgr := e.userWithRights("demo", "usermgr", nil, "manage-users")
	plain, _ := e.userWithRights("demo", "plain", nil)
	weaker, _ := e.userWithRights("demo", "weaker", nil, "view-users")
	boss, _ := e.userWithRights("demo", "boss", nil, "realm-admin")
	events, _ := e.userWithRights("demo", "eventer", nil, "view-events")
	_, masterMgr := e.userWithRights("master", "mastermgr", nil, "manage-users")
	masterAdmin, _ := e.userWithRights("master", "admin2", []string{"admin"})

	type target struct {
		realm, id, token string
		allowed          bool
	}
	for name, tc := range map[string]target{
		"plain user":                  {"demo", plain, mgr, true},
		"user with an implied right":  {"demo", weaker, mgr, true},
		"realm-admin":                 {"demo", boss, mgr, false},
		"holder of a right it lacks":  {"demo", events, mgr, false},
		"master admin by master's mu": {"master", masterAdmin, masterMgr, false},
	} {
		t.Run(name, func(t *testing.T) {
			base := "/admin/realms/" + tc.realm + "/users/" + tc.id
			want := 403
			if tc.allowed {
				want = 204
			}
			e.must(want, "PUT", base+"/reset-password", tc.token, map[string]any{"type": "password", "value": "taken-Over-1"})
			e.must(want, "PUT", base, tc.token, map[string]any{"email": "attacker@example.com"})
			e.must(want, "PUT", base, tc.token, map[string]any{"enabled": false})
			e.must(want, "DELETE", base, tc.token, nil)
		})
	}
}

// query-users finds users but reads no profile: list results carry only id
// and username, as GET /users/{id} is refused.
func TestQueryUsersListsOnlyIDsAndUsernames(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	id := idFromLocation(t, e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{
		"username": "alice", "enabled": true, "email": "alice@example.com", "firstName": "Alice",
		"attributes": map[string][]string{"phone": {"123"}}}))
	_, query := e.userWithRights("demo", "querier", nil, "query-users")
	_, view := e.userWithRights("demo", "viewer", nil, "view-users")
	var list []map[string]any
	e.must(200, "GET", "/admin/realms/demo/users?username=alice&exact=true", query, nil).json(t, &list)
	if len(list) != 1 || len(list[0]) != 2 || list[0]["id"] != id || list[0]["username"] != "alice" {
		t.Errorf("query-users list = %v", list)
	}
	e.must(403, "GET", "/admin/realms/demo/users/"+id, query, nil)
	e.must(200, "GET", "/admin/realms/demo/users?username=alice&exact=true", view, nil).json(t, &list)
	if len(list) != 1 || list[0]["email"] != "alice@example.com" {
		t.Errorf("view-users list = %v", list)
	}
}

// The master realm cannot be disabled, renamed or deleted; the last
// enabled holder of master admin keeps it.
func TestMasterRealmAndLastAdminAreKept(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		method string
		body   any
		msg    string
	}{
		{"PUT", map[string]any{"enabled": false}, "The master realm cannot be disabled"},
		{"PUT", map[string]any{"realm": "main"}, "The master realm cannot be renamed"},
		{"DELETE", nil, "The master realm cannot be deleted"},
	} {
		r := e.must(409, c.method, "/admin/realms/master", e.admin, c.body)
		if got := r.obj(t)["errorMessage"]; got != c.msg {
			t.Errorf("%s master: %v", c.method, got)
		}
	}

	var admins []map[string]any
	e.must(200, "GET", "/admin/realms/master/users?username=admin&exact=true", e.admin, nil).json(t, &admins)
	first := "/admin/realms/master/users/" + admins[0]["id"].(string)
	adminRole := []map[string]any{{"name": "admin"}}
	lastAdmin := func() {
		t.Helper()
		e.must(409, "DELETE", first+"/role-mappings/realm", e.admin, adminRole)
		e.must(409, "PUT", first, e.admin, map[string]any{"enabled": false})
		e.must(409, "DELETE", first, e.admin, nil)
	}
	lastAdmin()
	// A disabled admin and a service account holding admin do not count.
	second, _ := e.userWithRights("master", "second", []string{"admin"})
	e.must(204, "PUT", "/admin/realms/master/users/"+second, e.admin, map[string]any{"enabled": false})
	saID, _ := e.createClient("master", e.admin, map[string]any{"clientId": "robot", "serviceAccountsEnabled": true})
	var sa map[string]any
	e.must(200, "GET", "/admin/realms/master/clients/"+saID+"/service-account-user", e.admin, nil).json(t, &sa)
	e.must(204, "POST", "/admin/realms/master/users/"+sa["id"].(string)+"/role-mappings/realm", e.admin, adminRole)
	lastAdmin()
	// With a second enabled admin, the first may go.
	e.must(204, "PUT", "/admin/realms/master/users/"+second, e.admin, map[string]any{"enabled": true})
	e.must(204, "DELETE", first+"/role-mappings/realm", e.admin, adminRole)
	tok := e.passwordToken("master", "admin-cli", "", "second", "second-Pass-1")
	e.must(409, "DELETE", "/admin/realms/master/users/"+second, tok, nil)
}

// A client id given on create is one URL path segment; anything else made
// a client that could never be read or deleted.
func TestClientIDOnCreateMustBeSafe(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	for _, id := range []string{"a/b", "../x\u0000y", ".", "..", "a b", "é", strings.Repeat("a", 65), "a%2Fb"} {
		r := e.must(400, "POST", "/admin/realms/demo/clients", e.admin, map[string]any{"clientId": "c", "id": id})
		if r.obj(t)["errorMessage"] == nil {
			t.Errorf("id %q: %s", id, r.raw)
		}
	}
	for _, id := range []string{realms.NewID(), "my.client_1-A", strings.Repeat("a", 64), "..a"} {
		e.must(201, "POST", "/admin/realms/demo/clients", e.admin, map[string]any{"clientId": "c-" + id, "id": id})
		e.must(200, "GET", "/admin/realms/demo/clients/"+id, e.admin, nil)
		e.must(204, "DELETE", "/admin/realms/demo/clients/"+id, e.admin, nil)
	}
}

// Knox's administrator check (listing every user's tokens) follows role
// IDs as well: manage-clients renamed to manage-users lists nothing.
func TestKnoxAdminRightFollowsRoleIDs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	e.must(201, "PUT", "/admin/gateway/topologies/basic", e.admin, map[string]any{"realm": "demo", "authentication": "basic", "ttl": "PT1H"})
	e.userWithRights("demo", "usermgr", nil, "manage-users")
	e.userWithRights("demo", "clientmgr", nil, "manage-clients")
	listAll := func(user string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", e.srv.URL+"/gateway/basic/knoxtoken/api/v1/token/getUserTokens?allTokens=true", nil)
		req.SetBasicAuth(user, user+"-Pass-1")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := listAll("usermgr"); got != 200 {
		t.Fatalf("manage-users lists all tokens: %d", got)
	}
	st, err := e.svc.Realm(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	ids := st.Realm.AdminRoleIDs
	// In this order: the name manage-users is free only once the first
	// rename is done.
	for _, rn := range []struct{ id, name string }{
		{ids["manage-users"], "was-manage-users"}, {ids["manage-clients"], "manage-users"},
	} {
		if _, err := e.store.UpdateRole(ctx, st.Realm.ID, rn.id, func(r *store.Role) error { r.Name = rn.name; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	// Any write through the service drops the realm's cached roles.
	e.must(201, "POST", "/admin/realms/demo/roles", e.admin, map[string]any{"name": "cache-bump"})
	if got := listAll("clientmgr"); got != 403 {
		t.Errorf("manage-clients renamed to manage-users lists all tokens: %d", got)
	}
	if got := listAll("usermgr"); got != 200 {
		t.Errorf("manage-users under another name lost its right: %d", got)
	}
}

// manage-clients cannot take over a client whose service account holds
// rights it lacks: reading or setting its secret would make the caller
// that service account.
func TestManageClientsCannotTakeOverStrongerServiceAccounts(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	strong, _ := e.createClient("demo", e.admin, map[string]any{"clientId": "strong", "serviceAccountsEnabled": true})
	e.grantRealmManagement("demo", strong, "realm-admin")
	weak, _ := e.createClient("demo", e.admin, map[string]any{"clientId": "weak", "serviceAccountsEnabled": true})
	e.grantRealmManagement("demo", weak, "query-clients")
	_, mgr := e.userWithRights("demo", "clientmgr", nil, "manage-clients")
	_, boss := e.userWithRights("demo", "boss", nil, "realm-admin")

	for _, tc := range []struct {
		id, token string
		allowed   bool
	}{{weak, mgr, true}, {strong, mgr, false}, {strong, boss, true}} {
		base := "/admin/realms/demo/clients/" + tc.id
		got := e.must(200, "GET", base, tc.token, nil).obj(t)
		if masked := got["secret"] == "**********"; masked == tc.allowed {
			t.Errorf("%s GET client secret = %v (allowed=%v)", got["clientId"], got["secret"], tc.allowed)
		}
		want := map[bool]int{true: 200, false: 403}[tc.allowed]
		e.must(want, "GET", base+"/client-secret", tc.token, nil)
		e.must(want, "POST", base+"/client-secret", tc.token, nil)
		want = map[bool]int{true: 204, false: 403}[tc.allowed]
		e.must(want, "PUT", base, tc.token, map[string]any{"secret": "chosen-by-the-caller-0123456789"})
	}
	e.must(403, "DELETE", "/admin/realms/demo/clients/"+strong, mgr, nil)
	e.must(204, "DELETE", "/admin/realms/demo/clients/"+weak, mgr, nil)
}
