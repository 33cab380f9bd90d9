package bolt_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/bolt"
	"github.com/gatehouse/gatehouse/store/storetest"
)

func open(t testing.TB, path string) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, bolt.Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	})
}

var ctx = context.Background()

func seed(t testing.TB, s store.Store) store.Realm {
	t.Helper()
	r := store.Realm{ID: "r1", Name: "demo", Enabled: true}
	if err := s.CreateRealm(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateClient(ctx, r.ID, store.Client{ID: "c1", ClientID: "app"}); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSurvivesReopenAndBackup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gatehouse.db")
	s := open(t, path)
	seed(t, s)
	var buf bytes.Buffer
	if _, err := s.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]string{"reopened": path, "backup": filepath.Join(dir, "backup.db")} {
		if name == "backup" {
			if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		s := open(t, p)
		if c, err := s.GetClientByClientID(ctx, "r1", "app"); err != nil || c.ID != "c1" {
			t.Errorf("%s: %v %v", name, c, err)
		}
		s.Close()
	}
}

func TestSecondOpenTimesOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	s := open(t, path)
	defer s.Close()
	start := time.Now()
	if _, err := bolt.Open(path, bolt.Options{Timeout: 100 * time.Millisecond}); err == nil {
		t.Fatal("second open of a locked file succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second open took %v", d)
	}
}

func TestDeleteExpiredAfterRealmDeletion(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	defer s.Close()
	r := seed(t, s)
	sess := store.Session{ID: "s1", ClientID: "c1", UserID: "u1", ExpiresAt: time.Now().Add(time.Minute)}
	if err := s.CreateSession(ctx, r.ID, sess, store.RefreshToken{Hash: "h1", ExpiresAt: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRealm(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteExpired(ctx, time.Now().Add(time.Hour), 100)
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpired = %d, %v (want the 2 orphaned index rows)", n, err)
	}
}

func TestClosedStoreIsUnavailable(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	s.Close()
	err := s.CreateRealm(ctx, store.Realm{ID: "x", Name: "x"})
	if err == nil || !isUnavailable(err) {
		t.Fatalf("write to a closed store: %v", err)
	}
}

func isUnavailable(err error) bool { return err != nil && errorsIs(err, store.ErrUnavailable) }

func BenchmarkRotateRefreshToken(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "gatehouse.db"))
	defer s.Close()
	r := seed(b, s)
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		prefix := fmt.Sprintf("g%d-", n.Add(1))
		sess := store.Session{ID: prefix + "s", ClientID: "c1", UserID: "u1", ExpiresAt: time.Now().Add(time.Hour)}
		cur := store.RefreshToken{Hash: prefix + "0", SessionID: sess.ID, ExpiresAt: sess.ExpiresAt}
		if err := s.CreateSession(ctx, r.ID, sess, cur); err != nil {
			b.Error(err)
			return
		}
		i := 0
		for pb.Next() {
			i++
			next := store.RefreshToken{Hash: fmt.Sprintf("%s%d", prefix, i), SessionID: sess.ID, ExpiresAt: sess.ExpiresAt}
			if _, err := s.RotateRefreshToken(ctx, r.ID, cur.Hash, next, store.RotationPolicy{}, time.Now()); err != nil {
				b.Error(err)
				return
			}
			cur = next
		}
	})
}

func BenchmarkGetClientByClientID(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "gatehouse.db"))
	defer s.Close()
	r := seed(b, s)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.GetClientByClientID(ctx, r.ID, "app"); err != nil {
			b.Fatal(err)
		}
	}
}
