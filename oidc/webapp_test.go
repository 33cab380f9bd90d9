package oidc_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// webApp is a sample confidential web application written the way a
// relying party writes one with golang.org/x/oauth2 and go-oidc, and
// nothing from this repository: it discovers the realm, sends the browser
// to the authorization endpoint with state, nonce and a PKCE S256
// challenge, exchanges the code with the verifier and its client secret,
// verifies the ID token (signature against the realm's JWKS, issuer,
// audience, expiry, then the nonce) and keeps its own session. Sign-out is
// RP-initiated logout with id_token_hint, post_logout_redirect_uri and
// state. Every check that fails answers 400 and is recorded in errs, so a
// test sees why an app refused.
//
// Each app names its cookies after its client ID: apps and Gatehouse all
// run on 127.0.0.1 (cookies ignore ports), like apps sharing one domain.
type webApp struct {
	clientID string
	// authParams are extra authorization request parameters (for
	// example response_mode=form_post: the callback reads the form).
	authParams map[string]string
	url        string
	oauth      *oauth2.Config
	ids        *gooidc.IDTokenVerifier
	endSession string

	mu       sync.Mutex
	logins   map[string]pendingLogin // by state
	logouts  map[string]bool         // states of logouts under way
	sessions map[string]appSession   // by session cookie
	errs     []string
}

type pendingLogin struct{ binding, verifier, nonce string }

type appSession struct{ name, username, sid, idToken string }

