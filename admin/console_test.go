package admin_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/admin"
	"github.com/gatehouse/gatehouse/admin/console"
	"github.com/gatehouse/gatehouse/oidc"
)

// consoleGet fetches path from base with optional headers; no redirects followed.
func consoleGet(t *testing.T, base, path string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

var (
	moduleSrc = regexp.MustCompile(`<script type="module" src="([^"]+)"></script>`)
	styleHref = regexp.MustCompile(`<link rel="stylesheet" href="([^"]+)">`)
	importRe  = regexp.MustCompile(`(?m)^import .* from '\./([a-z0-9]+\.js)';$`)
)

// TestConsoleServedAtKeycloakPath: the console's page and every asset it
// loads (following the ES module imports from app.js) come from the
// binary with their content types and the console's CSP; console routes
// below the path get the page, unknown assets and realms 404, and the
// admin API keeps /admin/realms.
func TestConsoleServedAtKeycloakPath(t *testing.T) {
	e := newEnv(t)
	base := e.srv.URL

	for _, p := range []string{"/admin/master/console/", "/admin/master/console", "/admin/master/console/some/bookmark"} {
		status, h, body := consoleGet(t, base, p)
		if status != 200 || h.Get("Content-Type") != "text/html; charset=utf-8" || h.Get("Content-Security-Policy") != console.CSP {
			t.Fatalf("GET %s: %d %q csp=%q", p, status, h.Get("Content-Type"), h.Get("Content-Security-Policy"))
		}
		if h.Get("Cache-Control") != "no-store" || h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: headers %v", p, h)
		}
		if !strings.Contains(body, `data-realm="master"`) || strings.Contains(body, "<script>") {
			t.Errorf("GET %s: page does not name the realm, or has inline script:\n%s", p, body)
		}
	}
	_, _, page := consoleGet(t, base, "/admin/master/console/")
	m, s := moduleSrc.FindStringSubmatch(page), styleHref.FindStringSubmatch(page)
	if m == nil || s == nil {
		t.Fatalf("page loads no module or stylesheet:\n%s", page)
	}
	if m[1] != "/admin/master/console/assets/app.js" {
		t.Errorf("module at %q", m[1])
	}
	status, h, css := consoleGet(t, base, s[1])
	if status != 200 || h.Get("Content-Type") != "text/css; charset=utf-8" || !strings.Contains(css, ":focus-visible") {
		t.Errorf("GET %s: %d %q", s[1], status, h.Get("Content-Type"))
	}
	// Every module reachable from app.js is served as JavaScript.
	seen := map[string]bool{}
	queue := []string{"app.js"}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		status, h, js := consoleGet(t, base, "/admin/master/console/assets/"+name)
		if status != 200 || h.Get("Content-Type") != "text/javascript; charset=utf-8" || h.Get("Content-Security-Policy") != console.CSP {
			t.Fatalf("GET asset %s: %d %q", name, status, h.Get("Content-Type"))
		}
		if strings.Contains(js, "innerHTML") || strings.Contains(js, "eval(") || strings.Contains(js, "http://") || strings.Contains(js, "https://") {
			t.Errorf("asset %s builds HTML from strings, evaluates code or reaches another origin", name)
		}
		// Revalidation answers 304 without the body.
		if st, _, b := consoleGet(t, base, "/admin/master/console/assets/"+name, "If-None-Match", h.Get("ETag")); st != http.StatusNotModified || b != "" {
			t.Errorf("asset %s revalidated: %d", name, st)
		}
		for _, im := range importRe.FindAllStringSubmatch(js, -1) {
			queue = append(queue, im[1])
		}
	}
	for _, want := range []string{"auth.js", "api.js", "clients.js", "users.js", "realms.js", "more.js", "roles.js", "sha256.js", "ui.js", "dom.js"} {
		if !seen[want] {
			t.Errorf("module %s is not reachable from app.js (reached %v)", want, seen)
		}
	}

	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/admin/master/console/assets/missing.js", 404},
		{"/admin/master/console/assets/index.html", 404},
		{"/admin/nosuchrealm/console/", 404},
		{"/admin/nosuchrealm/console/assets/app.js", 404},
		// The admin API keeps its paths (and asks for a token).
		{"/admin/realms/master", 401},
	} {
		status, h, _ := consoleGet(t, base, tc.path)
		if status != tc.status {
			t.Errorf("GET %s: %d, want %d", tc.path, status, tc.status)
		}
		if strings.Contains(tc.path, "/console") && h.Get("Content-Security-Policy") != console.CSP {
			t.Errorf("GET %s: no CSP on the error", tc.path)
		}
	}
	// Keycloak's /admin/ opens master's console.
	for _, p := range []string{"/admin", "/admin/"} {
		if status, h, _ := consoleGet(t, base, p); status != http.StatusFound || h.Get("Location") != "/admin/master/console/" {
			t.Errorf("GET %s: %d to %q", p, status, h.Get("Location"))
		}
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/admin/master/console/", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST console: %d", res.StatusCode)
	}
}

