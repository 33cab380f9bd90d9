package oidc_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse/gatehouse/internal/browsertest"
	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// signInOnLoginPage types the credentials into Gatehouse's login page, as
// a person would, and submits it.
func signInOnLoginPage(username, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		browsertest.WaitVisible("#kc-form-login"),
		browsertest.Fill("#username", username),
		browsertest.Fill("#password", password),
		browsertest.Click(`#kc-form-login button[type="submit"]`),
	)
}

// TestChromiumSampleWebAppSignInSSOAndLogout: in headless Chromium, the
// sample confidential web app (x/oauth2 with PKCE S256, ID token verified
// against the JWKS with its nonce) signs Alice in through the login page
// and shows her name; a second app signs her in through the SSO cookie
// without showing the login page; signing out of the first app through
// RP-initiated logout comes back to it, and the next sign-in prompts
// again; a logout link without id_token_hint asks before it signs out.
func TestChromiumSampleWebAppSignInSSOAndLogout(t *testing.T) {
	e := newEnv(t, withRealm(func(r *store.Realm) { r.DisplayName = "Demo Corp" }))
	shop, wiki := newWebApp(t, e, "shop"), newWebApp(t, e, "wiki")
	b := browsertest.New(t)

	b.Run(t,
		chromedp.Navigate(shop.url+"/"),
		browsertest.Click("#sign-in"),
		browsertest.WaitVisible("#kc-form-login"),
	)
	if loc := b.Location(t); !strings.HasPrefix(loc, e.endpoint("auth")+"?") {
		t.Fatalf("login page at %s", loc)
	}
	if got := b.Text(t, ".realm"); got != "Demo Corp" {
		t.Errorf("login page names the realm %q", got)
	}
	b.Run(t, signInOnLoginPage("alice", alicePassword), browsertest.WaitVisible("#user"))
	if got := b.Text(t, "#name"); got != "Alice Liddell" {
		t.Errorf("shop shows %q (errors %v)", got, shop.errors())
	}
	if loc := b.Location(t); loc != shop.url+"/" {
		t.Errorf("after sign-in the browser is at %s", loc)
	}
	sid := b.Text(t, "#sid")

	// SSO: the second app's sign-in goes through the authorization
	// endpoint and straight back; no login page enters the history.
	before := len(browsertest.Get(t, b, chromedp.NavigationEntries()).Entries)
	b.Run(t,
		chromedp.Navigate(wiki.url+"/"),
		browsertest.Click("#sign-in"),
		browsertest.WaitVisible("#user"),
	)
	if got := b.Text(t, "#sid"); got != sid {
		t.Errorf("wiki's SSO session %q, shop's %q", got, sid)
	}
	for _, h := range browsertest.Get(t, b, chromedp.NavigationEntries()).Entries[before:] {
		if strings.HasPrefix(h.URL, e.endpoint("auth")) {
			t.Errorf("the second app showed a Gatehouse page: %s", h.URL)
		}
	}

	// RP-initiated logout from the shop ends the SSO session.
	b.Run(t,
		chromedp.Navigate(shop.url+"/"),
		browsertest.Click("#sign-out"),
		browsertest.WaitVisible("#signed-out"),
	)
	if loc := b.Location(t); !strings.HasPrefix(loc, shop.url+"/signed-out?state=") {
		t.Errorf("logout came back to %s", loc)
	}
	b.Run(t, browsertest.Click("#sign-in"), browsertest.WaitVisible("#kc-form-login"))
	// The wiki's own session outlives the SSO session (its app cookie),
	// but its next sign-in must prompt too.
	b.Run(t,
		chromedp.Navigate(wiki.url+"/login"),
		browsertest.WaitVisible("#kc-form-login"),
	)
	// A logout link without id_token_hint (any site could show one) asks
	// first; confirming posts the form and the answer redirects to the
	// app (the page's form-action allows the app's origin).
	b.Run(t, signInOnLoginPage("alice", alicePassword), browsertest.WaitVisible("#user"))
	wiki.mu.Lock()
	wiki.logouts["from-a-link"] = true
	wiki.mu.Unlock()
	b.Run(t,
		chromedp.Navigate(e.endpoint("logout")+"?"+url.Values{
			"client_id": {"wiki"}, "post_logout_redirect_uri": {wiki.url + "/signed-out"}, "state": {"from-a-link"},
		}.Encode()),
		browsertest.Click(`#kc-logout-confirm button[type="submit"]`),
		browsertest.WaitVisible("#signed-out"),
	)
	b.Run(t, chromedp.Navigate(shop.url+"/login"), browsertest.WaitVisible("#kc-form-login"))
	if errs := append(shop.errors(), wiki.errors()...); len(errs) > 0 {
		t.Errorf("apps refused: %v", errs)
	}
}

