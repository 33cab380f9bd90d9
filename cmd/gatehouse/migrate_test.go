package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store/postgres"
	"github.com/gatehouse/gatehouse/store/postgres/pgtest"
)

// A server's bbolt data directory migrated to PostgreSQL serves on from
// there: a replica with the directory's master key accepts the old admin
// password, client secret and user password, and rotates a refresh token
// issued before the move. The database is tied to that key; migrating a
// running server's store, or into the database a second time, is refused.
func TestMigrateBoltToPostgresServesOldCredentials(t *testing.T) {
	db := pgtest.URL(t)
	data := t.TempDir()
	hc := &http.Client{Timeout: 10 * time.Second}
	p := startServe(t, data, []string{"GATEHOUSE_ADMIN_PASSWORD=mig-Admin-1"})
	g := gh{base: p.base, hc: hc}
	admin := adminTokenPW(t, g, "mig-Admin-1")
	mustStatus(t, 201)(g.json("POST", "/admin/realms", admin, map[string]any{"realm": "mig", "enabled": true}))
	mustStatus(t, 201)(g.json("POST", "/admin/realms/mig/clients", admin, map[string]any{"clientId": "app", "secret": "app-Secret-12345",
		"serviceAccountsEnabled": true, "directAccessGrantsEnabled": true}))
	mustStatus(t, 201)(g.json("POST", "/admin/realms/mig/users", admin, map[string]any{"username": "alice", "enabled": true,
		"credentials": []map[string]any{{"type": "password", "value": "alice-Pass-1", "temporary": false}}}))
	s, m, err := g.form("/realms/mig/protocol/openid-connect/token", url.Values{"grant_type": {"password"},
		"username": {"alice"}, "password": {"alice-Pass-1"}}, "app", "app-Secret-12345")
	refresh, _ := m["refresh_token"].(string)
	if err != nil || s != 200 || refresh == "" {
		t.Fatalf("password grant before the move: %d %v %v", s, m, err)
	}
	migrateCmd := func() (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, binPath, "migrate", "--from", "bolt://"+data)
		cmd.Env = append(os.Environ(), "GATEHOUSE_STORE="+db)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	// A running server would keep writing after the copy.
	if out, err := migrateCmd(); err == nil || !strings.Contains(out, "stop it first") {
		t.Errorf("migrate of a running server's store: %v\n%s", err, out)
	}
	p.stop(t)

	out, err := migrateCmd()
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	for _, want := range []string{"realm mig:", "realm master:", "verified (read back from the target)", "refreshTokens"} {
		if !strings.Contains(out, want) {
			t.Errorf("migrate output lacks %q:\n%s", want, out)
		}
	}
	if out, err := migrateCmd(); err == nil || !strings.Contains(out, "--force") {
		t.Errorf("a second migrate into the same database: %v\n%s", err, out)
	}

	ctx := context.Background()
	pg, err := postgres.Open(ctx, db, postgres.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.CheckMasterKey(ctx, []byte("not the key's digest")); !errors.Is(err, postgres.ErrMasterKeyMismatch) {
		t.Errorf("the database is not tied to the directory's master key: %v", err)
	}
	pg.Close()

	key, err := os.ReadFile(filepath.Join(data, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	r := startServe(t, t.TempDir(), []string{"GATEHOUSE_STORE=" + db, "GATEHOUSE_MASTER_KEY=" + strings.TrimSpace(string(key))})
	defer r.stop(t)
	gr := gh{base: r.base, hc: hc}
	adminTokenPW(t, gr, "mig-Admin-1")
	s, m, err = gr.form("/realms/mig/protocol/openid-connect/token", url.Values{"grant_type": {"client_credentials"}}, "app", "app-Secret-12345")
	if err != nil || s != 200 || m["access_token"] == nil {
		t.Errorf("client_credentials with the old secret: %d %v %v", s, m, err)
	}
	s, m, err = gr.form("/realms/mig/protocol/openid-connect/token", url.Values{"grant_type": {"password"},
		"username": {"alice"}, "password": {"alice-Pass-1"}}, "app", "app-Secret-12345")
	if err != nil || s != 200 {
		t.Errorf("password grant with the old password: %d %v %v", s, m, err)
	}
	s, m, err = gr.form("/realms/mig/protocol/openid-connect/token", url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {refresh}}, "app", "app-Secret-12345")
	if next, _ := m["refresh_token"].(string); err != nil || s != 200 || next == "" || next == refresh {
		t.Errorf("refresh with a token issued before the move: %d %v %v", s, m, err)
	}
}

// migrate takes a bbolt directory and a PostgreSQL URL, and says so when
// given anything else, without echoing a URL that may hold a password.
func TestMigrateUsageErrors(t *testing.T) {
	t.Setenv("GATEHOUSE_STORE", "")
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--from bolt://DIR is required"},
		{[]string{"--from", "postgres://gh@db/gh", "--to", "postgres://gh@db/gh"}, "--from bolt://DIR is required"},
		{[]string{"--from", "bolt://" + dir}, "--to postgres://USER@HOST/DB (or GATEHOUSE_STORE) is required"},
		{[]string{"--from", "bolt://" + dir, "--to", "mysql://root:hunter2@db/gh"}, "--to postgres://USER@HOST/DB (or GATEHOUSE_STORE) is required"},
		{[]string{"--from", "bolt://" + dir, "--to", "bolt://elsewhere"}, "--to postgres://USER@HOST/DB (or GATEHOUSE_STORE) is required"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errs, code := runCLI(t, append([]string{"migrate"}, tc.args...)...)
			want := "gatehouse migrate: " + tc.want + "\nRun `gatehouse help migrate` for usage.\n"
			if code != 2 || out != "" || errs != want {
				t.Errorf("exit %d stdout %q stderr %q, want 2 and %q", code, out, errs, want)
			}
		})
	}
	// A directory without a store is not created one.
	_, errs, code := runCLI(t, "migrate", "--from", "bolt://"+dir, "--to", "postgres://gh@127.0.0.1:1/gh")
	if code != 1 || !strings.Contains(errs, "no Gatehouse store at") {
		t.Errorf("a directory without a store: exit %d %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "gatehouse.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("migrate created a store in the source directory: %v", err)
	}
}
