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
// realm role and mapping, the role in the user's next token, composite
// roles, role users, available/composite mappings, and groups (tree,
// attributes, members, inherited role mappings). npm and node come with the
// machine; `make test` installs the pinned package.
func TestKeycloakAdminClientLibrary(t *testing.T) { runKeycloakAdminFlow(t, "flow.mjs") }

// The admin client's calls for sessions, events, realm settings, default
// clients, user search, keys, user profile and server info succeed.
func TestKeycloakAdminClientSessionsAndEvents(t *testing.T) {
	runKeycloakAdminFlow(t, "sessions_events.mjs")
}

// runKeycloakAdminFlow runs a script of testdata/kcadmin against a fresh
// server; it must print FLOW OK.
func runKeycloakAdminFlow(t *testing.T, script string) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs node and the pinned npm package")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	dir, err := filepath.Abs("../testdata/kcadmin")
	if err != nil {
		t.Fatal(err)
	}
	// The registry is reached only by `make test` (target test-deps), never
	// by a plain `go test`.
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@keycloak", "keycloak-admin-client")); err != nil {
		t.Skip("the pinned Keycloak admin client is not installed: run `make test` " +
			"(or `cd testdata/kcadmin && npm ci --no-audit --no-fund`) first")
	}
	e := newEnv(t)
	cmd := exec.Command(node, script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GATEHOUSE_URL="+e.srv.URL, "ADMIN_PASSWORD="+adminPassword)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "FLOW OK") {
		t.Fatalf("Keycloak admin client flow %s failed: %v\n%s", script, err, out)
	}
}