// TestChromiumTemporaryPasswordIsUpdatedAtFirstSignIn: a user whose
// password is temporary signs in to the sample app, gets Keycloak's
// update-password form, sets a new password and lands in the app; the new
// password is the one that works afterwards.
func TestChromiumTemporaryPasswordIsUpdatedAtFirstSignIn(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.CreateUser(context.Background(), e.realm, realms.NewUser{User: store.User{
		Username: "bob", FirstName: "Bob", LastName: "Builder", Email: "bob@example.com", Enabled: true, EmailVerified: true,
	}, Password: "bob-Temporary-1", Temporary: true}); err != nil {
		t.Fatal(err)
	}
	shop := newWebApp(t, e, "shop")
	b := browsertest.New(t)
	b.Run(t,
		chromedp.Navigate(shop.url+"/login"),
		signInOnLoginPage("bob", "bob-Temporary-1"),
		browsertest.WaitVisible("#kc-passwd-update-form"),
	)
	if got := b.Text(t, ".info"); !strings.Contains(got, "change your password") {
		t.Errorf("update-password page says %q", got)
	}
	updatePassword := func(password, confirm string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			browsertest.Fill("#password-new", password),
			browsertest.Fill("#password-confirm", confirm),
			browsertest.Click(`#kc-passwd-update-form button[type="submit"]`),
		)
	}
	// Mismatched confirmation: Keycloak's message, the form again.
	b.Run(t, updatePassword("bob-New-Password-2", "something-else"), browsertest.WaitVisible("#input-error"))
	if got := b.Text(t, "#input-error"); got != "Passwords don't match." {
		t.Errorf("mismatch message %q", got)
	}
	b.Run(t, updatePassword("bob-New-Password-2", "bob-New-Password-2"), browsertest.WaitVisible("#user"))
	if got := b.Text(t, "#name"); got != "Bob Builder" {
		t.Errorf("shop shows %q (errors %v)", got, shop.errors())
	}
	grant := func(password string) int {
		return e.post("token", url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {password}}, "app", e.secret).status
	}
	if got := grant("bob-New-Password-2"); got != 200 {
		t.Errorf("new password: %d", got)
	}
	if got := grant("bob-Temporary-1"); got != 401 {
		t.Errorf("temporary password still accepted: %d", got)
	}
}

// TestChromiumLoginPageByKeyboardOnANarrowScreen: on a phone-sized screen
// the login page fits without sideways scrolling, the cursor starts in the
// username field, Tab and Enter are enough to sign in, and after a wrong
// password the error is shown with the username kept and the cursor in
// the password field.
func TestChromiumLoginPageByKeyboardOnANarrowScreen(t *testing.T) {
	e := newEnv(t)
	shop := newWebApp(t, e, "shop")
	b := browsertest.New(t)
	b.Run(t,
		chromedp.EmulateViewport(360, 640, chromedp.EmulateMobile, chromedp.EmulatePortrait),
		chromedp.Navigate(shop.url+"/login"),
		browsertest.WaitVisible("#kc-form-login"),
	)
	fits := chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= document.documentElement.clientWidth`)
	if !browsertest.Get(t, b, fits) {
		t.Error("the login page scrolls sideways at 360 px")
	}
	if got := b.Focused(t); got != "username" {
		t.Errorf("focus on load: %q", got)
	}
	b.Run(t, chromedp.KeyEvent("alice\twrong-password\r"), browsertest.WaitVisible("#input-error"))
	if got := b.Text(t, "#input-error"); got != "Invalid username or password." {
		t.Errorf("error %q", got)
	}
	if got, user := b.Focused(t), b.Value(t, "#username"); got != "password" || user != "alice" {
		t.Errorf("after the error: focus %q, username %q", got, user)
	}
	b.Run(t, chromedp.KeyEvent(alicePassword+"\r"), browsertest.WaitVisible("#user"))
	if got := b.Text(t, "#name"); got != "Alice Liddell" {
		t.Errorf("shop shows %q", got)
	}
}

// TestChromiumFormPostResponseMode: with response_mode=form_post the
// browser runs the answer page's script, which posts the code to the app's
// callback; the app signs the user in from the posted form.
func TestChromiumFormPostResponseMode(t *testing.T) {
	e := newEnv(t)
	shop := newWebApp(t, e, "shop")
	shop.authParams = map[string]string{"response_mode": "form_post"}
	b := browsertest.New(t)
	b.Run(t,
		chromedp.Navigate(shop.url+"/login"),
		signInOnLoginPage("alice", alicePassword),
		browsertest.WaitVisible("#user"),
	)
	if got := b.Text(t, "#name"); got != "Alice Liddell" {
		t.Errorf("shop shows %q (errors %v)", got, shop.errors())
	}
	// Silent sign-in through the SSO session uses the same page.
	b.Run(t, chromedp.Navigate(shop.url+"/login"), browsertest.WaitVisible("#user"))
	if errs := shop.errors(); len(errs) > 0 {
		t.Errorf("app refused: %v", errs)
	}
}
