package admin

import "net/http"

// userProfile is GET /users/profile: Keycloak's UPConfig with the four
// default attributes. Gatehouse stores any other attribute as sent, which
// is Keycloak's unmanagedAttributePolicy ENABLED; it validates what its
// own rules check (username and email uniqueness, lengths), not these
// declarations, which are read-only here.
func (a *API) userProfile(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.targetRealm(r, queryUsers); err != nil {
		return err
	}
	both := map[string]any{"view": []string{"admin", "user"}, "edit": []string{"admin", "user"}}
	userRequired := map[string]any{"roles": []string{"user"}}
	attr := func(name string, validations map[string]any, required bool) map[string]any {
		m := map[string]any{"name": name, "displayName": "${" + name + "}", "validations": validations,
			"permissions": both, "multivalued": false}
		if required {
			m["required"] = userRequired
		}
		return m
	}
	empty := map[string]any{}
	writeJSON(w, http.StatusOK, map[string]any{
		"attributes": []map[string]any{
			attr("username", map[string]any{"length": map[string]any{"min": 3, "max": 255},
				"username-prohibited-characters": empty, "up-username-not-idn-homograph": empty}, false),
			attr("email", map[string]any{"email": empty, "length": map[string]any{"max": 255}}, true),
			attr("firstName", map[string]any{"length": map[string]any{"max": 255}, "person-name-prohibited-characters": empty}, true),
			attr("lastName", map[string]any{"length": map[string]any{"max": 255}, "person-name-prohibited-characters": empty}, true),
		},
		"groups": []map[string]any{{"name": "user-metadata", "displayHeader": "User metadata",
			"displayDescription": "Attributes, which refer to user metadata"}},
		"unmanagedAttributePolicy": "ENABLED",
	})
	return nil
}
