package main

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store/postgres/pgtest"
)

// Two replicas on one PostgreSQL database with the same master key: a
// confidential client created through one gets client_credentials tokens
// from the other. A third replica with another key refuses to start rather
// than seal secrets the others cannot open.
func TestServePostgresReplicasShareClients(t *testing.T) {
	db := pgtest.URL(t)
	key := "GATEHOUSE_MASTER_KEY=" + strings.Repeat("42", 32)
	env := []string{"GATEHOUSE_ADMIN_PASSWORD=pg-Admin-1", "GATEHOUSE_STORE=" + db, key}
	p1 := startServe(t, t.TempDir(), env)
	p2 := startServe(t, t.TempDir(), env, "--db-pool-max", "2")
	hc := &http.Client{Timeout: 10 * time.Second}
	g1, g2 := gh{base: p1.base, hc: hc}, gh{base: p2.base, hc: hc}

	admin := adminTokenPW(t, g1, "pg-Admin-1")
	mustStatus(t, 201)(g1.json("POST", "/admin/realms", admin, map[string]any{"realm": "pg", "enabled": true}))
	mustStatus(t, 201)(g1.json("POST", "/admin/realms/pg/clients", admin, map[string]any{"clientId": "app", "secret": "app-Secret-12345",
		"serviceAccountsEnabled": true}))
	for name, g := range map[string]gh{"the replica that created it": g1, "the other replica": g2} {
		s, m, err := g.form("/realms/pg/protocol/openid-connect/token", url.Values{"grant_type": {"client_credentials"}}, "app", "app-Secret-12345")
		if err != nil || s != 200 || m["access_token"] == nil {
			t.Errorf("client_credentials from %s: %d %v %v", name, s, m, err)
		}
	}
	p1.stop(t)
	p2.stop(t)
	if strings.Contains(p1.logs(), "pg-Admin-1") || strings.Contains(p1.logs()+p1.out(), "app-Secret-12345") {
		t.Error("a secret appears in the output")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, "serve", "--addr", freePort(t), "--data", t.TempDir(), "--store", db)
	cmd.Env = append(cmd.Environ(), "GATEHOUSE_MASTER_KEY="+strings.Repeat("17", 32))
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "GATEHOUSE_MASTER_KEY") {
		t.Errorf("a replica with another master key: %v\n%s", err, out)
	}
}

// --store picks the backend: empty or bolt://DIR is bbolt (DIR standing
// for --data), postgres:// is PostgreSQL; anything else is refused without
// echoing a URL that may hold a password.
func TestServeStoreFlag(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      string // GATEHOUSE_STORE
		args     []string
		wantData string
		wantErr  string
		password bool // PasswordInArgs
	}{
		{name: "default", wantData: "./data"},
		{name: "bolt dir", args: []string{"--store", "bolt:///srv/gh"}, wantData: "/srv/gh"},
		{name: "bolt dir and the same data", args: []string{"--store", "bolt://x/y", "--data", "x/y/"}, wantData: "x/y"},
		{name: "bolt dir and another data", args: []string{"--store", "bolt://x", "--data", "y"}, wantErr: "give one"},
		{name: "bolt without dir", args: []string{"--store", "bolt://"}, wantErr: "needs a directory"},
		{name: "postgres", args: []string{"--store", "postgres://gh@db/gh", "--db-pool-max", "16"}, wantData: "./data"},
		{name: "postgresql from env", env: "postgresql://gh:pw@db/gh", wantData: "./data"},
		{name: "password on the command line", args: []string{"--store", "postgres://gh:pw@db/gh"}, wantData: "./data", password: true},
		{name: "unknown scheme", args: []string{"--store", "mysql://root:hunter2@db/gh"}, wantErr: "use bolt://DIR or postgres://"},
		{name: "negative pool", args: []string{"--db-pool-max", "-1"}, wantErr: "must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GATEHOUSE_STORE", tc.env)
			var stderr strings.Builder
			c, err := parseServeFlags(tc.args, &stderr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Data != tc.wantData || c.PasswordInArgs != tc.password {
				t.Errorf("data %q, password in args %v; want %q, %v", c.Data, c.PasswordInArgs, tc.wantData, tc.password)
			}
		})
	}
}

