package main

import (
	"bufio"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse/gatehouse/internal/browsertest"
)

// `config credentials --device`: the CLI prints a URL and a code, the user
// approves in a browser, and the CLI stores the user's tokens.
func TestCLIDeviceLogin(t *testing.T) { runCLIDeviceLogin(t, approveDevice) }

// The same with the approval in headless Chromium: the verification page,
// the login page and the grant question work in a real browser.
func TestCLIDeviceLoginApprovedInChromium(t *testing.T) {
	runCLIDeviceLogin(t, func(t *testing.T, complete, user, password string) {
		t.Helper()
		b := browsertest.New(t)
		b.Run(t,
			chromedp.Navigate(complete),
			browsertest.WaitVisible("#kc-device-form"),
		)
		code, _ := url.Parse(complete)
		if got := b.Value(t, "#device-user-code"); got != code.Query().Get("user_code") {
			t.Errorf("code field holds %q, URL has %q", got, code.Query().Get("user_code"))
		}
		b.Run(t,
			browsertest.Click(`#kc-device-form button[type="submit"]`),
			browsertest.Fill("#username", user),
			browsertest.Fill("#password", password),
			browsertest.Click(`#kc-form-login button[type="submit"]`),
			browsertest.WaitVisible("#kc-oauth"),
			browsertest.WaitText("main", code.Query().Get("user_code")),
			browsertest.Click(`#kc-oauth button[name="accept"]`),
			browsertest.WaitText("h1", "Device Login Successful"),
		)
	})
}

func runCLIDeviceLogin(t *testing.T, approve func(t *testing.T, complete, user, password string)) {
	p := startServe(t, t.TempDir(), []string{"GATEHOUSE_ADMIN_PASSWORD=cli-Admin-1"})
	defer p.stop(t)
	admin := cli{t: t, config: filepath.Join(t.TempDir(), "admin.json")}
	admin.ok("config", "credentials", "--server", p.base, "--realm", "master", "--user", "admin", "--password", "cli-Admin-1")
	admin.ok("create", "realms", "-s", "realm=demo", "-s", "enabled=true")
	admin.ok("create", "clients", "-r", "demo", "-s", "clientId=cli", "-s", "publicClient=true",
		"-s", `attributes."oauth2.device.authorization.grant.enabled"=true`)
	admin.ok("create", "users", "-r", "demo", "-s", "username=alice", "-s", "enabled=true")
	admin.ok("set-password", "-r", "demo", "--username", "alice", "--new-password", "alice-Pass-1")

	c := cli{t: t, config: filepath.Join(t.TempDir(), "config.json")}
	cmd := exec.Command(binPath, "config", "credentials", "--server", p.base, "--realm", "demo", "--client", "cli", "--device")
	cmd.Env = append(cmd.Environ(), "GATEHOUSE_CONFIG="+c.config)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		done <- cmd.Wait()
	}()
	var complete string
	for complete == "" {
		l, ok := <-lines
		if !ok {
			t.Fatal("CLI ended without printing a URL")
		}
		if _, rest, found := strings.Cut(l, "open "); found {
			complete = strings.TrimSpace(rest)
		}
	}
	approve(t, complete, "alice", "alice-Pass-1")
	go func() {
		for range lines {
		}
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("CLI: %v", err)
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("CLI still polling 30 s after approval")
	}
	cfg := c.readConfig()
	if cfg.AccessToken == "" || cfg.RefreshToken == "" || cfg.Realm != "demo" || cfg.ClientID != "cli" {
		t.Fatalf("stored config: %+v", cfg)
	}
	payload, _ := base64URLDecode(strings.Split(cfg.AccessToken, ".")[1])
	if !strings.Contains(string(payload), `"preferred_username":"alice"`) {
		t.Errorf("stored token is not alice's: %s", payload)
	}
}

var (
	deviceFormAction = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
	deviceHidden     = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)"`)
)

// approveDevice plays the user's browser: open the URL (code prefilled),
// submit it, sign in, approve.
func approveDevice(t *testing.T, complete, user, password string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	base, _ := url.Parse(complete)
	get := func(u string) string {
		res, err := b.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return string(body)
	}
	submit := func(page string, fields url.Values) string {
		t.Helper()
		m := deviceFormAction.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no form: %s", page)
		}
		f := url.Values{}
		for _, h := range deviceHidden.FindAllStringSubmatch(page, -1) {
			f.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
		}
		for k, v := range fields {
			f[k] = v
		}
		action, _ := base.Parse(html.UnescapeString(m[1]))
		res, err := b.PostForm(action.String(), f)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return string(body)
	}
	page := get(complete)
	page = submit(page, url.Values{"user_code": {base.Query().Get("user_code")}})
	page = submit(page, url.Values{"username": {user}, "password": {password}})
	page = submit(page, url.Values{"accept": {"yes"}})
	if !strings.Contains(page, "Device Login Successful") {
		t.Fatalf("approval page: %s", page)
	}
}
