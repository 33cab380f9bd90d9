package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// modelsFile is a realm written here with a resource server in every
// shape Gatehouse runs (see admin's TestAuthzSettingsSurvivePartialExportAndImport).
var modelsFile = filepath.Join("..", "..", "testdata", "authz", "models-realm.json")

// A resource server's resources in the three access modes, its scopes,
// role, group, user, client and aggregate policies and resource and scope
// permissions survive the offline export -> import -> export unchanged.
func TestAuthzSettingsRoundTripThroughOfflineExportIsStable(t *testing.T) {
	a := roundTrip(t, modelsFile, "models")
	var rep struct {
		Clients []struct {
			ClientID              string
			AuthorizationSettings *struct {
				Resources []struct {
					Name       string
					AccessMode string `json:"access_mode"`
				}
				Policies []struct{ Name, Type string }
				Scopes   []struct{ Name string }
			}
		}
	}
	json.Unmarshal(a, &rep)
	for _, c := range rep.Clients {
		if c.ClientID != "models" {
			continue
		}
		st := c.AuthorizationSettings
		if st == nil || len(st.Resources) != 6 || len(st.Policies) != 9 || len(st.Scopes) != 2 {
			t.Fatalf("the export lacks the resource server's settings: %+v", st)
		}
		types := map[string]bool{}
		for _, p := range st.Policies {
			types[p.Type] = true
		}
		for _, want := range []string{"role", "group", "user", "client", "aggregate", "resource", "scope"} {
			if !types[want] {
				t.Errorf("no %s policy in the export", want)
			}
		}
		return
	}
	t.Fatal("no client models in the export")
}

// umaDecision asks the token endpoint whether the holder of token may use
// resource#scope of resource server audience.
func umaDecision(t *testing.T, base, realm, token, audience, permission string) int {
	t.Helper()
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:uma-ticket"}, "audience": {audience},
		"permission": {permission}, "response_mode": {"decision"}}
	req, _ := http.NewRequest("POST", base+"/realms/"+realm+"/protocol/openid-connect/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// The Keycloak-written fine-grained admin permissions of fgap-realm.json
// import through every door: its resources, scopes, group and role
// policies and scope permissions decide at the uma-ticket grant (a member
// of /DUA/DE-DUA may manage the members of the DE group, not those of the
// UK group), and what Gatehouse does not run is named.
func TestKeycloakAuthorizationSettingsImportAndDecide(t *testing.T) {
	for _, tc := range importDoors(t, fgapFile, "fgap") {
		t.Run(tc.name, func(t *testing.T) {
			p, report := tc.start(t, t.TempDir())
			for _, field := range []string{
				"clients[admin-permissions].authorizationSettings.policies[Allow manage DE users].config.defaultResourceType",
				"clients[].authorizationSettings.authorizationSchema",
			} {
				if !strings.Contains(report, field) {
					t.Errorf("the report does not name %s:\n%s", field, report)
				}
			}
			if strings.Contains(report, "(type ") {
				t.Errorf("a policy of the file was left out:\n%s", report)
			}
			st, tok := tokenFor(t, p.base, "fgap", url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"},
				"username": {"de-dua-0"}, "password": {"test"}})
			if st != 200 {
				t.Fatalf("login: %d %v", st, tok)
			}
			access := tok["access_token"].(string)
			const de, uk = "01628061-335b-45da-932d-10e9861581f5", "2ca5b429-4d90-4952-9412-fa1c1d857f2a"
			for _, c := range []struct {
				permission string
				want       int
			}{
				{de + "#manage-members", 200},
				{de + "#view-members", 200},
				{uk + "#manage-members", 403},
				{de + "#manage", 403},
			} {
				if got := umaDecision(t, p.base, "fgap", access, "admin-permissions", c.permission); got != c.want {
					t.Errorf("de-dua-0 asking %s: %d, want %d", c.permission, got, c.want)
				}
			}
		})
	}
}
