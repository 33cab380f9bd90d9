package admin_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/admin"
	"github.com/gatehouse/gatehouse/oidc"
)

// GET /admin/serverinfo answers administrators with the version the binary
// was given and the server's time; others get the admin API's 401/403.
func TestServerInfo(t *testing.T) {
	e := newEnv(t)
	srv := oidc.NewServer(oidc.Config{Service: e.svc})
	admin.Mount(srv, admin.Services{Realms: e.svc}, nil).SetVersion("1.2.3-test")
	hs := httptest.NewServer(srv)
	defer hs.Close()
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	e.must(201, "POST", "/admin/realms/demo/clients", e.admin, map[string]any{"clientId": "cli", "publicClient": true, "directAccessGrantsEnabled": true})
	e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{"username": "joe", "enabled": true,
		"credentials": []map[string]any{{"type": "password", "value": "joe-Pass-1"}}})
	joe := e.passwordToken("demo", "cli", "", "joe", "joe-Pass-1")

	for _, tc := range []struct {
		name   string
		token  string
		status int
	}{
		{"master admin", e.admin, http.StatusOK},
		{"no token", "", http.StatusUnauthorized},
		{"user without admin rights", joe, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, hs.URL+"/admin/serverinfo", nil)
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body struct {
				SystemInfo struct {
					Version    string `json:"version"`
					ServerTime string `json:"serverTime"`
				} `json:"systemInfo"`
				ProfileInfo  map[string]any `json:"profileInfo"`
				Themes       map[string]any `json:"themes"`
				Providers    map[string]any `json:"providers"`
				ErrorMessage string         `json:"errorMessage"`
			}
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %+v", res.StatusCode, tc.status, body)
			}
			if tc.status != http.StatusOK {
				if body.ErrorMessage == "" {
					t.Errorf("no errorMessage: %+v", body)
				}
				return
			}
			if body.SystemInfo.Version != "1.2.3-test" || body.ProfileInfo == nil || body.Themes == nil || body.Providers == nil {
				t.Errorf("serverinfo %+v", body)
			}
			for spi, id := range map[string]string{"login-protocol": "openid-connect", "keys": "rsa-generated", "eventsListener": "jboss-logging"} {
				entry, _ := body.Providers[spi].(map[string]any)
				ps, _ := entry["providers"].(map[string]any)
				if _, ok := ps[id]; !ok {
					t.Errorf("providers[%s] = %v, want %s", spi, body.Providers[spi], id)
				}
			}
			st, err := time.Parse("Mon Jan 02 15:04:05 MST 2006", body.SystemInfo.ServerTime)
			if err != nil || st.Sub(e.svc.Now()).Abs() > time.Minute {
				t.Errorf("serverTime %q (%v), server clock %v", body.SystemInfo.ServerTime, err, e.svc.Now())
			}
		})
	}
}
