package oidc_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// webEnv is env plus browser-flow clients: "web" (confidential) and "spa"
// (public), both with the standard flow.
type webEnv struct {
	*env
	clock     *clock
	webSecret string
	web, spa  store.Client
}

const (
	webRedirect = "http://web.example/callback"
	spaRedirect = "http://spa.example/cb"
)

func newWebEnv(t *testing.T, opts ...envOption) *webEnv {
	t.Helper()
	clk := &clock{}
	e := newEnv(t, append([]envOption{withClock(clk.now)}, opts...)...)
	ctx := context.Background()
	web, secret, err := e.svc.CreateClient(ctx, "demo", realms.NewClient{Client: store.Client{
		ClientID: "web", Enabled: true, StandardFlowEnabled: true, DirectAccessGrantsEnabled: true,
		RedirectURIs: []string{webRedirect, "http://wild.example/app/*"},
		Attributes:   map[string]string{realms.AttrPostLogoutRedirectURIs: "http://web.example/bye##+"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.CreateClient(ctx, "demo", realms.NewClient{Client: store.Client{
		ClientID: "consent", Enabled: true, StandardFlowEnabled: true, ConsentRequired: true, RedirectURIs: []string{webRedirect},
	}}); err != nil {
		t.Fatal(err)
	}
	spa, _, err := e.svc.CreateClient(ctx, "demo", realms.NewClient{Client: store.Client{
		ClientID: "spa", Enabled: true, PublicClient: true, StandardFlowEnabled: true, RedirectURIs: []string{spaRedirect},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return &webEnv{env: e, clock: clk, webSecret: secret, web: web, spa: spa}
}

func (e *webEnv) oauthConfig(client string) *oauth2.Config {
	c := &oauth2.Config{
		ClientID: client, RedirectURL: webRedirect, Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{AuthURL: e.endpoint("auth"), TokenURL: e.endpoint("token"), AuthStyle: oauth2.AuthStyleInHeader},
	}
	switch client {
	case "web":
		c.ClientSecret = e.webSecret
	case "consent":
	default:
		c.RedirectURL = spaRedirect
		c.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	return c
}

// browser is a user agent with a cookie jar that does not follow redirects.
type browser struct {
	t testing.TB
	c *http.Client
}

func newBrowser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type page struct {
	status   int
	body     string
	location string
}

func (b *browser) send(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, body: string(body), location: resp.Header.Get("Location")}
}

func (b *browser) get(u string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.send(req)
}

func (b *browser) post(u string, f url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.send(req)
}

var (
	formAction  = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)"`)
)

// submit fills the page's form with fields and posts it.
func (b *browser) submit(base string, p page, fields url.Values) page {
	b.t.Helper()
	m := formAction.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("no form in page (%d): %s", p.status, p.body)
	}
	f := url.Values{}
	for _, h := range hiddenInput.FindAllStringSubmatch(p.body, -1) {
		f.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	for k, v := range fields {
		f[k] = v
	}
	u, _ := url.Parse(base)
	action, _ := u.Parse(html.UnescapeString(m[1]))
	return b.post(action.String(), f)
}

func (b *browser) login(base string, p page, username, password string) page {
	b.t.Helper()
	return b.submit(base, p, url.Values{"username": {username}, "password": {password}})
}

// redirectParams returns the query of a redirect to want (or fails).
func redirectParams(t testing.TB, p page, want string) url.Values {
	t.Helper()
	if p.status != http.StatusFound || !strings.HasPrefix(p.location, want) {
		t.Fatalf("want redirect to %s, got %d %q %s", want, p.status, p.location, p.body)
	}
	u, _ := url.Parse(p.location)
	return u.Query()
}

func isLoginPage(p page) bool { return strings.Contains(p.body, `id="kc-form-login"`) }

// signIn runs the browser part of the flow for cfg and returns the code.
func (e *webEnv) signIn(b *browser, cfg *oauth2.Config, verifier string, opts ...oauth2.AuthCodeOption) url.Values {
	e.t.Helper()
	p := b.get(cfg.AuthCodeURL("st-1", append(opts, oauth2.S256ChallengeOption(verifier))...))
	if isLoginPage(p) {
		p = b.login(e.base, p, "alice", alicePassword)
	}
	return redirectParams(e.t, p, cfg.RedirectURL)
}

func TestBrowserSignInWithPKCEAndSSOForSecondApp(t *testing.T) {
	e := newWebEnv(t, withRealm(func(r *store.Realm) { r.DisplayName = "Demo Corp" }))
	b := newBrowser(t)
	web := e.oauthConfig("web")
	verifier := oauth2.GenerateVerifier()
	p := b.get(web.AuthCodeURL("st-1", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "n-123")))
	if p.status != 200 || !isLoginPage(p) {
		t.Fatalf("login page: %d %s", p.status, p.body)
	}
	for _, want := range []string{`<html lang="en">`, "Demo Corp", `<label for="username">`, `<label for="password">`, "autofocus", `name="csrf"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	q := redirectParams(t, b.login(e.base, p, "alice", alicePassword), webRedirect)
	if q.Get("state") != "st-1" || q.Get("iss") != e.issuer() || q.Get("code") == "" {
		t.Fatalf("callback params: %v", q)
	}
	tok, err := web.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	idt, _ := tok.Extra("id_token").(string)
	ic := claims(t, idt)
	if ic["nonce"] != "n-123" || ic["aud"] != "web" || ic["sub"] != e.alice.ID || ic["at_hash"] == nil || ic["sid"] != q.Get("session_state") {
		t.Errorf("id token claims: %v", ic)
	}
	if at, _ := ic["auth_time"].(float64); int64(at) != e.clock.now().Unix() && int64(at) != e.clock.now().Unix()-1 {
		t.Errorf("auth_time = %v", ic["auth_time"])
	}
	if r := e.get(e.endpoint("userinfo"), tok.AccessToken); r.status != 200 || r.str("sub") != e.alice.ID {
		t.Fatalf("userinfo: %d %s", r.status, r.raw)
	}

	// A second application signs in through the SSO cookie, without a form.
	spa := e.oauthConfig("spa")
	sv := oauth2.GenerateVerifier()
	p = b.get(spa.AuthCodeURL("st-2", oauth2.S256ChallengeOption(sv)))
	q2 := redirectParams(t, p, spaRedirect)
	if q2.Get("session_state") != q.Get("session_state") {
		t.Errorf("second app got another session: %v vs %v", q2, q)
	}
	tok2, err := spa.Exchange(context.Background(), q2.Get("code"), oauth2.VerifierOption(sv))
	if err != nil {
		t.Fatal(err)
	}
	if c := claims(t, tok2.AccessToken); c["azp"] != "spa" || c["sid"] != q.Get("session_state") {
		t.Errorf("spa access token: %v", c)
	}
	// The refresh token works like any other.
	if _, err := spa.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok2.RefreshToken}).Token(); err != nil {
		t.Fatalf("refresh: %v", err)
	}
}

func TestBrowserSignInCookies(t *testing.T) {
	e := newWebEnv(t)
	b := newBrowser(t)
	web := e.oauthConfig("web")
	req, _ := http.NewRequest(http.MethodGet, web.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), nil)
	p := b.send(req)
	resp, err := b.c.Do(mustLoginRequest(t, e, p))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var sso *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "GATEHOUSE_IDENTITY" {
			sso = c
		}
	}
	if sso == nil || !sso.HttpOnly || sso.SameSite != http.SameSiteLaxMode || sso.Path != "/realms/demo/" || sso.Secure {
		t.Fatalf("SSO cookie: %+v", sso)
	}
	// The cookie is not the session ID applications see as sid.
	q := redirectParams(t, page{status: resp.StatusCode, location: resp.Header.Get("Location")}, webRedirect)
	if strings.Contains(sso.Value, q.Get("session_state")) {
		t.Error("SSO cookie carries the bare session ID")
	}
}

// mustLoginRequest builds the login form post for alice from page p.
func mustLoginRequest(t testing.TB, e *webEnv, p page) *http.Request {
	t.Helper()
	f := url.Values{"username": {"alice"}, "password": {alicePassword}}
	for _, h := range hiddenInput.FindAllStringSubmatch(p.body, -1) {
		f.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	action := html.UnescapeString(formAction.FindStringSubmatch(p.body)[1])
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+action, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func TestAuthorizationRedirectURIMatching(t *testing.T) {
	e := newWebEnv(t)
	b := newBrowser(t)
	ch := oauth2.S256ChallengeOption(oauth2.GenerateVerifier())
	for _, tc := range []struct {
		name, redirect string
		ok             bool
	}{
		{"exact", webRedirect, true},
		{"wildcard prefix", "http://wild.example/app/deep/cb?x=1", true},
		{"unregistered", "http://evil.example/callback", false},
		{"registered plus suffix without wildcard", webRedirect + "/more", false},
		{"prefix of a registered URI", "http://web.example/", false},
		{"dot segments out of the wildcard", "http://wild.example/app/../admin", false},
		{"fragment", webRedirect + "#x", false},
		{"other scheme", "https://web.example/callback", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := e.oauthConfig("web")
			cfg.RedirectURL = tc.redirect
			p := b.get(cfg.AuthCodeURL("s", ch))
			if tc.ok {
				if p.status != 200 || !isLoginPage(p) {
					t.Fatalf("want login page, got %d %s", p.status, p.location)
				}
				return
			}
			if p.status != 400 || p.location != "" || !strings.Contains(p.body, "Invalid parameter: redirect_uri") {
				t.Fatalf("want error page without redirect, got %d %q", p.status, p.location)
			}
		})
	}
	// Unknown client: an error page, never a redirect.
	cfg := e.oauthConfig("nobody")
	if p := b.get(cfg.AuthCodeURL("s", ch)); p.status != 400 || p.location != "" || !strings.Contains(p.body, "Client not found.") {
		t.Fatalf("unknown client: %d %q", p.status, p.location)
	}
}

func TestAuthorizationRequestErrorsGoToTheClient(t *testing.T) {
	e := newWebEnv(t)
	b := newBrowser(t)
	for _, tc := range []struct {
		name   string
		client string
		params map[string]string
		err    string
	}{
		{"public client without PKCE", "spa", map[string]string{}, "invalid_request"},
		{"plain PKCE", "spa", map[string]string{"code_challenge": strings.Repeat("a", 43), "code_challenge_method": "plain"}, "invalid_request"},
		{"challenge without method", "web", map[string]string{"code_challenge": strings.Repeat("a", 43)}, "invalid_request"},
		{"implicit flow", "web", map[string]string{"response_type": "token"}, "unsupported_response_type"},
		{"unknown scope", "web", map[string]string{"scope": "openid nope"}, "invalid_scope"},
		{"bad max_age", "web", map[string]string{"max_age": "-1"}, "invalid_request"},
		{"prompt=none without session", "web", map[string]string{"prompt": "none"}, "login_required"},
		{"consent required", "consent", map[string]string{}, "unauthorized_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := e.oauthConfig(tc.client)
			var opts []oauth2.AuthCodeOption
			for k, v := range tc.params {
				opts = append(opts, oauth2.SetAuthURLParam(k, v))
			}
			q := redirectParams(t, b.get(cfg.AuthCodeURL("st-e", opts...)), cfg.RedirectURL)
			if q.Get("error") != tc.err || q.Get("state") != "st-e" || q.Get("code") != "" {
				t.Fatalf("callback %v, want error %s", q, tc.err)
			}
		})
	}
}

func TestAuthorizationResponseModes(t *testing.T) {
	e := newWebEnv(t)
	web := e.oauthConfig("web")
	b := newBrowser(t)
	// The request may also come as a form POST.
	u, _ := url.Parse(web.AuthCodeURL("st-post", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if p := b.post(e.endpoint("auth"), u.Query()); p.status != 200 || !isLoginPage(p) {
		t.Fatalf("POST authorization request: %d %q", p.status, p.location)
	}
	e.signIn(b, web, oauth2.GenerateVerifier())
	p := b.get(web.AuthCodeURL("st-f", oauth2.SetAuthURLParam("response_mode", "fragment")))
	u, _ = url.Parse(p.location)
	frag, _ := url.ParseQuery(u.Fragment)
	if p.status != 302 || u.RawQuery != "" || frag.Get("code") == "" || frag.Get("state") != "st-f" {
		t.Fatalf("fragment mode: %d %q", p.status, p.location)
	}
	p = b.get(web.AuthCodeURL("st-p", oauth2.SetAuthURLParam("response_mode", "form_post")))
	if p.status != 200 || !strings.Contains(p.body, `action="`+webRedirect+`"`) || !strings.Contains(p.body, `name="code"`) || !strings.Contains(p.body, `value="st-p"`) {
		t.Fatalf("form_post mode: %d %s", p.status, p.body)
	}
}

// exchange posts an authorization_code token request for the web client.
func (e *webEnv) exchange(code, redirect, verifier string) response {
	e.t.Helper()
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
	if verifier != "" {
		f.Set("code_verifier", verifier)
	}
	return e.post("token", f, "web", e.webSecret)
}

func TestAuthorizationCodeBindingAndPKCEFailures(t *testing.T) {
	e := newWebEnv(t)
	web := e.oauthConfig("web")
	for _, tc := range []struct {
		name               string
		redirect, verifier string
		client             string
		desc               string
	}{
		{"wrong verifier", webRedirect, oauth2.GenerateVerifier(), "web", "PKCE verification failed: Code mismatch"},
		{"missing verifier", webRedirect, "", "web", "PKCE code verifier not specified"},
		{"malformed verifier", webRedirect, "short", "web", "PKCE verification failed: Invalid code verifier"},
		{"other redirect URI", "http://wild.example/app/x", "right", "web", "Incorrect redirect_uri"},
		{"other client", webRedirect, "right", "spa", "Auth error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			verifier := oauth2.GenerateVerifier()
			q := e.signIn(newBrowser(t), web, verifier)
			v := tc.verifier
			if v == "right" {
				v = verifier
			}
			f := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {tc.redirect}, "code_verifier": {v}}
			if v == "" {
				f.Del("code_verifier")
			}
			user, pass := "web", e.webSecret
			if tc.client == "spa" {
				user, pass = "", ""
				f.Set("client_id", "spa")
			}
			r := e.post("token", f, user, pass)
			if r.status != 400 || r.str("error") != "invalid_grant" || r.str("error_description") != tc.desc {
				t.Fatalf("got %d %s, want invalid_grant %q", r.status, r.raw, tc.desc)
			}
			// The failed attempt spent the code.
			if r := e.exchange(q.Get("code"), webRedirect, verifier); r.str("error_description") != "Code not valid" {
				t.Fatalf("code after failed attempt: %d %s", r.status, r.raw)
			}
		})
	}
	t.Run("expired code", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		q := e.signIn(newBrowser(t), web, verifier)
		e.clock.advance(realms.AuthCodeLifespan + time.Second)
		if r := e.exchange(q.Get("code"), webRedirect, verifier); r.status != 400 || r.str("error_description") != "Code is expired" {
			t.Fatalf("expired code: %d %s", r.status, r.raw)
		}
	})
	t.Run("confidential client needs its secret", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		q := e.signIn(newBrowser(t), web, verifier)
		f := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {webRedirect}, "code_verifier": {verifier}}
		if r := e.post("token", f, "web", "wrong"); r.status != 401 {
			t.Fatalf("wrong secret: %d %s", r.status, r.raw)
		}
	})
}

func TestAuthorizationCodeReuseRevokesTokens(t *testing.T) {
	e := newWebEnv(t)
	web := e.oauthConfig("web")
	verifier := oauth2.GenerateVerifier()
	q := e.signIn(newBrowser(t), web, verifier)
	first := e.exchange(q.Get("code"), webRedirect, verifier)
	if first.status != 200 {
		t.Fatal(first.raw)
	}
	if r := e.get(e.endpoint("userinfo"), first.str("access_token")); r.status != 200 {
		t.Fatalf("userinfo before reuse: %d", r.status)
	}
	second := e.exchange(q.Get("code"), webRedirect, verifier)
	if second.status != 400 || second.str("error") != "invalid_grant" || second.str("error_description") != "Code not valid" {
		t.Fatalf("second use: %d %s", second.status, second.raw)
	}
	if r := e.get(e.endpoint("userinfo"), first.str("access_token")); r.status != 401 {
		t.Errorf("access token of the first use still works: %d", r.status)
	}
	r := e.post("token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.str("refresh_token")}}, "web", e.webSecret)
	if r.status != 400 || r.str("error") != "invalid_grant" {
		t.Errorf("refresh token of the first use still works: %d %s", r.status, r.raw)
	}
}

func TestPromptAndMaxAge(t *testing.T) {
	e := newWebEnv(t)
	web := e.oauthConfig("web")
	b := newBrowser(t)
	e.signIn(b, web, oauth2.GenerateVerifier())
	ch := oauth2.S256ChallengeOption(oauth2.GenerateVerifier())
	if q := redirectParams(t, b.get(web.AuthCodeURL("s", ch, oauth2.SetAuthURLParam("prompt", "none"))), webRedirect); q.Get("code") == "" {
		t.Fatalf("prompt=none with a session: %v", q)
	}
	if p := b.get(web.AuthCodeURL("s", ch, oauth2.SetAuthURLParam("prompt", "login"))); !isLoginPage(p) {
		t.Fatalf("prompt=login with a session: %d %q", p.status, p.location)
	}
	e.clock.advance(2 * time.Minute)
	if p := b.get(web.AuthCodeURL("s", ch, oauth2.SetAuthURLParam("max_age", "60"))); !isLoginPage(p) {
		t.Fatalf("max_age exceeded: %d %q", p.status, p.location)
	}
	if q := redirectParams(t, b.get(web.AuthCodeURL("s", ch, oauth2.SetAuthURLParam("max_age", "600"))), webRedirect); q.Get("code") == "" {
		t.Fatalf("max_age not exceeded: %v", q)
	}
	q := redirectParams(t, b.get(web.AuthCodeURL("s", ch, oauth2.SetAuthURLParam("max_age", "60"), oauth2.SetAuthURLParam("prompt", "none"))), webRedirect)
	if q.Get("error") != "login_required" {
		t.Fatalf("prompt=none with max_age exceeded: %v", q)
	}
	// Signing in again under prompt=login renews auth_time.
	verifier := oauth2.GenerateVerifier()
	p := b.get(web.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("login_hint", "alice")))
	if !strings.Contains(p.body, `value="alice"`) {
		t.Errorf("login_hint not prefilled")
	}
	q = redirectParams(t, b.login(e.base, p, "alice", alicePassword), webRedirect)
	tok := e.exchange(q.Get("code"), webRedirect, verifier)
	if at, _ := claims(t, tok.str("id_token"))["auth_time"].(float64); e.clock.now().Unix()-int64(at) > 1 {
		t.Errorf("auth_time %v not renewed", at)
	}
}

func TestLoginFormCSRF(t *testing.T) {
	e := newWebEnv(t)
	web := e.oauthConfig("web")
	b := newBrowser(t)
	p := b.get(web.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	for name, fields := range map[string]url.Values{
		"wrong token": {"csrf": {"forged"}},
		"no token":    {"csrf": {""}},
	} {
		t.Run(name, func(t *testing.T) {
			f := url.Values{"username": {"alice"}, "password": {alicePassword}}
			for k, v := range fields {
				f[k] = v
			}
			r := b.submit(e.base, p, f)
			if r.status != 400 || r.location != "" || !strings.Contains(r.body, "Your login attempt timed out. Login will start from the beginning.") {
				t.Fatalf("got %d %q", r.status, r.location)
			}
		})
	}
	// A form from another browser (another login cookie) is refused too.
	other := newBrowser(t)
	r := other.submit(e.base, p, url.Values{"username": {"alice"}, "password": {alicePassword}})
	if r.status != 400 || r.location != "" {
		t.Fatalf("form posted from another browser: %d %q", r.status, r.location)
	}
}

func TestLoginErrorsUseKeycloakWording(t *testing.T) {
	e := newWebEnv(t)
	ctx := context.Background()
	if _, err := e.svc.CreateUser(ctx, "demo", realms.NewUser{User: store.User{Username: "bob", Enabled: false}, Password: "bob-Secret-1"}); err != nil {
		t.Fatal(err)
	}
	web := e.oauthConfig("web")
	for _, tc := range []struct{ user, pass, msg string }{
		{"alice", "wrong", "Invalid username or password."},
		{"nobody", "wrong", "Invalid username or password."},
		{"bob", "bob-Secret-1", "Account is disabled, contact your administrator."},
	} {
		b := newBrowser(t)
		p := b.login(e.base, b.get(web.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))), tc.user, tc.pass)
		if p.status != 401 || !strings.Contains(p.body, tc.msg) || !strings.Contains(p.body, `role="alert"`) || !isLoginPage(p) {
			t.Errorf("%s: %d, want page with %q: %s", tc.user, p.status, tc.msg, p.body)
		}
	}
}

func TestBruteForceLockoutSharedWithPasswordGrant(t *testing.T) {
	e := newWebEnv(t, withRealm(func(r *store.Realm) {
		r.BruteForce = store.BruteForcePolicy{Protected: true, FailureFactor: 2, WaitIncrementSeconds: 60, MaxFailureWaitSeconds: 900, MaxDeltaTimeSeconds: 43200}
	}))
	web := e.oauthConfig("web")
	// Two failures on the login page ...
	for range 2 {
		b := newBrowser(t)
		b.login(e.base, b.get(web.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))), "alice", "wrong")
	}
	// ... lock the password grant ...
	r := e.post("token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {alicePassword}}, "app", e.secret)
	if r.status != 400 || r.str("error_description") != "Invalid user credentials" {
		t.Fatalf("password grant after browser failures: %d %s", r.status, r.raw)
	}
	// ... and the login page, even with the right password.
	b := newBrowser(t)
	p := b.login(e.base, b.get(web.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))), "alice", alicePassword)
	if p.status != 401 || !strings.Contains(p.body, "Invalid username or password.") {
		t.Fatalf("locked login: %d %s", p.status, p.location)
	}
}

func TestTemporaryPasswordMustBeUpdatedAtLogin(t *testing.T) {
	e := newWebEnv(t)
	if err := e.svc.SetPassword(context.Background(), "demo", e.alice.ID, "temp-Secret-1", true); err != nil {
		t.Fatal(err)
	}
	web := e.oauthConfig("web")
	b := newBrowser(t)
	verifier := oauth2.GenerateVerifier()
	p := b.login(e.base, b.get(web.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier))), "alice", "temp-Secret-1")
	if p.status != 200 || !strings.Contains(p.body, `id="kc-passwd-update-form"`) || !strings.Contains(p.body, `<label for="password-new">`) {
		t.Fatalf("want update-password form, got %d %s", p.status, p.body)
	}
	bad := b.submit(e.base, p, url.Values{"password-new": {"new-Secret-1"}, "password-confirm": {"other"}})
	if bad.status != 400 || !strings.Contains(bad.body, "Passwords don&#39;t match.") {
		t.Fatalf("mismatch: %d %s", bad.status, bad.body)
	}
	// The pending step cannot be replayed from another browser.
	if r := newBrowser(t).submit(e.base, bad, url.Values{"password-new": {"x-Secret-9"}, "password-confirm": {"x-Secret-9"}}); r.status != 400 || r.location != "" {
		t.Fatalf("update from another browser: %d %q", r.status, r.location)
	}
	q := redirectParams(t, b.submit(e.base, bad, url.Values{"password-new": {"new-Secret-1"}, "password-confirm": {"new-Secret-1"}}), webRedirect)
	if r := e.exchange(q.Get("code"), webRedirect, verifier); r.status != 200 {
		t.Fatalf("exchange after update: %d %s", r.status, r.raw)
	}
	// The new password is permanent for every login path.
	r := e.post("token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"new-Secret-1"}}, "app", e.secret)
	if r.status != 200 {
		t.Fatalf("password grant with the new password: %d %s", r.status, r.raw)
	}
}

func TestRPInitiatedLogout(t *testing.T) {
	e := newWebEnv(t)
	web := e.oauthConfig("web")
	b := newBrowser(t)
	verifier := oauth2.GenerateVerifier()
	q := e.signIn(b, web, verifier)
	tok := e.exchange(q.Get("code"), webRedirect, verifier)
	idt := tok.str("id_token")
	logout := func(params url.Values) page { return b.get(e.endpoint("logout") + "?" + params.Encode()) }

	for _, tc := range []struct {
		name   string
		params url.Values
		msg    string
	}{
		{"unregistered post-logout URI", url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {"http://evil.example/"}}, "Invalid redirect uri"},
		{"post-logout URI without client", url.Values{"post_logout_redirect_uri": {"http://web.example/bye"}}, "Either the parameter client_id or the parameter id_token_hint is required"},
		{"forged hint", url.Values{"id_token_hint": {idt[:len(idt)-4] + "AAAA"}}, "Invalid parameter: id_token_hint"},
		{"access token as hint", url.Values{"id_token_hint": {tok.str("access_token")}}, "Invalid parameter: id_token_hint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p := logout(tc.params); p.status != 400 || p.location != "" || !strings.Contains(p.body, tc.msg) {
				t.Fatalf("got %d %q %s", p.status, p.location, p.body)
			}
		})
	}
	// Refused logouts ended nothing.
	if r := e.get(e.endpoint("userinfo"), tok.str("access_token")); r.status != 200 {
		t.Fatalf("session ended by a refused logout: %d", r.status)
	}
	p := logout(url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {"http://web.example/bye"}, "state": {"bye-1"}})
	if bq := redirectParams(t, p, "http://web.example/bye"); bq.Get("state") != "bye-1" {
		t.Fatalf("logout redirect: %q", p.location)
	}
	if r := e.get(e.endpoint("userinfo"), tok.str("access_token")); r.status != 401 {
		t.Errorf("access token after logout: %d", r.status)
	}
	r := e.post("token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}}, "web", e.webSecret)
	if r.status != 400 {
		t.Errorf("refresh after logout: %d %s", r.status, r.raw)
	}
	q = redirectParams(t, b.get(web.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none"))), webRedirect)
	if q.Get("error") != "login_required" {
		t.Errorf("prompt=none after logout: %v", q)
	}
	// Without id_token_hint the user confirms first, so a link elsewhere
	// cannot sign them out; "+" admits the redirect URIs.
	b2 := newBrowser(t)
	q = e.signIn(b2, web, verifier)
	tok2 := e.exchange(q.Get("code"), webRedirect, verifier)
	p = b2.get(e.endpoint("logout") + "?" + url.Values{"client_id": {"web"}, "post_logout_redirect_uri": {webRedirect}, "state": {"s2"}}.Encode())
	if p.status != 200 || !strings.Contains(p.body, "Do you want to log out?") {
		t.Fatalf("logout without hint: %d %q", p.status, p.location)
	}
	if r := e.get(e.endpoint("userinfo"), tok2.str("access_token")); r.status != 200 {
		t.Fatalf("session ended before confirmation: %d", r.status)
	}
	// The form posted by another browser (a forged confirmation) ends
	// nothing of this browser's.
	newBrowser(t).submit(e.base, p, nil)
	if r := e.get(e.endpoint("userinfo"), tok2.str("access_token")); r.status != 200 {
		t.Fatalf("session ended by another browser's confirmation: %d", r.status)
	}
	// The same browser posting a forged token is asked again.
	if r := b2.submit(e.base, p, url.Values{"csrf": {"forged"}}); r.status != 200 || !strings.Contains(r.body, "Do you want to log out?") {
		t.Fatalf("forged confirmation: %d %q", r.status, r.location)
	}
	p = b2.get(e.endpoint("logout") + "?" + url.Values{"client_id": {"web"}, "post_logout_redirect_uri": {webRedirect}, "state": {"s2"}}.Encode())
	if bq := redirectParams(t, b2.submit(e.base, p, nil), webRedirect); bq.Get("state") != "s2" {
		t.Fatalf("confirmed logout: %v", bq)
	}
	if r := e.get(e.endpoint("userinfo"), tok2.str("access_token")); r.status != 401 {
		t.Errorf("access token after confirmed logout: %d", r.status)
	}
}

func TestDiscoveryListsBrowserFlow(t *testing.T) {
	e := newEnv(t)
	d := e.get(e.issuer()+"/.well-known/openid-configuration", "")
	if d.str("authorization_endpoint") != e.endpoint("auth") || d.str("end_session_endpoint") != e.endpoint("logout") ||
		d.str("device_authorization_endpoint") != e.endpoint("auth/device") {
		t.Errorf("endpoints: %s", d.raw)
	}
	for k, want := range map[string]string{
		"response_types_supported":         "code",
		"response_modes_supported":         "query fragment form_post",
		"code_challenge_methods_supported": "S256",
	} {
		var got []string
		for _, v := range d.body[k].([]any) {
			got = append(got, v.(string))
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%s = %v, want %s", k, got, want)
		}
	}
	grants := map[any]bool{}
	for _, g := range d.body["grant_types_supported"].([]any) {
		grants[g] = true
	}
	if !grants["authorization_code"] || !grants["urn:ietf:params:oauth:grant-type:device_code"] {
		t.Errorf("grant_types_supported = %v", d.body["grant_types_supported"])
	}
}

// A realm's SSO cookie and codes mean nothing in another realm, even when a
// client there has the same clientId and redirect URI.
func TestBrowserSessionAndCodesStayInTheirRealm(t *testing.T) {
	e := newWebEnv(t)
	ctx := context.Background()
	if _, err := e.svc.CreateRealm(ctx, store.Realm{Name: "other", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.CreateClient(ctx, "other", realms.NewClient{Client: store.Client{
		ClientID: "web", Enabled: true, StandardFlowEnabled: true, RedirectURIs: []string{webRedirect},
	}, Secret: e.webSecret}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	verifier := oauth2.GenerateVerifier()
	q := e.signIn(b, e.oauthConfig("web"), verifier)
	other := e.oauthConfig("web")
	other.Endpoint.AuthURL = e.base + "/realms/other/protocol/openid-connect/auth"
	other.Endpoint.TokenURL = e.base + "/realms/other/protocol/openid-connect/token"
	// demo's code at other's token endpoint.
	if _, err := other.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); err == nil {
		t.Fatal("demo's code redeemed in realm other")
	}
	// demo's SSO cookie, sent to other's authorization endpoint on purpose
	// (the browser would not: its path is /realms/demo/).
	u, _ := url.Parse(e.issuer() + "/")
	var sso *http.Cookie
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "GATEHOUSE_IDENTITY" {
			sso = c
		}
	}
	if sso == nil {
		t.Fatal("no SSO cookie")
	}
	req, _ := http.NewRequest(http.MethodGet, other.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none")), nil)
	req.AddCookie(&http.Cookie{Name: sso.Name, Value: sso.Value})
	if q := redirectParams(t, newBrowser(t).send(req), webRedirect); q.Get("error") != "login_required" {
		t.Fatalf("demo's SSO cookie at realm other: %v", q)
	}
}

// The SSO session goes idle after the realm's idle timeout without
// activity; a silent sign-in through it is activity.
func TestSSOSessionIdleTimeout(t *testing.T) {
	e := newWebEnv(t)
	web := e.oauthConfig("web")
	b := newBrowser(t)
	e.signIn(b, web, oauth2.GenerateVerifier())
	ch := oauth2.S256ChallengeOption(oauth2.GenerateVerifier())
	idle := time.Duration(realms.DefaultSSOSessionIdleTimeout) * time.Second
	e.clock.advance(idle * 2 / 3)
	redirectParams(t, b.get(web.AuthCodeURL("s", ch)), webRedirect)
	e.clock.advance(idle * 2 / 3)
	if q := redirectParams(t, b.get(web.AuthCodeURL("s", ch)), webRedirect); q.Get("code") == "" {
		t.Fatalf("active session went idle: %v", q)
	}
	e.clock.advance(idle + time.Second)
	if p := b.get(web.AuthCodeURL("s", ch)); !isLoginPage(p) {
		t.Fatalf("idle session still signs in: %d %q", p.status, p.location)
	}
}
