package oidc_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/internal/metrics/prom"
	"github.com/gatehouse/gatehouse/store"
)

func slogText(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// requestLine is the first access-log line of a request to path in log.
func requestLine(t *testing.T, log string, path string) string {
	t.Helper()
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "msg=request") && strings.Contains(l, "path="+path) {
			return l
		}
	}
	t.Fatalf("no request line for %s in:\n%s", path, log)
	return ""
}

// Every refused token request is logged with its OAuth error code and a
// reason that tells causes apart which the wire answer deliberately
// conflates, and never with the password or secret sent.
func TestTokenErrorsAreLoggedWithCodeAndReason(t *testing.T) {
	const wrongPassword = "Not-Alices-Password-9"
	for _, tc := range []struct {
		name       string
		prepare    func(e *env)
		form       url.Values
		user, pass string // client credentials; "" = the app's
		wantStatus int
		wantError  string
		wantReason string
	}{
		{name: "wrong password", wantStatus: 401, wantError: "invalid_grant", wantReason: `reason="wrong password"`,
			form: url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {wrongPassword}}},
		{name: "unknown user", wantStatus: 400, wantError: "invalid_grant", wantReason: `reason="unknown user"`,
			form: url.Values{"grant_type": {"password"}, "username": {"mallory"}, "password": {wrongPassword}}},
		{name: "locked user", wantStatus: 400, wantError: "invalid_grant", wantReason: `reason="user locked by brute-force detection"`,
			prepare: func(e *env) {
				if r := e.post("token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {wrongPassword}}, "app", e.secret); r.status != 401 {
					e.t.Fatalf("first wrong password: %d %s", r.status, r.raw)
				}
			},
			form: url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {wrongPassword}}},
		{name: "wrong client secret", user: "app", pass: "wrong-" + wrongPassword, wantStatus: 401, wantError: "unauthorized_client",
			wantReason: `reason="wrong client secret"`, form: url.Values{"grant_type": {"client_credentials"}}},
		{name: "client disabled", wantStatus: 401, wantError: "invalid_client", wantReason: `reason="client disabled"`,
			prepare: func(e *env) {
				if _, err := e.svc.UpdateClient(t.Context(), "demo", e.app.ID, func(c *store.Client) error { c.Enabled = false; return nil }); err != nil {
					e.t.Fatal(err)
				}
			},
			form: url.Values{"grant_type": {"client_credentials"}}},
		{name: "unsupported grant", wantStatus: 400, wantError: "unsupported_grant_type", wantReason: `reason="unsupported grant type"`,
			form: url.Values{"grant_type": {"implicit"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuffer
			e := newEnv(t, withLogger(slogText(&logs)), withRealm(func(r *store.Realm) {
				r.BruteForce = store.BruteForcePolicy{Protected: true, FailureFactor: 1, WaitIncrementSeconds: 60,
					MaxFailureWaitSeconds: 60, MaxDeltaTimeSeconds: 3600}
			}))
			if tc.prepare != nil {
				tc.prepare(e)
			}
			user, pass := tc.user, tc.pass
			if user == "" {
				user, pass = "app", e.secret
			}
			before := len(logs.String())
			r := e.post("token", tc.form, user, pass)
			if r.status != tc.wantStatus || r.str("error") != tc.wantError {
				t.Fatalf("answer %d %s, want %d %s", r.status, r.raw, tc.wantStatus, tc.wantError)
			}
			line := requestLine(t, logs.String()[before:], "/realms/demo/protocol/openid-connect/token")
			if !strings.Contains(line, "error="+tc.wantError) || !strings.Contains(line, tc.wantReason) {
				t.Errorf("log line lacks error=%s %s:\n%s", tc.wantError, tc.wantReason, line)
			}
			for _, secret := range []string{wrongPassword, alicePassword, e.secret} {
				if strings.Contains(logs.String(), secret) {
					t.Errorf("the log carries a password or secret:\n%s", logs.String())
				}
			}
		})
	}
}

