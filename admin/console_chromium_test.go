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
