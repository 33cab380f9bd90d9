package admin_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// modelsRealmFile is a realm written here in Keycloak's representation:
// a resource server with resources in the three access modes (one a
// child, one the server's own, one owned by another client), scopes, role,
// group, user, client and aggregate policies, and resource and scope
// permissions.
var modelsRealmFile = filepath.Join("..", "testdata", "authz", "models-realm.json")

// exportedAuthz returns the authorizationSettings of client clientID in a
// partial export of realm, as JSON values.
func exportedAuthz(t *testing.T, e *env, realm, clientID string) (map[string]any, map[string]any) {
	t.Helper()
	var rep struct {
		Clients []map[string]any `json:"clients"`
		Roles   map[string]any   `json:"roles"`
	}
	e.must(200, "POST", "/admin/realms/"+realm+"/partial-export?exportClients=true&exportGroupsAndRoles=true", e.admin, nil).json(t, &rep)
	for _, c := range rep.Clients {
		if c["clientId"] == clientID {
			st, _ := c["authorizationSettings"].(map[string]any)
			if st == nil || c["authorizationServicesEnabled"] != true {
				t.Fatalf("client %s exported without its authorization settings: %v", clientID, c)
			}
			return c, st
		}
	}
	t.Fatalf("no client %s in the export", clientID)
	return nil, nil
}

// umaAllowed logs user in through client and asks the uma-ticket grant
// for a decision on permission (resource#scope) of that client.
func (e *env) umaAllowed(realm, client, secret, user, password, permission string) bool {
	e.t.Helper()
	tok := e.passwordToken(realm, client, secret, user, password)
	req := e.protocolRequest(realm, "token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:uma-ticket"},
		"audience": {client}, "permission": {permission}, "response_mode": {"decision"}})
	req.Header.Set("Authorization", "Bearer "+tok)
	st, m := doWith(e.t, http.DefaultClient, req)
	switch {
	case st == 200 && m["result"] == true:
		return true
	case st == 403:
		return false
	}
	e.t.Fatalf("decision on %s for %s: %d %v", permission, user, st, m)
	return false
}

