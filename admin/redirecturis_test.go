package admin_test

import (
	"strings"
	"testing"
)

// Redirect URIs decide where authorization codes go, so the admin API
// refuses any it could not match safely (400 with Keycloak's error shape)
// and stores the ones the browser flow can use.
func TestClientRedirectURIsValidated(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	for _, tc := range []struct {
		name  string
		rep   map[string]any
		field string
	}{
		{"relative without slash", map[string]any{"redirectUris": []string{"callback"}}, "redirectUris"},
		{"javascript scheme", map[string]any{"redirectUris": []string{"javascript:alert(1)"}}, "redirectUris"},
		{"fragment", map[string]any{"redirectUris": []string{"https://app.example/cb#x"}}, "redirectUris"},
		{"whitespace", map[string]any{"redirectUris": []string{"https://app.example/c b"}}, "redirectUris"},
		{"http without host", map[string]any{"redirectUris": []string{"https:///cb"}}, "redirectUris"},
		{"bad post-logout URI", map[string]any{"attributes": map[string]string{"post.logout.redirect.uris": "+##data:text/html,x"}}, "post.logout.redirect.uris"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.rep["clientId"] = "bad-" + strings.ReplaceAll(tc.name, " ", "-")
			r := e.must(400, "POST", "/admin/realms/demo/clients", e.admin, tc.rep)
			if msg, _ := r.obj(t)["errorMessage"].(string); !strings.Contains(msg, tc.field) {
				t.Errorf("errorMessage %q does not name %s", msg, tc.field)
			}
		})
	}
	id, _ := e.createClient("demo", e.admin, map[string]any{"clientId": "web",
		"redirectUris": []string{"https://app.example/cb", "https://app.example/wild/*", "/admin/demo/console/*", "com.example.app:/oauth"},
		"attributes":   map[string]string{"post.logout.redirect.uris": "+##https://app.example/bye"}})
	got := e.must(200, "GET", "/admin/realms/demo/clients/"+id, e.admin, nil).obj(t)
	if uris, _ := got["redirectUris"].([]any); len(uris) != 4 || got["standardFlowEnabled"] != true {
		t.Errorf("stored client: %v", got)
	}
	// An update is validated the same way.
	e.must(400, "PUT", "/admin/realms/demo/clients/"+id, e.admin, map[string]any{"clientId": "web", "redirectUris": []string{"javascript:x"}})
}
