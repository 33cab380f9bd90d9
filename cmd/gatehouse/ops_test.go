package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serveToExit runs gatehouse serve that is expected to fail at start-up,
// and returns its exit code and output.
func serveToExit(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		t.Fatalf("serve %v exited 0:\n%s", args, errb.String())
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatalf("serve %v did not exit:\n%s", args, errb.String())
	}
	return code, out.String(), errb.String()
}

// A first start on a busy port fails before bootstrapping: no admin is
// created, no password printed, nothing written to the data directory.
func TestServeOnBusyPortBootstrapsNothing(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	data := filepath.Join(t.TempDir(), "data")
	code, stdout, stderr := serveToExit(t, []string{"GATEHOUSE_ADMIN_PASSWORD="}, "--addr", busy.Addr().String(), "--data", data)
	if code == 0 || !strings.Contains(stderr, "address already in use") || !strings.Contains(stderr, "--addr") {
		t.Errorf("exit %d, want a failure naming the busy address and --addr:\n%s", code, stderr)
	}
	if strings.Contains(stdout, "Generated password") {
		t.Errorf("a password was printed for an admin no later start will show:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Join(data, "gatehouse.db")); !os.IsNotExist(err) {
		t.Errorf("store created despite the busy port: %v", err)
	}
	// The next start on a free port bootstraps and prints the password.
	p := startServe(t, data, []string{"GATEHOUSE_ADMIN_PASSWORD="})
	if !strings.Contains(p.out(), "Generated password") {
		t.Errorf("the first successful start printed no password:\n%s", p.out())
	}
	p.stop(t)
}

// A busy management port fails the start the same way.
func TestServeOnBusyManagementPortBootstrapsNothing(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	data := filepath.Join(t.TempDir(), "data")
	code, stdout, stderr := serveToExit(t, []string{"GATEHOUSE_ADMIN_PASSWORD="},
		"--addr", freePort(t), "--management-addr", busy.Addr().String(), "--data", data)
	if code == 0 || !strings.Contains(stderr, "management") || !strings.Contains(stderr, "--management-addr") {
		t.Errorf("exit %d, want a failure naming the management listener:\n%s", code, stderr)
	}
	if strings.Contains(stdout, "Generated password") {
		t.Errorf("a password was printed:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Join(data, "gatehouse.db")); !os.IsNotExist(err) {
		t.Errorf("store created despite the busy port: %v", err)
	}
}

// A second server on a data directory in use says another process holds
// the store, naming the file.
func TestServeSecondServerOnSameDataSaysTheStoreIsHeld(t *testing.T) {
	data := t.TempDir()
	p := startServe(t, data, []string{"GATEHOUSE_ADMIN_PASSWORD=held-Admin-1"})
	code, _, stderr := serveToExit(t, nil, "--addr", freePort(t), "--data", data)
	if code == 0 || !strings.Contains(stderr, "another process holds the store file") ||
		!strings.Contains(stderr, filepath.Join(data, "gatehouse.db")) {
		t.Errorf("exit %d, want 'another process holds the store file' naming it:\n%s", code, stderr)
	}
	p.stop(t)
}

// A later start with an admin password that is not the stored one says so
// once and changes nothing; with the right one it says nothing.
func TestServeSaysWhenTheEnvAdminPasswordIsNotApplied(t *testing.T) {
	data := t.TempDir()
	p := startServe(t, data, []string{"GATEHOUSE_ADMIN_PASSWORD=First-Admin-1"})
	p.stop(t)
	const notice = "GATEHOUSE_ADMIN_PASSWORD is not the password of the stored admin user"
	for _, tc := range []struct {
		password string
		notices  int
	}{
		{"First-Admin-1", 0},
		{"Second-Admin-2", 1},
	} {
		p := startServe(t, data, []string{"GATEHOUSE_ADMIN_PASSWORD=" + tc.password})
		if status, body := adminLogin(t, p.base, "admin", "First-Admin-1"); status != 200 {
			t.Fatalf("stored password after a start with %q: %d %v", tc.password, status, body)
		}
		p.stop(t)
		if n := strings.Count(p.logs(), notice); n != tc.notices {
			t.Errorf("start with %q: %d notices, want %d:\n%s", tc.password, n, tc.notices, p.logs())
		}
		if strings.Contains(p.logs(), tc.password) {
			t.Errorf("the log carries the password")
		}
	}
}

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// The management listener serves /metrics with the requests served so far,
// Keycloak's health checks, and pprof only when asked.
func TestManagementListenerServesMetricsHealthAndPprof(t *testing.T) {
	for _, withPprof := range []bool{false, true} {
		mgmt := freePort(t)
		args := []string{"--management-addr", mgmt}
		if withPprof {
			args = append(args, "--management-pprof")
		}
		p := startServe(t, t.TempDir(), []string{"GATEHOUSE_ADMIN_PASSWORD=mgmt-Admin-1"}, args...)
		if status, body := adminLogin(t, p.base, "admin", "mgmt-Admin-1"); status != 200 {
			t.Fatalf("admin login: %d %v", status, body)
		}
		if status, _ := adminLogin(t, p.base, "admin", "wrong"); status != 401 {
			t.Fatalf("wrong password: %d", status)
		}
		base := "http://" + mgmt
		for _, path := range []string{"/health", "/health/live", "/health/ready"} {
			if status, body := httpGet(t, base+path); status != 200 || !strings.Contains(body, `"UP"`) {
				t.Errorf("%s: %d %s", path, status, body)
			}
		}
		status, metrics := httpGet(t, base+"/metrics")
		if status != 200 {
			t.Fatalf("/metrics: %d", status)
		}
		const route = `route="/realms/{realm}/protocol/openid-connect/token"`
		for _, want := range []string{
			`gatehouse_http_requests_total{grant="password",realm="master",` + route + `,status="200"} 1`,
			`gatehouse_http_requests_total{grant="password",realm="master",` + route + `,status="401"} 1`,
			`gatehouse_tokens_issued_total{grant="password",realm="master"} 1`,
			`gatehouse_login_failures_total{realm="master",reason="bad_password"} 1`,
			`gatehouse_store_commit_duration_seconds_count`,
			`go_gc_duration_seconds`,
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		wantPprof := http.StatusNotFound
		if withPprof {
			wantPprof = http.StatusOK
		}
		if status, _ := httpGet(t, base+"/debug/pprof/cmdline"); status != wantPprof {
			t.Errorf("pprof=%v: /debug/pprof/cmdline %d, want %d", withPprof, status, wantPprof)
		}
		// Nothing of it on the public port.
		for _, path := range []string{"/metrics", "/debug/pprof/cmdline"} {
			if status, _ := httpGet(t, p.base+path); status != http.StatusNotFound {
				t.Errorf("public port serves %s: %d", path, status)
			}
		}
		p.stop(t)
		if !strings.Contains(p.logs(), `management listening" addr=`+mgmt) {
			t.Errorf("the log does not say where the management listener is:\n%s", p.logs())
		}
	}
}

// --management-addr off serves no management listener, so pprof cannot
// be asked of it.
func TestManagementListenerOff(t *testing.T) {
	p := startServe(t, t.TempDir(), []string{"GATEHOUSE_ADMIN_PASSWORD=mgmt-Admin-1", "GATEHOUSE_MANAGEMENT_ADDR=off"})
	p.stop(t)
	if strings.Contains(p.logs(), "management listening") {
		t.Errorf("management listener started although off:\n%s", p.logs())
	}
	code, _, stderr := serveToExit(t, []string{"GATEHOUSE_MANAGEMENT_ADDR=off"}, "--addr", freePort(t), "--data", t.TempDir(), "--management-pprof")
	if code == 0 || !strings.Contains(stderr, "--management-pprof needs the management listener") {
		t.Errorf("off with --management-pprof: exit %d\n%s", code, stderr)
	}
}

// The deprecated --debug-addr still serves pprof on its own address, and
// says it is deprecated.
func TestDebugAddrStillServesPprof(t *testing.T) {
	debug := freePort(t)
	p := startServe(t, t.TempDir(), []string{"GATEHOUSE_ADMIN_PASSWORD=mgmt-Admin-1"}, "--debug-addr", debug)
	if status, _ := httpGet(t, "http://"+debug+"/debug/pprof/cmdline"); status != http.StatusOK {
		t.Errorf("--debug-addr pprof: %d", status)
	}
	p.stop(t)
	if !strings.Contains(p.logs(), "--debug-addr is deprecated") {
		t.Errorf("no deprecation notice:\n%s", p.logs())
	}
}