// newWebApp starts the app and registers it in the env's realm as a
// confidential client with the standard flow, its callback as redirect URI
// and its signed-out page as post-logout redirect URI.
func newWebApp(t testing.TB, e *env, clientID string) *webApp {
	t.Helper()
	a := &webApp{clientID: clientID, logins: map[string]pendingLogin{}, logouts: map[string]bool{}, sessions: map[string]appSession{}}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	a.url = srv.URL
	_, secret, err := e.svc.CreateClient(context.Background(), e.realm, realms.NewClient{Client: store.Client{
		ClientID: clientID, Name: "Sample app " + clientID, Enabled: true, StandardFlowEnabled: true,
		RedirectURIs: []string{a.url + "/callback"},
		Attributes:   map[string]string{realms.AttrPostLogoutRedirectURIs: a.url + "/signed-out"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	provider, err := gooidc.NewProvider(context.Background(), e.issuer())
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := provider.Claims(&meta); err != nil || meta.EndSession == "" {
		t.Fatalf("discovery has no end_session_endpoint: %v", err)
	}
	a.endSession = meta.EndSession
	a.ids = provider.Verifier(&gooidc.Config{ClientID: clientID})
	a.oauth = &oauth2.Config{
		ClientID: clientID, ClientSecret: secret, Endpoint: provider.Endpoint(),
		RedirectURL: a.url + "/callback", Scopes: []string{gooidc.ScopeOpenID, "profile", "email"},
	}
	return a
}

var appPage = template.Must(template.New("app").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.App}}</title></head><body>
<h1>{{.App}}</h1>
{{if .Name}}<p id="user">Signed in as <span id="name">{{.Name}}</span> (<span id="username">{{.Username}}</span>)</p>
<p>SSO session <span id="sid">{{.SID}}</span></p>
<p><a id="sign-out" href="/logout">Sign out</a></p>
{{else}}{{if .SignedOut}}<p id="signed-out">You are signed out.</p>{{end}}
<p><a id="sign-in" href="/login">Sign in</a></p>{{end}}
</body></html>`))

func (a *webApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/":
		s, _ := a.session(r)
		a.render(w, s, false)
	case "/login":
		a.login(w, r)
	case "/callback":
		a.callback(w, r)
	case "/logout":
		a.logout(w, r)
	case "/signed-out":
		state := r.URL.Query().Get("state")
		a.mu.Lock()
		ok := a.logouts[state]
		delete(a.logouts, state)
		a.mu.Unlock()
		if !ok {
			a.fail(w, "signed-out: unknown state %q", state)
			return
		}
		a.render(w, appSession{}, true)
	default:
		http.NotFound(w, r)
	}
}

func (a *webApp) render(w http.ResponseWriter, s appSession, signedOut bool) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = appPage.Execute(w, map[string]any{"App": a.clientID, "Name": s.name, "Username": s.username, "SID": s.sid, "SignedOut": signedOut})
}

func (a *webApp) fail(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	a.mu.Lock()
	a.errs = append(a.errs, msg)
	a.mu.Unlock()
	http.Error(w, a.clientID+": "+msg, http.StatusBadRequest)
}

func (a *webApp) errors() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.errs...)
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (a *webApp) cookie(kind string) string { return a.clientID + "_" + kind }

func (a *webApp) session(r *http.Request) (appSession, string) {
	c, err := r.Cookie(a.cookie("session"))
	if err != nil {
		return appSession{}, ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sessions[c.Value], c.Value
}

// login starts authorization code + PKCE. The state is bound to this
// browser by a cookie, so a code injected from another browser is refused.
func (a *webApp) login(w http.ResponseWriter, r *http.Request) {
	state, binding, nonce, verifier := randomToken(), randomToken(), randomToken(), oauth2.GenerateVerifier()
	a.mu.Lock()
	a.logins[state] = pendingLogin{binding: binding, verifier: verifier, nonce: nonce}
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: a.cookie("login"), Value: binding, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce)}
	for k, v := range a.authParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	http.Redirect(w, r, a.oauth.AuthCodeURL(state, opts...), http.StatusFound)
}

func (a *webApp) callback(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		a.fail(w, "callback: %v", err)
		return
	}
	q := r.Form // the query, or the form of response_mode=form_post
	if a.authParams["response_mode"] == "form_post" && r.Method != http.MethodPost {
		a.fail(w, "callback: form_post asked, the answer came by %s", r.Method)
		return
	}
	if e := q.Get("error"); e != "" {
		a.fail(w, "callback: %s: %s", e, q.Get("error_description"))
		return
	}
	a.mu.Lock()
	p, ok := a.logins[q.Get("state")]
	delete(a.logins, q.Get("state"))
	a.mu.Unlock()
	if c, err := r.Cookie(a.cookie("login")); !ok || err != nil || c.Value != p.binding {
		a.fail(w, "callback: state %q not started in this browser", q.Get("state"))
		return
	}
	ctx := r.Context()
	tok, err := a.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		a.fail(w, "exchange: %v", err)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := a.ids.Verify(ctx, raw)
	if err != nil {
		a.fail(w, "id token: %v", err)
		return
	}
	if idt.Nonce != p.nonce {
		a.fail(w, "id token: nonce %q, sent %q", idt.Nonce, p.nonce)
		return
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		a.fail(w, "id token at_hash: %v", err)
		return
	}
	var c struct {
		Name              string `json:"name"`
		PreferredUsername string `json:"preferred_username"`
		SID               string `json:"sid"`
	}
	if err := idt.Claims(&c); err != nil {
		a.fail(w, "id token claims: %v", err)
		return
	}
	id := randomToken()
	a.mu.Lock()
	a.sessions[id] = appSession{name: c.Name, username: c.PreferredUsername, sid: c.SID, idToken: raw}
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: a.cookie("session"), Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusFound)
}

// logout ends the app's session and then the SSO session through the
// end_session_endpoint, which comes back to /signed-out with the state.
func (a *webApp) logout(w http.ResponseWriter, r *http.Request) {
	s, id := a.session(r)
	if id == "" || s.idToken == "" {
		http.Redirect(w, r, "/", http.StatusFound)
		return
	}
	state := randomToken()
	a.mu.Lock()
	delete(a.sessions, id)
	a.logouts[state] = true
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: a.cookie("session"), Value: "", Path: "/", MaxAge: -1})
	u := a.endSession + "?" + url.Values{
		"id_token_hint": {s.idToken}, "post_logout_redirect_uri": {a.url + "/signed-out"}, "state": {state},
	}.Encode()
	http.Redirect(w, r, u, http.StatusFound)
}

// followingBrowser is a user agent without JavaScript: a cookie jar and a
// client that follows redirects, as a browser does for 302s.
func followingBrowser(t testing.TB) *browser {
	b := newBrowser(t)
	b.c.CheckRedirect = nil
	return b
}

// TestSampleWebAppSignInSSOAndLogoutOverHTTP runs the sample app's whole
// life over plain HTTP (no browser needed): sign in on the login page, a
// second app signs in through SSO without a prompt, RP-initiated logout
// returns to the app, and the next sign-in prompts again.
func TestSampleWebAppSignInSSOAndLogoutOverHTTP(t *testing.T) {
	e := newEnv(t)
	app1, app2 := newWebApp(t, e, "shop"), newWebApp(t, e, "wiki")
	b := followingBrowser(t)
	signedInAs := func(p page) string {
		t.Helper()
		if p.status != 200 || !strings.Contains(p.body, `id="user"`) {
			t.Fatalf("not signed in: %d %s (app errors %v %v)", p.status, p.body, app1.errors(), app2.errors())
		}
		return p.body
	}
	if p := b.get(app1.url + "/"); !strings.Contains(p.body, `id="sign-in"`) {
		t.Fatalf("app home: %d %s", p.status, p.body)
	}
	p := b.get(app1.url + "/login")
	if p.status != 200 || !isLoginPage(p) {
		t.Fatalf("want the login page, got %d %s", p.status, p.body)
	}
	home := signedInAs(b.login(e.base, p, "alice", alicePassword))
	if !strings.Contains(home, `<span id="name">Alice Liddell</span>`) || !strings.Contains(home, `<span id="username">alice</span>`) {
		t.Errorf("app shows %s", home)
	}
	sid := between(home, `<span id="sid">`, `</span>`)

	p = b.get(app2.url + "/login")
	if isLoginPage(p) {
		t.Fatal("second app prompted although the SSO session is live")
	}
	if got := between(signedInAs(p), `<span id="sid">`, `</span>`); got == "" || got != sid {
		t.Errorf("second app's SSO session %q, first %q", got, sid)
	}

	p = b.get(app1.url + "/logout")
	if p.status != 200 || !strings.Contains(p.body, `id="signed-out"`) {
		t.Fatalf("logout did not come back to the app: %d %s (app errors %v)", p.status, p.body, app1.errors())
	}
	if p := b.get(app1.url + "/login"); !isLoginPage(p) {
		t.Fatalf("sign-in after logout did not prompt: %d %s", p.status, p.body)
	}
	if errs := append(app1.errors(), app2.errors()...); len(errs) > 0 {
		t.Errorf("apps refused: %v", errs)
	}
}

// between returns the text of s between the first before and the next
// after ("" when absent).
func between(s, before, after string) string {
	_, rest, ok := strings.Cut(s, before)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, after)
	return v
}