// TestConsoleUnderRelativePath: behind --http-relative-path the page
// points at its assets, its realm's endpoints and the API below the prefix.
func TestConsoleUnderRelativePath(t *testing.T) {
	// A second server on the same service, mounted below /auth.
	svc := newEnv(t).svc
	srv := oidc.NewServer(oidc.Config{Service: svc, RelativePath: "/auth"})
	admin.Mount(srv, admin.Services{Realms: svc}, nil)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)

	status, _, page := consoleGet(t, hs.URL, "/auth/admin/master/console/")
	if status != 200 || !strings.Contains(page, `data-base="/auth"`) || !strings.Contains(page, `src="/auth/admin/master/console/assets/app.js"`) {
		t.Fatalf("%d\n%s", status, page)
	}
	if status, _, _ := consoleGet(t, hs.URL, "/auth/admin/master/console/assets/app.js"); status != 200 {
		t.Errorf("asset below /auth: %d", status)
	}
	if status, h, _ := consoleGet(t, hs.URL, "/auth/admin/"); status != http.StatusFound || h.Get("Location") != "/auth/admin/master/console/" {
		t.Errorf("GET /auth/admin/: %d to %q", status, h.Get("Location"))
	}
	if status, _, _ := consoleGet(t, hs.URL, "/admin/master/console/"); status != 404 {
		t.Errorf("console outside the relative path: %d", status)
	}
}

// TestConsoleRedirectMatchesSecurityAdminConsole: the address the console
// sends as redirect_uri (and post_logout_redirect_uri) is registered for
// the realm's security-admin-console, and no other realm's console address
// is.
func TestConsoleRedirectMatchesSecurityAdminConsole(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "other", "enabled": true})
	verifier := rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	auth := func(realm, redirect string) (int, string) {
		q := url.Values{"client_id": {"security-admin-console"}, "redirect_uri": {redirect}, "response_type": {"code"},
			"response_mode": {"query"}, "scope": {"openid"}, "state": {"s"}, "nonce": {"n"},
			"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
		status, _, body := consoleGet(t, e.srv.URL, "/realms/"+realm+"/protocol/openid-connect/auth?"+q.Encode())
		return status, body
	}
	for _, tc := range []struct {
		realm, redirect string
		ok              bool
	}{
		{"master", e.srv.URL + "/admin/master/console/", true},
		{"other", e.srv.URL + "/admin/other/console/", true},
		{"other", e.srv.URL + "/admin/master/console/", false},
		{"master", e.srv.URL + "/admin/master/consolex", false},
		{"master", "http://elsewhere.example/admin/master/console/", false},
	} {
		status, body := auth(tc.realm, tc.redirect)
		signIn := status == 200 && strings.Contains(body, `id="kc-form-login"`)
		if signIn != tc.ok {
			t.Errorf("%s %s: %d sign-in page=%v, want %v", tc.realm, tc.redirect, status, signIn, tc.ok)
		}
	}
	// Signing out returns to the console's signed-out page.
	q := url.Values{"client_id": {"security-admin-console"}, "post_logout_redirect_uri": {e.srv.URL + "/admin/master/console/?signed-out"}}
	status, h, body := consoleGet(t, e.srv.URL, "/realms/master/protocol/openid-connect/logout?"+q.Encode())
	if status != http.StatusFound || h.Get("Location") != e.srv.URL+"/admin/master/console/?signed-out" {
		t.Errorf("logout: %d %q %s", status, h.Get("Location"), body)
	}
}
