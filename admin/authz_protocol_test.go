package admin_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"testing"
)

// umaPermissions asks, with a user's bearer token, what resource server
// "models" of realm demo lets the user see: the granted resource names,
// sorted ([] for 403).
func (e *authzEnv) umaPermissions(token string) []string {
	e.t.Helper()
	req := e.protocolRequest("demo", "token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:uma-ticket"},
		"audience": {"models"}, "response_mode": {"permissions"}})
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	out := []string{}
	if res.StatusCode == http.StatusForbidden {
		return out
	}
	var perms []struct {
		RSName string `json:"rsname"`
	}
	if err := json.NewDecoder(res.Body).Decode(&perms); err != nil || res.StatusCode != 200 {
		e.t.Fatalf("permissions: %d %v", res.StatusCode, err)
	}
	for _, p := range perms {
		out = append(out, p.RSName)
	}
	sort.Strings(out)
	return out
}

// The resource server's protection API and the admin API are two doors to
// the same records: what the server registers for a user the admin sees
// with its access fields, what the admin creates the server lists, and the
// holders of the server's client role "admin" are granted every resource
// while the access modes decide for everyone else.
func TestProtectionAndAdminAPIsShareOneResourceServer(t *testing.T) {
	e := newAuthzEnv(t)
	var sec map[string]string
	e.must(200, "GET", "/admin/realms/demo/clients/"+e.srv+"/client-secret", e.admin, nil).json(t, &sec)
	status, m := e.serviceToken("demo", "models", sec["value"])
	if status != 200 {
		t.Fatalf("resource server token: %d %v", status, m)
	}
	rs := m["access_token"].(string)
	protection := "/realms/demo/authz/protection/resource_set"

	var created map[string]any
	e.must(201, "POST", protection, rs, map[string]any{"name": "olive-models", "owner": "olive", "access_mode": "restricted",
		"backend_roles": []string{"analyst"}, "resource_scopes": []string{"read"}}).json(t, &created)
	id := created["_id"].(string)
	var adminView map[string]any
	e.must(200, "GET", e.base+"/resource/"+id, e.admin, nil).json(t, &adminView)
	owner, _ := adminView["owner"].(map[string]any)
	if adminView["access_mode"] != "restricted" || owner["id"] != e.olive || !slices.Equal(toStrings(adminView["backend_roles"]), []string{"analyst"}) {
		t.Fatalf("the admin API's view of a registered resource: %v", adminView)
	}

	e.must(201, "POST", e.base+"/resource", e.admin, map[string]any{"name": "server-docs"})
	var ids []string
	e.must(200, "GET", protection+"?exactName=true&name=server-docs", rs, nil).json(t, &ids)
	if len(ids) != 1 {
		t.Fatalf("the protection API's list of an admin-created resource: %v", ids)
	}

	// Users: olive shares analyst; rex holds the server's client role
	// admin; sam holds nothing.
	e.must(201, "POST", "/admin/realms/demo/clients", e.admin, map[string]any{"clientId": "cli", "publicClient": true, "directAccessGrantsEnabled": true})
	for _, u := range []string{"olive", "rex", "sam"} {
		id := demoUser(e, u)
		e.must(204, "PUT", "/admin/realms/demo/users/"+id+"/reset-password", e.admin, map[string]any{"type": "password", "value": u + "-Pass-1", "temporary": false})
	}
	e.must(201, "POST", "/admin/realms/demo/clients/"+e.srv+"/roles", e.admin, map[string]any{"name": "admin"})
	e.must(204, "POST", "/admin/realms/demo/users/"+demoUser(e, "rex")+"/role-mappings/clients/"+e.srv, e.admin, []map[string]string{{"name": "admin"}})
	for user, want := range map[string][]string{
		"olive": {"olive-models"},
		"rex":   {"olive-models", "server-docs"},
		"sam":   {},
	} {
		tok := e.passwordToken("demo", "cli", "", user, user+"-Pass-1")
		if got := e.umaPermissions(tok); !slices.Equal(got, want) {
			t.Errorf("%s may see %v, want %v", user, got, want)
		}
	}
}

// demoUser returns the ID of user name of realm demo, creating it (enabled)
// when it does not exist yet.
func demoUser(e *authzEnv, name string) string {
	e.t.Helper()
	var users []map[string]any
	e.must(200, "GET", "/admin/realms/demo/users?exact=true&username="+name, e.admin, nil).json(e.t, &users)
	if len(users) == 1 {
		return users[0]["id"].(string)
	}
	return idFromLocation(e.t, e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{"username": name, "enabled": true}))
}
