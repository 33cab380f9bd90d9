package bolt_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/bolt"
	"github.com/gatehouse/gatehouse/store/storetest"
)

// rssFileKiB is this process's resident file-backed memory.
func rssFileKiB(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}

// Opening walks every page to rebuild the freelist; the store must not keep
// the whole file resident afterwards (idle RSS with many realms), and its
// data must read back as before.
func TestOpenDoesNotKeepTheFileResident(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	s := open(t, path)
	r := storetest.Seed(t, s)
	pad := strings.Repeat("x", 4000)
	for i := range 4000 {
		u := store.User{ID: fmt.Sprint("user-", i), Username: fmt.Sprint("user", i), Attributes: map[string][]string{"pad": {pad}}}
		must(t, s.CreateUser(ctx, r.ID, u))
	}
	must(t, s.Close())
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	before := rssFileKiB(t)
	s, err = bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if grew, file := rssFileKiB(t)-before, fi.Size()/1024; grew > file/4 {
		t.Fatalf("opening a %d KiB store left %d KiB more of it resident", file, grew)
	}
	if u, err := s.GetUser(ctx, r.ID, "user-3999"); err != nil || u.Attributes["pad"][0] != pad {
		t.Fatalf("after open: %v", err)
	}
}