// A database that goes away: /health/ready fails (the load balancer stops
// routing here), /health/live does not (no restart needed), writes answer
// 503 in each API's error shape; when it is back, the server recovers by
// itself.
func TestServePostgresOutage(t *testing.T) {
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := pgtest.StartProxy(t, u.Host)
	u.Host = proxy.Addr
	p := startServe(t, t.TempDir(), []string{"GATEHOUSE_ADMIN_PASSWORD=pg-Admin-1", "GATEHOUSE_STORE=" + u.String()})
	g := gh{base: p.base, hc: &http.Client{Timeout: 10 * time.Second}}
	admin := adminTokenPW(t, g, "pg-Admin-1")
	get := func(path string) int {
		res, err := g.hc.Get(g.base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	createRealm := func(name string) (int, map[string]any) {
		s, m, err := g.json("POST", "/admin/realms", admin, map[string]any{"realm": name, "enabled": true})
		if err != nil {
			t.Fatal(err)
		}
		return s, m
	}

	proxy.Stop()
	if s := get("/health/ready"); s != 503 {
		t.Errorf("/health/ready with the database gone: %d, want 503", s)
	}
	if s := get("/health/live"); s != 200 {
		t.Errorf("/health/live with the database gone: %d, want 200", s)
	}
	if s, m := createRealm("during"); s != 503 || m["errorMessage"] == nil {
		t.Errorf("admin write with the database gone: %d %v, want 503 with errorMessage", s, m)
	}
	s, m, err := g.form("/realms/master/protocol/openid-connect/token", url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"},
		"username": {"admin"}, "password": {"pg-Admin-1"}}, "", "")
	if err != nil || s != 503 || m["error"] == nil {
		t.Errorf("password grant with the database gone: %d %v %v, want 503 with an OAuth error", s, m, err)
	}
	if s, m, err := g.json("POST", "/api/v1/iam/generateWorkloadAuthToken", admin, map[string]any{"workloadName": "DE"}); err != nil || s != 503 || m["code"] != "UNAVAILABLE" {
		t.Errorf("IAM request with the database gone: %d %v %v, want 503 in the CDP shape", s, m, err)
	}

	proxy.Restart(t)
	if s := get("/health/ready"); s != 200 {
		t.Errorf("/health/ready with the database back: %d", s)
	}
	if s, m := createRealm("after"); s != 201 {
		t.Errorf("admin write with the database back: %d %v", s, m)
	}
	p.stop(t)
}

// The same refresh token presented to two replicas at once: exactly one
// refresh succeeds, the others are refused, and the winner's new token is
// dead too (reuse detection revoked the family), on both replicas.
func TestServePostgresReplicasRefreshOnce(t *testing.T) {
	db := pgtest.URL(t)
	env := []string{"GATEHOUSE_ADMIN_PASSWORD=pg-Admin-1", "GATEHOUSE_STORE=" + db, "GATEHOUSE_MASTER_KEY=" + strings.Repeat("42", 32)}
	hc := &http.Client{Timeout: 20 * time.Second}
	g := []gh{{base: startServe(t, t.TempDir(), env).base, hc: hc}, {base: startServe(t, t.TempDir(), env).base, hc: hc}}
	admin := adminTokenPW(t, g[0], "pg-Admin-1")
	mustStatus(t, 201)(g[0].json("POST", "/admin/realms", admin, map[string]any{"realm": "pg", "enabled": true}))
	mustStatus(t, 201)(g[0].json("POST", "/admin/realms/pg/clients", admin, map[string]any{"clientId": "app", "secret": "app-Secret-12345",
		"directAccessGrantsEnabled": true}))
	mustStatus(t, 201)(g[0].json("POST", "/admin/realms/pg/users", admin, map[string]any{"username": "alice", "enabled": true,
		"credentials": []map[string]any{{"type": "password", "value": "alice-Pass-1", "temporary": false}}}))
	const token = "/realms/pg/protocol/openid-connect/token"
	s, login, err := g[1].form(token, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alice-Pass-1"}}, "app", "app-Secret-12345")
	if err != nil || s != 200 {
		t.Fatalf("password grant: %d %v %v", s, login, err)
	}
	refresh := func(g gh, rt any) (int, map[string]any) {
		s, m, err := g.form(token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt.(string)}}, "app", "app-Secret-12345")
		if err != nil {
			t.Error(err)
		}
		return s, m
	}
	const n = 8
	status := make([]int, n)
	bodies := make([]map[string]any, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			status[i], bodies[i] = refresh(g[i%2], login["refresh_token"])
		})
	}
	close(start)
	wg.Wait()
	var winner map[string]any
	for i, s := range status {
		switch {
		case s == 200:
			if winner != nil {
				t.Errorf("a second refresh succeeded (replica %d)", i%2)
			}
			winner = bodies[i]
		case s == 400 && bodies[i]["error"] == "invalid_grant":
		default:
			t.Errorf("refresh on replica %d: %d %v", i%2, s, bodies[i])
		}
	}
	if winner == nil {
		t.Fatalf("no refresh succeeded: %v", status)
	}
	for i := range g {
		if s, m := refresh(g[i], winner["refresh_token"]); s != 400 || m["error"] != "invalid_grant" {
			t.Errorf("the winner's new token on replica %d after the family was revoked: %d %v", i, s, m)
		}
	}
}

// --store bolt://DIR is the embedded store in DIR, as --data DIR is.
func TestServeBoltStoreURL(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gh")
	p := startServe(t, "", []string{"GATEHOUSE_ADMIN_PASSWORD=bolt-Admin-1"}, "--store", "bolt://"+dir)
	adminTokenPW(t, gh{base: p.base, hc: &http.Client{Timeout: 10 * time.Second}}, "bolt-Admin-1")
	p.stop(t)
	for _, f := range []string{"gatehouse.db", "master.key"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not in the bolt:// directory: %v", f, err)
		}
	}
}
