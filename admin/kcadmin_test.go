package admin_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Keycloak's own admin client library (@keycloak/keycloak-admin-client,
// pinned in testdata/kcadmin) runs unchanged against Gatehouse: realm,
// confidential client, secret read and regeneration, user, password reset,
// realm role and mapping, and the role in the user's next token. npm and
// node come with the machine; the test installs the pinned package itself.
func TestKeycloakAdminClientLibrary(t *testing.T) { runKeycloakAdminFlow(t, "flow.mjs") }

// The admin client's calls for sessions, events, realm settings, default
// clients, user search, keys, user profile and server info succeed.
func TestKeycloakAdminClientSessionsAndEvents(t *testing.T) {
	runKeycloakAdminFlow(t, "sessions_events.mjs")
}

// runKeycloakAdminFlow runs a script of testdata/kcadmin against a fresh
// server; it must print FLOW OK.
func runKeycloakAdminFlow(t *testing.T, script string) {
	if testing.Short() {
		t.Skip("needs node and the npm registry")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed")
	}
	dir, err := filepath.Abs("../testdata/kcadmin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@keycloak", "keycloak-admin-client")); err != nil {
		install := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		install.Dir = dir
		if out, err := install.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	e := newEnv(t)
	cmd := exec.Command(node, script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GATEHOUSE_URL="+e.srv.URL, "ADMIN_PASSWORD="+adminPassword)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "FLOW OK") {
		t.Fatalf("Keycloak admin client flow failed: %v\n%s", err, out)
	}
}
