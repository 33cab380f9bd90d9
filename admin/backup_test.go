package admin_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store/bolt"
)

// A backup that takes longer than the server's write timeout still
// completes: the handler gives its stream its own deadline. The server here
// has a write timeout that has always passed by the time the handler writes,
// as it would have for a store that takes minutes to stream.
func TestBackupOutlivesTheServerWriteTimeout(t *testing.T) {
	e := newBoltEnv(t)
	for i := range 3 {
		e.must(http.StatusCreated, http.MethodPost, "/admin/realms", e.admin, map[string]any{"realm": "r" + strconv.Itoa(i), "enabled": true})
	}
	slow := httptest.NewUnstartedServer(e.srv.Config.Handler)
	slow.Config.WriteTimeout = time.Nanosecond
	slow.Start()
	defer slow.Close()

	req, err := http.NewRequest(http.MethodGet, slow.URL+"/admin/backup", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.admin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("backup stream cut after %d bytes: %v", len(body), err)
	}
	if res.StatusCode != http.StatusOK || res.Trailer.Get("X-Backup-Bytes") != strconv.Itoa(len(body)) {
		t.Fatalf("status %d, %d bytes, trailer %q", res.StatusCode, len(body), res.Trailer.Get("X-Backup-Bytes"))
	}
	file := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(file, body, 0o600); err != nil {
		t.Fatal(err)
	}
	if sum, err := bolt.Verify(file); err != nil || sum.Realms != 4 {
		t.Errorf("backup: %+v %v", sum, err)
	}
}
