package admin_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/nodetest"
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
	dir := nodetest.Require(t, "@keycloak/keycloak-admin-client")
	e := newEnv(t)
	nodetest.Flow(t, dir, script, "GATEHOUSE_URL="+e.srv.URL, "ADMIN_PASSWORD="+adminPassword)
}
