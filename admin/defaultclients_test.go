package admin_test

import (
	"reflect"
	"slices"
	"testing"
)

// A new realm has Keycloak's default clients with their settings and roles.
func TestNewRealmHasKeycloaksDefaultClients(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	var list []map[string]any
	e.must(200, "GET", "/admin/realms/demo/clients", e.admin, nil).json(t, &list)
	byID := map[string]map[string]any{}
	for _, c := range list {
		byID[c["clientId"].(string)] = c
	}
	for _, tc := range []struct {
		clientID string
		want     map[string]any
		roles    []string
	}{
		{"admin-cli", map[string]any{"publicClient": true, "standardFlowEnabled": false, "directAccessGrantsEnabled": true, "bearerOnly": false}, nil},
		{"account", map[string]any{"publicClient": true, "standardFlowEnabled": true, "directAccessGrantsEnabled": false,
			"redirectUris": []any{"/realms/demo/account/*"}}, []string{"delete-account", "manage-account", "manage-account-links",
			"manage-consent", "view-applications", "view-consent", "view-groups", "view-profile"}},
		{"account-console", map[string]any{"publicClient": true, "standardFlowEnabled": true,
			"redirectUris": []any{"/realms/demo/account/*"}}, nil},
		{"broker", map[string]any{"bearerOnly": true, "publicClient": false}, []string{"read-token"}},
		{"realm-management", map[string]any{"bearerOnly": true}, nil},
		{"security-admin-console", map[string]any{"publicClient": true, "standardFlowEnabled": true, "directAccessGrantsEnabled": false,
			"redirectUris": []any{"/admin/demo/console/*"}, "webOrigins": []any{"+"}}, nil},
	} {
		c, ok := byID[tc.clientID]
		if !ok {
			t.Errorf("no client %s in %v", tc.clientID, list)
			continue
		}
		for k, v := range tc.want {
			if !reflect.DeepEqual(c[k], v) {
				t.Errorf("%s.%s = %#v, want %#v", tc.clientID, k, c[k], v)
			}
		}
		if c["name"] != "${client_"+tc.clientID+"}" {
			t.Errorf("%s name = %v", tc.clientID, c["name"])
		}
		if attrs, _ := c["attributes"].(map[string]any); (attrs["realm_client"] == "true") != (tc.clientID == "broker" || tc.clientID == "realm-management") {
			t.Errorf("%s attributes = %v: realm_client is for broker and realm-management", tc.clientID, attrs)
		}
		if tc.clientID == "account-console" || tc.clientID == "security-admin-console" {
			if attrs, _ := c["attributes"].(map[string]any); attrs["pkce.code.challenge.method"] != "S256" {
				t.Errorf("%s attributes = %v, want PKCE S256", tc.clientID, c["attributes"])
			}
		}
		if tc.roles != nil {
			var roles []map[string]any
			e.must(200, "GET", "/admin/realms/demo/clients/"+c["id"].(string)+"/roles", e.admin, nil).json(t, &roles)
			var names []string
			for _, r := range roles {
				names = append(names, r["name"].(string))
			}
			if !slices.Equal(names, tc.roles) {
				t.Errorf("%s roles = %v, want %v", tc.clientID, names, tc.roles)
			}
		}
	}
	// admin-cli works at once in the new realm, as in Keycloak.
	e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{
		"username": "alice", "enabled": true, "credentials": []map[string]any{{"value": "alice-Pass-1"}}})
	e.passwordToken("demo", "admin-cli", "", "alice", "alice-Pass-1")
}
