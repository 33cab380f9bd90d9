package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var binPath string

// TestMain builds the real binary once; the tests below run it as an
// operator would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatehouse-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "gatehouse")
	// Every server the tests start gets a management listener on a port of
	// its own, not Keycloak's 9000 that parallel tests would share.
	os.Setenv("GATEHOUSE_MANAGEMENT_ADDR", "127.0.0.1:0")
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running gatehouse serve.
type proc struct {
	cmd    *exec.Cmd
	base   string
	mu     sync.Mutex
	stdout bytes.Buffer
	stderr bytes.Buffer
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startServe(t *testing.T, dataDir string, env []string, args ...string) *proc {
	t.Helper()
	addr := freePort(t)
	p := &proc{}
	base := []string{"serve", "--addr", addr}
	if dataDir != "" { // "" leaves the store's place to args
		base = append(base, "--data", dataDir)
	}
	p.cmd = exec.Command(binPath, append(base, args...)...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = &lockedWriter{mu: &p.mu, b: &p.stdout}
	p.cmd.Stderr = &lockedWriter{mu: &p.mu, b: &p.stderr}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	p.base = "http://" + addr
	rel := ""
	for i, a := range args {
		if a == "--http-relative-path" && i+1 < len(args) {
			rel = args[i+1]
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(p.base + rel + "/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready: %v\nstderr:\n%s", err, p.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.base += rel
	return p
}

func (p *proc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func (p *proc) out() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout.String()
}

// stop sends SIGTERM and requires a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logs())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(b)
}

func adminLogin(t *testing.T, base, user, password string) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(base+"/realms/master/protocol/openid-connect/token", url.Values{
		"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// First start bootstraps master/admin-cli/admin from the environment, the
// admin gets a token holding master role admin, SIGTERM exits cleanly, and
// everything survives a restart.
func TestServeBootstrapAndRestart(t *testing.T) {
	data := t.TempDir()
	env := []string{"GATEHOUSE_ADMIN_USER=root", "GATEHOUSE_ADMIN_PASSWORD=Very-Secret-42"}
	p := startServe(t, data, env)
	status, body := adminLogin(t, p.base, "root", "Very-Secret-42")
	if status != 200 {
		t.Fatalf("admin login: %d %v", status, body)
	}
	tok, _ := body["access_token"].(string)
	if !strings.Contains(decodePayload(t, tok), `"admin"`) {
		t.Errorf("admin token lacks master role admin: %s", decodePayload(t, tok))
	}
	if body["expires_in"] != float64(60) {
		t.Errorf("master realm access tokens should live 60 s, got %v", body["expires_in"])
	}
	p.stop(t)
	for _, secret := range []string{"Very-Secret-42", tok} {
		if strings.Contains(p.logs(), secret) || strings.Contains(p.out(), secret) {
			t.Errorf("a secret or token appears in the output")
		}
	}
	if !strings.Contains(p.logs(), "status=200") || !strings.Contains(p.logs(), "realm=master") || !strings.Contains(p.logs(), "client=admin-cli") {
		t.Errorf("access log lacks status/realm/client:\n%s", p.logs())
	}

	// Restart on the same data: no re-bootstrap (the env password is ignored),
	// the old password still works.
	p2 := startServe(t, data, []string{"GATEHOUSE_ADMIN_PASSWORD=other"})
	if status, body := adminLogin(t, p2.base, "root", "Very-Secret-42"); status != 200 {
		t.Fatalf("after restart: %d %v", status, body)
	}
	p2.stop(t)
}

// Without GATEHOUSE_ADMIN_PASSWORD a password is generated and printed once.
func TestServeGeneratedAdminPassword(t *testing.T) {
	data := t.TempDir()
	p := startServe(t, data, []string{"GATEHOUSE_ADMIN_PASSWORD=", "GATEHOUSE_ADMIN_USER="})
	m := regexp.MustCompile(`(?m)^\s{4}(\S+)\s*$`).FindStringSubmatch(p.out())
	if m == nil {
		t.Fatalf("no generated password printed:\n%s", p.out())
	}
	if status, body := adminLogin(t, p.base, "admin", m[1]); status != 200 {
		t.Fatalf("generated password does not work: %d %v", status, body)
	}
	if strings.Contains(p.logs(), m[1]) {
		t.Error("generated password written to the log stream")
	}
	p.stop(t)
	p2 := startServe(t, data, []string{"GATEHOUSE_ADMIN_PASSWORD="})
	if strings.Contains(p2.out(), "Generated password") {
		t.Error("password printed again on the second start")
	}
	p2.stop(t)
}

// --http-relative-path /auth serves Keycloak's old URLs; env settings work as
// flags do; JSON logs are one object per line.
func TestServeRelativePathEnvAndJSONLogs(t *testing.T) {
	data := t.TempDir()
	p := startServe(t, data, []string{"GATEHOUSE_ADMIN_PASSWORD=pw-123456", "GATEHOUSE_LOG_FORMAT=json"},
		"--http-relative-path", "/auth")
	if status, body := adminLogin(t, p.base, "admin", "pw-123456"); status != 200 {
		t.Fatalf("login under /auth: %d %v", status, body)
	}
	// The start-up line names the admin console's address, which serves it.
	console := p.base + "/admin/master/console/" // p.base ends in /auth
	if status, body := httpGet(t, console); status != 200 || !strings.Contains(body, `data-base="/auth"`) {
		t.Errorf("console at %s: %d", console, status)
	}
	p.stop(t)
	sc := bufio.NewScanner(strings.NewReader(p.logs()))
	n, listening := 0, false
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		if m["msg"] == "gatehouse listening" {
			listening = true
			if m["console"] != console {
				t.Errorf("start-up line names the console %v, want %s", m["console"], console)
			}
		}
		n++
	}
	if n == 0 || !listening {
		t.Errorf("no log lines, or none saying where the server listens:\n%s", p.logs())
	}
}

func TestServeFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--tls-cert", "x.pem"},
		{"serve", "--http-relative-path", "auth"},
		{"serve", "--log-format", "xml", "--data", t.TempDir()},
		{"bogus"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, strings.NewReader(""), &out, &errb); code == 0 {
			t.Errorf("%v: exit 0", args)
		} else if errb.Len() == 0 {
			t.Errorf("%v: no message", args)
		}
	}
}

func decodePayload(t *testing.T, jwt string) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64URLDecode(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A data directory whose sealed values the master key cannot open must not
// start: without this, serve wrote a new key (or took the wrong one),
// reported ready, and answered 500 to every request.
func TestServeRefusesAMasterKeyThatCannotOpenTheStore(t *testing.T) {
	data := t.TempDir()
	p := startServe(t, data, []string{"GATEHOUSE_ADMIN_PASSWORD=pw-123456", "GATEHOUSE_MASTER_KEY="})
	p.stop(t)
	keyPath := filepath.Join(data, "master.key")
	good, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	other := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T)
		env     string
		want    []string
	}{
		{"key file missing", func(t *testing.T) { must(t, os.Remove(keyPath)) }, "",
			[]string{keyPath, "missing"}},
		{"another key in the file", func(t *testing.T) { must(t, os.WriteFile(keyPath, []byte(other+"\n"), 0o600)) }, "",
			[]string{keyPath, "cannot open"}},
		{"another key in the environment", func(t *testing.T) {}, other,
			[]string{"GATEHOUSE_MASTER_KEY", "cannot open"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			must(t, os.WriteFile(keyPath, good, 0o600))
			tc.prepare(t)
			t.Setenv("GATEHOUSE_MASTER_KEY", tc.env)
			// A server that starts anyway is stopped by the deadline and
			// exits 0, which fails the test.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var out, errb bytes.Buffer
			code := run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", data}, strings.NewReader(""), &out, &errb)
			if code == 0 {
				t.Fatalf("serve started; stderr:\n%s", errb.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("message does not say %q:\n%s", w, errb.String())
				}
			}
			if tc.name == "key file missing" {
				if _, err := os.Stat(keyPath); !os.IsNotExist(err) {
					t.Errorf("a new master.key was written over the missing one (%v)", err)
				}
			}
		})
	}

	// The right key still starts.
	must(t, os.WriteFile(keyPath, good, 0o600))
	p = startServe(t, data, []string{"GATEHOUSE_MASTER_KEY="})
	if status, body := adminLogin(t, p.base, "admin", "pw-123456"); status != 200 {
		t.Fatalf("login with the right key: %d %v", status, body)
	}
	p.stop(t)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