// A resource server's settings, resources, scopes, policies and
// permissions come out of partial-export in Keycloak's representation
// (references by name, config values JSON in strings, the access fields
// beside Keycloak's), and go back in through partialImport: OVERWRITE
// replaces them and the export is unchanged, SKIP leaves them, FAIL
// refuses; a policy type Gatehouse does not run is refused by name.
func TestAuthzSettingsSurvivePartialExportAndImport(t *testing.T) {
	e := newEnv(t)
	body, err := os.ReadFile(modelsRealmFile)
	if err != nil {
		t.Fatal(err)
	}
	r := e.must(201, "POST", "/admin/realms", e.admin, json.RawMessage(body))
	if h := r.header.Get("X-Gatehouse-Not-Imported"); strings.Contains(h, "authorization") {
		t.Fatalf("authorization settings reported as not imported: %s", h)
	}
	// The imported access modes and policies decide.
	for _, c := range []struct {
		user, permission string
		want             bool
	}{
		{"bob", "restricted-group#read", true},   // shares ml-team with alice
		{"carol", "restricted-group#read", true}, // in /analysts/interns, under /analysts
		{"dave", "restricted-group#read", false}, // shares nothing
		{"dave", "public-group#read", true},
		{"bob", "private-group#read", false},
		{"alice", "private-group#write", true}, // the owner
		{"bob", "Default Resource", true},      // ML team, not ops
		{"dave", "Default Resource", false},
	} {
		if got := e.umaAllowed("models", "models", "models-secret-0123456789", c.user, c.user+"-pass", c.permission); got != c.want {
			t.Errorf("%s asking %s: %v, want %v", c.user, c.permission, got, c.want)
		}
	}
	client, first := exportedAuthz(t, e, "models", "models")
	var st struct {
		DecisionStrategy string
		Resources        []struct {
			Name, Parent  string
			Owner         *struct{ ID, Name string }
			AccessMode    string                      `json:"access_mode"`
			BackendRoles  []string                    `json:"backend_roles"`
			ResourceScope []struct{ ID, Name string } `json:"scopes"`
			ID            string                      `json:"_id"`
		}
		Policies []struct {
			Name, Type string
			ID         string
			Config     map[string]string
		}
		Scopes []struct{ ID, Name string }
	}
	b, _ := json.Marshal(first)
	json.Unmarshal(b, &st)
	if st.DecisionStrategy != "AFFIRMATIVE" || len(st.Resources) != 6 || len(st.Policies) != 9 || len(st.Scopes) != 2 {
		t.Fatalf("exported settings: %s", b)
	}
	modes := map[string]string{}
	for _, res := range st.Resources {
		modes[res.Name] = res.AccessMode
		if res.ID != "" {
			t.Errorf("resource %s exported with its ID", res.Name)
		}
		switch res.Name {
		case "Default Resource":
			if res.Owner != nil {
				t.Errorf("the server's own resource names an owner: %+v", res.Owner)
			}
		case "restricted-group":
			if !cmp.Equal(res.BackendRoles, []string{"ml-team", "/analysts"}) || res.Owner == nil || res.Owner.Name != "alice" || res.Owner.ID != "" {
				t.Errorf("restricted-group: %+v", res)
			}
		case "model-a":
			if res.Parent != "restricted-group" {
				t.Errorf("model-a's parent %q, want its name", res.Parent)
			}
		case "job-results":
			if res.Owner == nil || res.Owner.Name != "job-api" {
				t.Errorf("a client-owned resource's owner: %+v", res.Owner)
			}
		}
	}
	if want := map[string]string{"Default Resource": "private", "model-a": "private", "public-group": "public",
		"private-group": "private", "restricted-group": "restricted", "job-results": "public"}; !cmp.Equal(modes, want) {
		t.Errorf("access modes %v, want %v", modes, want)
	}
	for _, p := range st.Policies {
		if p.ID != "" {
			t.Errorf("policy %s exported with its ID", p.Name)
		}
		want := map[string]map[string]string{
			"ML team":         {"roles": `[{"id":"ml-team","required":false},{"id":"models/admin","required":false}]`},
			"Alice only":      {"users": `["alice"]`},
			"Job API":         {"clients": `["job-api"]`},
			"Analysts":        {"groups": `[{"path":"/analysts","extendChildren":true}]`},
			"Write for Alice": {"resources": `["private-group"]`, "scopes": `["write"]`, "applyPolicies": `["Alice only"]`},
		}[p.Name]
		if want != nil && !cmp.Equal(p.Config, want) {
			t.Errorf("policy %s config %v, want %v (references by name)", p.Name, p.Config, want)
		}
	}

	// The client as exported (with its roles) goes back in.
	roles := map[string]any{}
	var all struct {
		Roles struct {
			Client map[string]any `json:"client"`
		} `json:"roles"`
	}
	e.must(200, "POST", "/admin/realms/models/partial-export?exportClients=true&exportGroupsAndRoles=true", e.admin, nil).json(t, &all)
	roles["client"] = map[string]any{"models": all.Roles.Client["models"]}
	imp := func(mode string, status int) resp {
		return e.must(status, "POST", "/admin/realms/models/partialImport", e.admin,
			map[string]any{"ifResourceExists": mode, "clients": []any{client}, "roles": roles})
	}
	var res struct{ Added, Skipped, Overwritten int }
	imp("OVERWRITE", 200).json(t, &res)
	if res.Overwritten != 2 || res.Added != 0 {
		t.Fatalf("OVERWRITE: %+v", res)
	}
	if _, again := exportedAuthz(t, e, "models", "models"); !cmp.Equal(first, again) {
		t.Fatalf("partial export -> partialImport -> partial export changed:\n%s", cmp.Diff(first, again))
	}
	imp("SKIP", 200).json(t, &res)
	if res.Skipped != 2 {
		t.Fatalf("SKIP: %+v", res)
	}
	imp("FAIL", 409)
	if _, again := exportedAuthz(t, e, "models", "models"); !cmp.Equal(first, again) {
		t.Fatalf("SKIP or FAIL changed the settings:\n%s", cmp.Diff(first, again))
	}

	// A realm whose resource names an owner it lacks is not created.
	var bad map[string]any
	json.Unmarshal(body, &bad)
	bad["realm"] = "models2"
	cl := bad["clients"].([]any)[0].(map[string]any)
	cl["authorizationSettings"].(map[string]any)["resources"].([]any)[1].(map[string]any)["owner"] = "nobody"
	r = e.must(400, "POST", "/admin/realms", e.admin, bad)
	if msg, _ := r.obj(t)["errorMessage"].(string); !strings.Contains(msg, "resources[model-a]") || !strings.Contains(msg, "nobody") {
		t.Fatalf("a resource of an unknown owner: %q", msg)
	}
	e.must(404, "GET", "/admin/realms/models2", e.admin, nil)

	// Not run here: refused by name, nothing written.
	js := map[string]any{"clientId": "scripted", "secret": "scripted-secret-0123456789", "authorizationServicesEnabled": true,
		"authorizationSettings": map[string]any{"policies": []any{
			map[string]any{"name": "by script", "type": "js", "config": map[string]string{"code": "$evaluation.grant();"}}}}}
	r = e.must(400, "POST", "/admin/realms/models/partialImport", e.admin, map[string]any{"ifResourceExists": "FAIL", "clients": []any{js}})
	if msg, _ := r.obj(t)["errorMessage"].(string); !strings.Contains(msg, "policies[by script] (type js)") {
		t.Fatalf("unsupported policy type: %q", msg)
	}
	var found []any
	e.must(200, "GET", "/admin/realms/models/clients?clientId=scripted", e.admin, nil).json(t, &found)
	if len(found) != 0 {
		t.Fatalf("the refused client was written: %v", found)
	}
}
