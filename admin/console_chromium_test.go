package admin_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse/gatehouse/internal/browsertest"
)

// consoleSignIn opens the realm's console in b and signs in on the login
// page it is sent to.
func consoleSignIn(t *testing.T, b *browsertest.Browser, e *env, realm, user, password string) {
	t.Helper()
	b.Run(t,
		chromedp.Navigate(e.srv.URL+"/admin/"+realm+"/console/"),
		browsertest.Fill("#username", user),
		browsertest.Fill("#password", password),
		browsertest.Click(`#kc-form-login button[type="submit"]`),
	)
}

// waitValueChange waits until the input matching css has a non-empty value
// other than old.
func waitValueChange(css, old string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.PollFunction[bool](
			`(sel, old) => { const e = document.querySelector(sel); return !!e && e.value !== "" && e.value !== old; }`,
			chromedp.WithPollingArgs(css, old), chromedp.WithPollingTimeout(0),
		)(ctx, t)
		return err
	})
}

// TestConsoleRegeneratesClientSecretInChromium is the operator's flow of
// issue 17 in a real browser: the bootstrap admin signs in to the console
// (code + PKCE through security-admin-console), creates a confidential
// client, opens its Credentials tab and regenerates the secret; the secret
// read from the page works for client_credentials and the old one no
// longer does.
func TestConsoleRegeneratesClientSecretInChromium(t *testing.T) {
	e := newEnv(t)
	b := browsertest.New(t)
	consoleSignIn(t, b, e, "master", "admin", adminPassword)
	b.Run(t,
		browsertest.WaitVisible("#clients-table"),
		browsertest.WaitText("#whoami", "admin"),
		browsertest.Click("#create-client-link"),
		browsertest.Fill("#client-clientId", "console-made"),
		browsertest.Click("#client-serviceAccounts"),
		browsertest.Click("#create-client-submit"),
		browsertest.WaitText("#client-heading", "console-made"),
		browsertest.Click("#tab-credentials"),
		waitValueChange("#client-secret", ""),
	)
	old := b.Value(t, "#client-secret")
	if status, _ := e.serviceToken("master", "console-made", old); status != 200 {
		t.Fatalf("the secret shown before regenerating does not work: %d", status)
	}
	if os.Getenv("GATEHOUSE_CONSOLE_SCREENSHOT") != "" {
		// The README's picture: the Credentials tab, secret revealed.
		b.Run(t, browsertest.Click("#client-secret-show"), chromedp.EmulateViewport(1000, 620))
		if err := os.WriteFile(os.Getenv("GATEHOUSE_CONSOLE_SCREENSHOT"), b.Screenshot(t), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Copy puts it on the clipboard (the page cannot read it back: reading
	// needs a permission the test browser does not give; the write's
	// success is what the message reports).
	b.Run(t, browsertest.Click("#client-secret-copy"), browsertest.WaitText("#message", "Secret copied to the clipboard."))
	// Regenerating asks for a second press first.
	b.Run(t,
		browsertest.Click("#regenerate-secret"),
		browsertest.WaitText("#regenerate-secret", "Regenerate now?"),
		browsertest.Click("#regenerate-secret"),
		browsertest.WaitText("#message", "A new secret was generated."),
		waitValueChange("#client-secret", old),
	)
	fresh := b.Value(t, "#client-secret")
	if status, m := e.serviceToken("master", "console-made", fresh); status != 200 {
		t.Errorf("the regenerated secret read from the page: %d %v", status, m)
	}
	if status, m := e.serviceToken("master", "console-made", old); status != 401 {
		t.Errorf("the old secret after regenerating (no grace): %d %v, want 401", status, m)
	}

	// With a rotation grace, the page shows the rotated secret, which keeps
	// working beside the new one until it is invalidated.
	b.Run(t,
		browsertest.Fill("#client-rotation-grace", "300"),
		browsertest.Click("#grace-save"),
		browsertest.WaitText("#message", "Rotation grace saved."),
		browsertest.Click("#regenerate-secret"),
		browsertest.Click("#regenerate-secret"),
		browsertest.WaitVisible("#rotated-secret-section"),
		waitValueChange("#client-secret", fresh),
	)
	if got := b.Value(t, "#rotated-secret"); got != fresh {
		t.Errorf("rotated secret shown %q, want the previous secret", got)
	}
	newest := b.Value(t, "#client-secret")
	for _, s := range []string{newest, fresh} {
		if status, m := e.serviceToken("master", "console-made", s); status != 200 {
			t.Errorf("during the grace: %d %v", status, m)
		}
	}
	b.Run(t,
		browsertest.Click("#invalidate-rotated"),
		browsertest.Click("#invalidate-rotated"),
		browsertest.WaitGone("#rotated-secret-section"),
	)
	if status, _ := e.serviceToken("master", "console-made", fresh); status != 401 {
		t.Errorf("the rotated secret after invalidating: %d, want 401", status)
	}

	// Client roles, and mapping one to the client's service account.
	b.Run(t,
		browsertest.Click("#tab-roles"),
		browsertest.Fill("#client-role-name", "reader"),
		browsertest.Click("#client-role-create"),
		browsertest.WaitText("#client-roles-table", "reader"),
		browsertest.Click("#tab-service-account-roles"),
		browsertest.WaitVisible("#role-container"),
		chromedp.SetValue(chromedp.CSS("#role-container"), "clients/"+clientUUID(t, e, "master", "console-made")),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("role-container").dispatchEvent(new Event("change"))`),
		browsertest.WaitText("#role-add", "reader"),
		browsertest.Click("#role-add-submit"),
		browsertest.WaitText("#assigned-roles-table", "reader"),
	)
	_, m := e.serviceToken("master", "console-made", newest)
	if at, _ := m["access_token"].(string); !strings.Contains(payload(t, at), `"reader"`) {
		t.Errorf("the service account's token lacks the role mapped in the console")
	}

	// The settings tab saves what it shows.
	b.Run(t,
		browsertest.Click("#tab-settings"),
		browsertest.Fill("#client-name", "Made in the console"),
		browsertest.Click("#client-directAccess"),
		browsertest.Click("#client-save"),
		browsertest.WaitText("#message", "Client saved."),
	)
	var c map[string]any
	e.must(200, "GET", "/admin/realms/master/clients/"+clientUUID(t, e, "master", "console-made"), e.admin, nil).json(t, &c)
	if c["name"] != "Made in the console" || c["directAccessGrantsEnabled"] != true || c["publicClient"] != false || c["serviceAccountsEnabled"] != true {
		t.Errorf("client saved from the settings tab: %v", c)
	}
}

func clientUUID(t *testing.T, e *env, realm, clientID string) string {
	t.Helper()
	var cs []map[string]any
	e.must(200, "GET", "/admin/realms/"+realm+"/clients?clientId="+clientID, e.admin, nil).json(t, &cs)
	if len(cs) != 1 {
		t.Fatalf("client %s: %v", clientID, cs)
	}
	return cs[0]["id"].(string)
}

// TestConsoleShowsNoAdminPagesWithoutAdminRolesInChromium: a user of the realm
// without any admin role signs in and gets the "No access" page, with no
// navigation to any admin page, even when the address names one.
func TestConsoleShowsNoAdminPagesWithoutAdminRolesInChromium(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms/master/users", e.admin, map[string]any{
		"username": "plain", "enabled": true,
		"credentials": []map[string]any{{"type": "password", "value": "plain-Pass-1", "temporary": false}},
	})
	b := browsertest.New(t)
	b.Run(t,
		chromedp.Navigate(e.srv.URL+"/admin/master/console/#/master/clients"),
		browsertest.Fill("#username", "plain"),
		browsertest.Fill("#password", "plain-Pass-1"),
		browsertest.Click(`#kc-form-login button[type="submit"]`),
		browsertest.WaitVisible("#no-access h1"),
	)
	if got := b.Text(t, "#no-access h1"); got != "No access" {
		t.Errorf("heading %q", got)
	}
	links := browsertest.Get(t, b, chromedp.Evaluate[int](`document.querySelectorAll("#nav a, #page table, #realm-select").length`))
	if links != 0 {
		t.Errorf("a user without admin roles sees %d admin links, tables or realm switches", links)
	}
	if !strings.Contains(b.Text(t, "#whoami"), "plain") {
		t.Errorf("whoami = %q", b.Text(t, "#whoami"))
	}
}

// noErrorShown fails when the page shows an error message or a page that
// could not be loaded.
func noErrorShown(t *testing.T, b *browsertest.Browser, where string) {
	t.Helper()
	state := browsertest.Get(t, b, chromedp.Evaluate[string](
		`(document.getElementById("page-error") ? "page-error " : "") + (document.querySelector("#message.error") ? document.getElementById("message").textContent : "")`))
	if state != "" {
		t.Fatalf("%s: %s", where, state)
	}
}

// TestConsolePagesWorkInChromium walks every section of the console as the
// bootstrap admin and uses the user pages end to end: create a realm,
// change its settings, create a user there, set a password, map a role,
// join a group; then the user signs in with that password. Access tokens
// of master live 5 seconds here, less than the console's refresh margin,
// so every admin call refreshes the token first.
func TestConsolePagesWorkInChromium(t *testing.T) {
	e := newEnv(t)
	e.must(204, "PUT", "/admin/realms/master", e.admin, map[string]any{"accessTokenLifespan": 5})
	b := browsertest.New(t)
	consoleSignIn(t, b, e, "master", "admin", adminPassword)
	b.Run(t, browsertest.WaitVisible("#clients-table"))
	for _, s := range []struct{ nav, heading string }{
		{"realm-settings", "Realm settings"}, {"clients", "Clients"}, {"users", "Users"}, {"roles", "Realm roles"},
		{"groups", "Groups"}, {"identity-providers", "Identity providers"}, {"knox", "Knox topologies"},
		{"sessions", "Sessions"}, {"events", "Login events"}, {"admin-events", "Admin events"},
	} {
		b.Run(t, browsertest.Click("#nav-"+s.nav), browsertest.WaitText("#page h1", s.heading))
		noErrorShown(t, b, s.nav)
	}
	// The admin's own session is listed.
	b.Run(t, browsertest.Click("#nav-sessions"), browsertest.WaitText("#sessions-table", "admin"))

	b.Run(t,
		browsertest.Click("#create-realm-link"),
		browsertest.Fill("#new-realm-name", "shop"),
		browsertest.Fill("#new-realm-displayName", "Shop"),
		browsertest.Click("#create-realm-submit"),
		browsertest.WaitText("#page h1", "Realm settings: Shop"),
		browsertest.Fill("#realm-accessTokenLifespan", "120"),
		browsertest.Click("#realm-bruteForceProtected"),
		browsertest.Fill("#realm-failureFactor", "7"),
		browsertest.Click("#realm-save"),
		browsertest.WaitText("#message", "Realm settings saved."),
	)
	// The switcher goes to another realm and back.
	b.Run(t,
		chromedp.SetValue(chromedp.CSS("#realm-select"), "master"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("realm-select").dispatchEvent(new Event("change"))`),
		browsertest.WaitText("#page h1", "Realm settings: Keycloak"),
		chromedp.SetValue(chromedp.CSS("#realm-select"), "shop"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("realm-select").dispatchEvent(new Event("change"))`),
		browsertest.WaitText("#page h1", "Realm settings: Shop"),
	)
	var realm map[string]any
	e.must(200, "GET", "/admin/realms/shop", e.admin, nil).json(t, &realm)
	if realm["accessTokenLifespan"] != float64(120) || realm["bruteForceProtected"] != true || realm["failureFactor"] != float64(7) {
		t.Errorf("realm settings saved from the console: %v", realm)
	}
	e.must(201, "POST", "/admin/realms/shop/roles", e.admin, map[string]any{"name": "buyer"})
	e.must(201, "POST", "/admin/realms/shop/groups", e.admin, map[string]any{"name": "staff"})

	b.Run(t,
		browsertest.Click("#nav-users"),
		browsertest.Click("#create-user-link"),
		browsertest.Fill("#user-username", "carol"),
		browsertest.Fill("#user-email", "carol@example.com"),
		browsertest.Click("#create-user-submit"),
		browsertest.WaitText("#user-heading", "carol"),
		browsertest.WaitVisible("#user-password-form"),
		browsertest.Fill("#user-password", "carol-Pass-1"),
		browsertest.Fill("#user-password-confirm", "carol-Pass-1"),
		browsertest.Click("#user-password-temporary"),
		browsertest.Click("#user-password-submit"),
		browsertest.WaitText("#message", "Password set."),
		browsertest.Click("#tab-role-mapping"),
		browsertest.WaitVisible("#role-add-form"),
		chromedp.SetValue(chromedp.CSS("#role-add"), idAt(t, e, "/admin/realms/shop/roles/buyer")),
		browsertest.Click("#role-add-submit"),
		browsertest.WaitText("#assigned-roles-table", "buyer"),
		browsertest.Click("#tab-groups"),
		browsertest.WaitVisible("#user-join-form"),
		browsertest.Click("#user-join-submit"),
		browsertest.WaitText("#user-groups-table", "/staff"),
		browsertest.Click("#nav-users"),
		browsertest.Fill("#user-search", "caro"),
		browsertest.Click("#user-search-submit"),
		browsertest.WaitText("#users-table", "carol@example.com"),
	)
	noErrorShown(t, b, "users")
	b.Run(t,
		browsertest.Click("#nav-events"),
		browsertest.Click("#events-enabled"),
		browsertest.Click("#events-config-save"),
		browsertest.WaitText("#message", "Event settings saved."),
	)
	login := e.passwordLogin("shop", "admin-cli", "", "carol", "carol-Pass-1")
	b.Run(t,
		browsertest.Click("#nav-users"),
		browsertest.WaitVisible("#users-table"),
		browsertest.Click("#nav-events"),
		browsertest.WaitText("#login-events-table", "LOGIN"),
		browsertest.Click("#nav-users"),
		browsertest.WaitVisible("#user-link-carol"),
	)
	if !strings.Contains(login["access_token"].(string), ".") {
		t.Fatalf("carol's login: %v", login)
	}
	var groups []map[string]any
	e.must(200, "GET", "/admin/realms/shop/users/"+e.userID("shop", "carol")+"/groups", e.admin, nil).json(t, &groups)
	if len(groups) != 1 || groups[0]["path"] != "/staff" {
		t.Errorf("carol's groups: %v", groups)
	}
	// Carol's session (from that login) and her API keys (none yet), then
	// a subgroup made in the groups page.
	b.Run(t,
		browsertest.Click("#user-link-carol"),
		browsertest.Click("#tab-sessions"),
		browsertest.WaitText("#user-sessions-table", "admin-cli"),
		browsertest.Click("#tab-api-keys"),
		browsertest.WaitText("#user-api-keys-table", "no API keys"),
		browsertest.Click("#nav-groups"),
		browsertest.WaitVisible("#group-create-form"),
		browsertest.Fill("#group-name", "night-shift"),
		chromedp.SetValue(chromedp.CSS("#group-parent"), idAt(t, e, "/admin/realms/shop/group-by-path/staff")),
		browsertest.Click("#group-create"),
		browsertest.WaitText("#groups-table", "/staff/night-shift"),
	)
	noErrorShown(t, b, "user sessions, API keys and groups")

	// An identity provider (here realm master of this server) and a Knox
	// topology, through their forms.
	b.Run(t,
		browsertest.Click("#nav-identity-providers"),
		browsertest.Fill("#idp-alias", "corp"),
		browsertest.Fill("#idp-issuer", e.srv.URL+"/realms/master"),
		browsertest.Click("#idp-create"),
		browsertest.WaitText("#idps-table", "corp"),
		browsertest.Click("#nav-knox"),
		browsertest.Fill("#topology-name", "sandbox"),
		browsertest.Click("#topology-save"),
		browsertest.WaitText("#topologies-table", "sandbox"),
	)
	noErrorShown(t, b, "identity providers and topologies")
	e.must(200, "GET", "/admin/realms/shop/identity-provider/instances/corp", e.admin, nil)
	var topo map[string]any
	e.must(200, "GET", "/admin/gateway/topologies/sandbox", e.admin, nil).json(t, &topo)
	if topo["realm"] != "shop" || topo["authentication"] != "basic" {
		t.Errorf("topology saved from the console: %v", topo)
	}

	tokenCalls := browsertest.Get(t, b, chromedp.Evaluate[int](
		`performance.getEntriesByType("resource").filter(e => e.name.endsWith("/protocol/openid-connect/token")).length`))
	if tokenCalls < 10 {
		t.Errorf("%d token requests: the console does not refresh its short-lived token", tokenCalls)
	}

	// Keyboard only: Tab reaches the navigation, Enter follows a link, and
	// the new page's heading takes the focus.
	reached := false
	for range 40 {
		b.Run(t, chromedp.KeyEvent("\t"))
		if browsertest.Get(t, b, chromedp.Evaluate[string](`document.activeElement.id`)) == "nav-groups" {
			reached = true
			break
		}
	}
	if !reached {
		t.Fatal("Tab never reached the Groups link")
	}
	b.Run(t, chromedp.KeyEvent("\r"), browsertest.WaitText("#page h1", "Groups"))
	if got := browsertest.Get(t, b, chromedp.Evaluate[string](`document.activeElement.tagName + " " + document.activeElement.textContent`)); got != "H1 Groups" {
		t.Errorf("focus after following a link with Enter: %q", got)
	}

	// A phone-sized screen: every page fits its width (tables scroll in
	// their own box).
	b.Run(t, chromedp.EmulateViewport(360, 740))
	for _, s := range []struct{ nav, heading string }{
		{"clients", "Clients"}, {"users", "Users"}, {"realm-settings", "Realm settings"}, {"events", "Login events"},
	} {
		b.Run(t, browsertest.Click("#nav-"+s.nav), browsertest.WaitText("#page h1", s.heading))
		if over := browsertest.Get(t, b, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`)); over > 0 {
			t.Errorf("%s on a 360px screen is %dpx too wide", s.nav, over)
		}
	}

	// Nothing the console did broke its CSP or threw.
	for _, m := range b.ConsoleMessages() {
		if strings.Contains(m, "Content Security Policy") || strings.Contains(m, "Uncaught") {
			t.Errorf("browser console: %s", m)
		}
	}

	// Signing out ends the SSO session and lands on the signed-out page.
	b.Run(t, browsertest.Click("#sign-out"), browsertest.WaitVisible("#signed-out"))
	b.Run(t, browsertest.Click("#sign-in"), browsertest.WaitVisible("#kc-form-login"))
}

// TestConsoleShowsRefusalsAsMessagesInChromium: a realm admin with only
// view-users signs in to her realm's console; it offers that realm alone,
// lists users, and shows the API's 403 for clients as a message, not as a
// broken page.
func TestConsoleShowsRefusalsAsMessagesInChromium(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	e.userWithRights("demo", "viewer", nil, "view-users")
	b := browsertest.New(t)
	consoleSignIn(t, b, e, "demo", "viewer", "viewer-Pass-1")
	b.Run(t,
		browsertest.WaitVisible("#page-error"),
		browsertest.WaitText("#message", "You are not allowed to do this"),
	)
	if got := browsertest.Get(t, b, chromedp.Evaluate[string](`[...document.querySelectorAll("#realm-select option")].map(o => o.value).join(",")`)); got != "demo" {
		t.Errorf("realms offered: %q", got)
	}
	b.Run(t, browsertest.Click("#nav-users"), browsertest.WaitText("#users-table", "viewer"))
	noErrorShown(t, b, "users")
	// She may see role mappings though not list clients: the tab offers
	// the realm's roles.
	b.Run(t,
		browsertest.Click("#user-link-viewer"),
		browsertest.Click("#tab-role-mapping"),
		browsertest.WaitVisible("#assigned-roles-table"),
	)
	noErrorShown(t, b, "role mapping")
	if got := browsertest.Get(t, b, chromedp.Evaluate[int](`document.querySelectorAll("#role-container option").length`)); got != 1 {
		t.Errorf("%d role containers offered, want the realm's only", got)
	}
}

// TestConsoleSignsInAgainWhenTheSessionEndsInChromium: when the admin's
// sessions are ended elsewhere, the console's next call finds its token
// revoked and its refresh refused, sends the browser to the login page,
// and after signing in again shows the page that was asked for.
func TestConsoleSignsInAgainWhenTheSessionEndsInChromium(t *testing.T) {
	e := newEnv(t)
	b := browsertest.New(t)
	consoleSignIn(t, b, e, "master", "admin", adminPassword)
	b.Run(t, browsertest.WaitVisible("#clients-table"))
	e.must(204, "POST", "/admin/realms/master/users/"+e.userID("master", "admin")+"/logout", e.admin, nil)
	b.Run(t,
		browsertest.Click("#nav-users"),
		browsertest.WaitVisible("#kc-form-login"),
		browsertest.Fill("#username", "admin"),
		browsertest.Fill("#password", adminPassword),
		browsertest.Click(`#kc-form-login button[type="submit"]`),
		browsertest.WaitVisible("#users-table"),
	)
	if loc := b.Location(t); !strings.HasSuffix(loc, "/admin/master/console/#/master/users") {
		t.Errorf("after signing in again: %s", loc)
	}
}

// idAt is the id of the representation the admin API answers at path.
func idAt(t *testing.T, e *env, path string) string {
	t.Helper()
	var rep map[string]any
	e.must(200, "GET", path, e.admin, nil).json(t, &rep)
	return rep["id"].(string)
}
