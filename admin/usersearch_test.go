package admin_test

import (
	"net/url"
	"strings"
	"testing"
)

// User lists and counts take Keycloak's search parameters, the same
// filters for both.
func TestUserSearchParameters(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	e.must(201, "POST", "/admin/realms/demo/identity-provider/instances", e.admin, map[string]any{"alias": "corp", "providerId": "oidc",
		"config": map[string]any{"issuer": "https://idp.example", "jwksUrl": "https://idp.example/jwks"}})
	ids := map[string]string{}
	for _, u := range []map[string]any{
		{"username": "alice", "email": "alice@example.com", "firstName": "Alice", "lastName": "Liddell",
			"attributes": map[string]any{"dept": []string{"eng"}, "site": []string{"paris"}}},
		{"username": "malice", "email": "m@other.org", "firstName": "Mal", "lastName": "Ice",
			"attributes": map[string]any{"dept": []string{"ops", "eng"}}},
		{"username": "bob", "email": "bob@example.com", "firstName": "Robert", "lastName": "Smith"},
	} {
		u["enabled"] = true
		ids[u["username"].(string)] = idFromLocation(t, e.must(201, "POST", "/admin/realms/demo/users", e.admin, u))
	}
	e.must(204, "POST", "/admin/realms/demo/users/"+ids["bob"]+"/federated-identity/corp", e.admin,
		map[string]any{"identityProvider": "corp", "userId": "corp-bob", "userName": "bob@corp"})
	for _, tc := range []struct {
		query string
		want  string
	}{
		{"search=al", "alice"},
		{"search=*al*", "alice malice"},
		{"search=*ICE", "alice malice"},
		{"search=" + url.QueryEscape(`"alice"`), "alice"},
		{"search=" + url.QueryEscape(`"ali"`), ""},
		{"search=*", "alice bob malice"},
		{"search=rob", "bob"},          // first name
		{"search=smi", "bob"},          // last name
		{"search=m%40other", "malice"}, // email
		{"q=dept:eng", "alice malice"},
		{"q=" + url.QueryEscape("dept:eng site:paris"), "alice"},
		{"q=dept:ENG", ""},
		{"firstName=rob", "bob"},
		{"lastName=liddell&exact=true", "alice"},
		{"lastName=lid&exact=true", ""},
		{"idpAlias=corp", "bob"},
		{"idpAlias=corp&idpUserId=corp-bob", "bob"},
		{"idpAlias=corp&idpUserId=nobody", ""},
		{"search=*al*&first=1&max=1", "malice"},
	} {
		var got []map[string]any
		e.must(200, "GET", "/admin/realms/demo/users?"+tc.query, e.admin, nil).json(t, &got)
		var names []string
		for _, u := range got {
			names = append(names, u["username"].(string))
		}
		if strings.Join(names, " ") != tc.want {
			t.Errorf("%s: %v, want %q", tc.query, names, tc.want)
		}
		if strings.Contains(tc.query, "first=") {
			continue
		}
		var n int
		e.must(200, "GET", "/admin/realms/demo/users/count?"+tc.query, e.admin, nil).json(t, &n)
		if want := len(strings.Fields(tc.want)); n != want {
			t.Errorf("count %s = %d, want %d", tc.query, n, want)
		}
	}
	var brief []map[string]any
	e.must(200, "GET", "/admin/realms/demo/users?username=alice&exact=true&briefRepresentation=true", e.admin, nil).json(t, &brief)
	if len(brief) != 1 || brief[0]["attributes"] != nil || brief[0]["requiredActions"] != nil || brief[0]["firstName"] != "Alice" ||
		brief[0]["id"] != ids["alice"] || brief[0]["email"] != "alice@example.com" || brief[0]["enabled"] != true {
		t.Errorf("brief = %v", brief)
	}
	var full []map[string]any
	e.must(200, "GET", "/admin/realms/demo/users?username=alice&exact=true", e.admin, nil).json(t, &full)
	if len(full) != 1 || full[0]["attributes"] == nil {
		t.Errorf("full = %v", full)
	}
	for _, q := range []string{"q=novalue", "q=:x", "idpUserId=corp-bob", "max=x"} {
		for _, path := range []string{"/users?", "/users/count?"} {
			r := e.call("GET", "/admin/realms/demo"+path+q, e.admin, nil)
			if r.status != 400 || r.obj(t)["errorMessage"] == nil {
				t.Errorf("%s%s: %d %s", path, q, r.status, r.raw)
			}
		}
	}
}
