package main

import (
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store/bolt"
)

// smallFS mounts a tmpfs of the given size (root only; skips elsewhere) so
// the test can fill it or make it read-only.
func smallFS(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// A full disk makes writes answer 503 with a clear log line while reads and
// token verification go on; freeing space makes writes work again without a
// restart, and the file is never corrupted. A read-only data directory
// serves reads and answers every write 503.
func TestFullAndReadOnlyDisk(t *testing.T) {
	fs := smallFS(t, "8m")
	data := filepath.Join(fs, "data")
	env := []string{"GATEHOUSE_ADMIN_PASSWORD=disk-Admin-1"}
	p := startServe(t, data, env)
	g := gh{base: p.base, hc: &http.Client{Timeout: 10 * time.Second}}
	admin := adminTokenPW(t, g, "disk-Admin-1")
	mustStatus(t, 201)(g.json("POST", "/admin/realms", admin, map[string]any{"realm": "disk", "enabled": true}))
	mustStatus(t, 201)(g.json("POST", "/admin/realms/disk/clients", admin, map[string]any{"clientId": "app", "secret": "app-Secret-12345",
		"serviceAccountsEnabled": true, "directAccessGrantsEnabled": true}))
	cc := func() (int, string) {
		s, m, err := g.form("/realms/disk/protocol/openid-connect/token", url.Values{"grant_type": {"client_credentials"}}, "app", "app-Secret-12345")
		if err != nil {
			t.Fatal(err)
		}
		tok, _ := m["access_token"].(string)
		return s, tok
	}
	_, before := cc()

	// Fill the file system, then write until the store says no.
	filler := filepath.Join(fs, "filler")
	f, _ := os.Create(filler)
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	f.Close()
	got503 := false
	for i := 0; i < 200 && !got503; i++ {
		s, m, err := g.json("POST", "/admin/realms/disk/clients", admin, map[string]any{"clientId": "fill-" + strings.Repeat("x", 10) + string(rune('a'+i%26)) + time.Now().Format("150405.000000000"),
			"description": strings.Repeat("d", 4096)})
		if err != nil {
			t.Fatal(err)
		}
		switch s {
		case 201:
		case 503:
			got503 = true
		default:
			t.Fatalf("write on a full disk: %d %v", s, m)
		}
	}
	if !got503 {
		t.Fatal("the disk never filled up")
	}
	if s, m, _ := g.form("/realms/master/protocol/openid-connect/token", url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"},
		"username": {"admin"}, "password": {"disk-Admin-1"}}, "", ""); s != 200 && s != 503 {
		t.Errorf("password grant on a full disk: %d %v", s, m)
	}
	if s, _ := cc(); s != 200 {
		t.Errorf("client_credentials (no write) on a full disk: %d", s)
	}
	if s, m, _ := g.form("/realms/disk/protocol/openid-connect/token/introspect", url.Values{"token": {before}}, "app", "app-Secret-12345"); s != 200 || m["active"] != true {
		t.Errorf("introspection on a full disk: %d %v", s, m)
	}
	if !strings.Contains(p.logs(), "unavailable for writes") {
		t.Errorf("no clear log line about the failed writes")
	}
	os.Remove(filler)
	if s, m, _ := g.json("POST", "/admin/realms/disk/clients", admin, map[string]any{"clientId": "after-space"}); s != 201 {
		t.Errorf("write after freeing space: %d %v", s, m)
	}
	p.stop(t)

	// Read-only: the same data, the mount flipped.
	if out, err := exec.Command("mount", "-o", "remount,ro", fs).CombinedOutput(); err != nil {
		t.Fatalf("remount ro: %v %s", err, out)
	}
	p = startServe(t, data, env)
	g.base = p.base
	if s, _ := cc(); s != 200 {
		t.Errorf("client_credentials on a read-only store: %d", s)
	}
	if s, m, _ := g.json("POST", "/admin/realms/disk/clients", admin, map[string]any{"clientId": "ro"}); s != 503 {
		t.Errorf("admin write on a read-only store: %d %v", s, m)
	}
	if s, m, _ := g.form("/realms/master/protocol/openid-connect/token", url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"},
		"username": {"admin"}, "password": {"disk-Admin-1"}}, "", ""); s != 503 {
		t.Errorf("password grant (a session write) on a read-only store: %d %v", s, m)
	}
	if !strings.Contains(p.logs(), "read-only") {
		t.Errorf("no log line about the read-only data directory")
	}
	p.stop(t)
	if out, err := exec.Command("mount", "-o", "remount,rw", fs).CombinedOutput(); err != nil {
		t.Fatalf("remount rw: %v %s", err, out)
	}
	st, err := bolt.Open(filepath.Join(data, "gatehouse.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Check(); err != nil {
		t.Fatalf("store corrupted: %v", err)
	}
}

func adminTokenPW(t *testing.T, g gh, pw string) string {
	t.Helper()
	s, m, err := g.form("/realms/master/protocol/openid-connect/token", url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"},
		"username": {"admin"}, "password": {pw}}, "", "")
	if err != nil || s != 200 {
		t.Fatalf("admin token: %d %v %v", s, m, err)
	}
	return m["access_token"].(string)
}