// /metrics counts requests by route template, realm, grant and status,
// tokens by grant, login failures and lockouts, refresh reuse, store commits
// and cache lookups, after real requests.
func TestMetricsCountRequestsTokensAndLoginFailures(t *testing.T) {
	m := prom.New(0)
	e := newEnv(t, withMetrics(m), withRealm(func(r *store.Realm) {
		r.BruteForce = store.BruteForcePolicy{Protected: true, FailureFactor: 2, WaitIncrementSeconds: 60,
			MaxFailureWaitSeconds: 60, MaxDeltaTimeSeconds: 3600}
	}))
	for range 3 {
		if r := e.post("token", url.Values{"grant_type": {"client_credentials"}}, "app", e.secret); r.status != 200 {
			t.Fatalf("client_credentials: %d %s", r.status, r.raw)
		}
	}
	login := e.passwordLogin(nil)
	at := login.str("access_token")
	for range 2 { // a rotation, then the reuse of the rotated-out token
		e.post("token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {login.str("refresh_token")}}, "app", e.secret)
	}
	for range 2 {
		e.post("token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"wrong"}}, "app", e.secret)
	}
	for range 2 {
		if r := e.post("token/introspect", url.Values{"token": {at}}, "app", e.secret); r.status != 200 {
			t.Fatalf("introspect: %d %s", r.status, r.raw)
		}
	}
	e.post("token", url.Values{"grant_type": {"client_credentials"}}, "nobody", "x")

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	const token = `route="/realms/{realm}/protocol/openid-connect/token"`
	for _, want := range []string{
		`gatehouse_http_requests_total{grant="client_credentials",realm="demo",` + token + `,status="200"} 3`,
		`gatehouse_http_requests_total{grant="password",realm="demo",` + token + `,status="200"} 1`,
		`gatehouse_http_requests_total{grant="password",realm="demo",` + token + `,status="401"} 2`,
		`gatehouse_http_requests_total{grant="client_credentials",realm="demo",` + token + `,status="401"} 1`,
		`gatehouse_http_requests_total{grant="",realm="demo",route="/realms/{realm}/protocol/openid-connect/token/introspect",status="200"} 2`,
		`gatehouse_http_request_duration_seconds_count{grant="client_credentials",` + token + `} 4`,
		`gatehouse_tokens_issued_total{grant="client_credentials",realm="demo"} 3`,
		`gatehouse_tokens_issued_total{grant="password",realm="demo"} 1`,
		`gatehouse_login_failures_total{realm="demo",reason="bad_password"} 2`,
		`gatehouse_login_lockouts_total{realm="demo"} 1`,
		`gatehouse_refresh_token_reuse_total{realm="demo"} 1`,
		`gatehouse_tokens_issued_total{grant="refresh_token",realm="demo"} 1`,
		`gatehouse_http_requests_total{grant="refresh_token",realm="demo",` + token + `,status="400"} 1`,
		`gatehouse_cache_lookups_total{cache="verified_token",result="hit"} 1`,
		`gatehouse_cache_lookups_total{cache="verified_token",result="miss"} 1`,
		`gatehouse_cache_lookups_total{cache="realm",result="hit"}`,
		`gatehouse_store_commit_duration_seconds_count`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(string(body), "/realms/demo/") {
		t.Errorf("a raw path became a route label")
	}
}

// Knox tokens count as issued tokens of grant "knox", and their route is
// the gateway's template.
func TestMetricsCountKnoxTokens(t *testing.T) {
	m := prom.New(0)
	e := newEnv(t, withMetrics(m))
	e.putTopology(store.Topology{Name: "authtkn", Realm: "demo", Authentication: "basic", TTL: "PT1H", Audiences: []string{"cde"}})
	if r := e.knox(http.MethodGet, e.gateway("authtkn", "token"), "alice", alicePassword, "", ""); r.status != 200 {
		t.Fatalf("knox token: %d %s", r.status, r.raw)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	if !strings.Contains(body, `gatehouse_tokens_issued_total{grant="knox",realm="demo"} 1`) {
		t.Errorf("/metrics lacks the Knox token:\n%s", body)
	}
	if strings.Contains(body, "/authtkn/") {
		t.Errorf("a topology name became a route label")
	}
}

// Answers written outside the OAuth error path (the router's 404 and 405,
// an unknown realm) are logged with their error and a reason too.
func TestRouterAndRealmErrorsAreLoggedWithReason(t *testing.T) {
	var logs syncBuffer
	e := newEnv(t, withLogger(slogText(&logs)))
	for _, tc := range []struct {
		method, path string
		status       int
		want         string
	}{
		{"GET", "/no/such/route", 404, `reason="no route matches the path"`},
		{"DELETE", "/realms/demo/protocol/openid-connect/certs", 405, `reason="the route does not take this method"`},
		{"GET", "/realms/nowhere/protocol/openid-connect/certs", 404, `error="Realm does not exist" reason="Realm does not exist"`},
	} {
		req, _ := http.NewRequest(tc.method, e.srv.URL+tc.path, nil)
		if r := e.do(req); r.status != tc.status {
			t.Fatalf("%s %s: %d, want %d", tc.method, tc.path, r.status, tc.status)
		}
		if line := requestLine(t, logs.String(), tc.path); !strings.Contains(line, tc.want) {
			t.Errorf("%s %s: log line lacks %s:\n%s", tc.method, tc.path, tc.want, line)
		}
	}
}
