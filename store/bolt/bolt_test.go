package bolt_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/bolt"
	"github.com/gatehouse/gatehouse/store/storetest"
)

const lockTimeout = 100 * time.Millisecond

func open(t testing.TB, path string) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, bolt.Options{Timeout: lockTimeout})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newStore(t testing.TB) *bolt.Store {
	t.Helper()
	s := open(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	})
}

var ctx = context.Background()

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Every kind of write, batched ones included, is on disk when it returns:
// it survives Close and reopen, and an online Backup is a store that opens
// with the same data.
func TestSurvivesReopenAndBackup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gatehouse.db")
	s := open(t, path)
	storetest.Seed(t, s)
	now := time.Now()
	rt0 := storetest.StartSession(t, s, "s1", now.Add(time.Hour))
	rt1 := store.RefreshToken{Hash: "s1-1", SessionID: "s1", ExpiresAt: now.Add(time.Hour)}
	if _, err := s.RotateRefreshToken(ctx, "r1", rt0.Hash, rt1, store.RotationPolicy{}, now); err != nil {
		t.Fatal(err)
	}
	must(t, s.RevokeAccessToken(ctx, "r1", "jti-1", now.Add(time.Hour)))
	storetest.StartSession(t, s, "s2", now.Add(time.Hour))
	must(t, s.DeleteSession(ctx, "r1", "s2"))

	var buf bytes.Buffer
	n, err := s.Backup(&buf)
	must(t, err)
	if n != int64(buf.Len()) {
		t.Errorf("Backup reported %d bytes, wrote %d", n, buf.Len())
	}
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
	must(t, s.Close())
	backup := filepath.Join(dir, "backup.db")
	must(t, os.WriteFile(backup, buf.Bytes(), 0o600))

	for name, p := range map[string]string{"reopened": path, "backup": backup} {
		t.Run(name, func(t *testing.T) {
			s := open(t, p)
			defer s.Close()
			must(t, s.Check())
			if c, err := s.GetClientByClientID(ctx, "r1", "app"); err != nil || c.ID != "c1" {
				t.Errorf("client: %+v %v", c, err)
			}
			if u, err := s.GetUserByUsername(ctx, "r1", "ALICE"); err != nil || u.ID != "u1" {
				t.Errorf("user: %+v %v", u, err)
			}
			if old, err := s.GetRefreshToken(ctx, "r1", rt0.Hash); err != nil || old.UsedAt.IsZero() {
				t.Errorf("rotated-out token: %+v %v", old, err)
			}
			if _, err := s.GetRefreshToken(ctx, "r1", rt1.Hash); err != nil {
				t.Errorf("current token: %v", err)
			}
			if ok, err := s.IsAccessTokenRevoked(ctx, "r1", "jti-1"); err != nil || !ok {
				t.Errorf("revocation: %v %v", ok, err)
			}
			if _, err := s.GetSession(ctx, "r1", "s2"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("deleted session: %v", err)
			}
		})
	}
}

// bbolt holds an exclusive flock: a second Open of the same file fails with
// bbolt's timeout error after Options.Timeout instead of hanging...
func TestSecondOpenTimesOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	s := open(t, path)
	defer s.Close()
	start := time.Now()
	s2, err := bolt.Open(path, bolt.Options{Timeout: lockTimeout})
	elapsed := time.Since(start)
	if err == nil {
		s2.Close()
		t.Fatal("second open of a locked file succeeded")
	}
	if !errors.Is(err, bolterrors.ErrTimeout) || !errors.Is(err, bolt.ErrLocked) {
		t.Errorf("second open: %v, want bbolt's timeout error as bolt.ErrLocked", err)
	}
	// ...which says what it means and names the file.
	if !errors.Is(err, bolt.ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Errorf("second open: %v, want ErrLocked naming %s", err, path)
	}
	// bbolt gives up one retry interval before the timeout; allow some
	// scheduling slack on a loaded machine.
	if elapsed > lockTimeout+500*time.Millisecond {
		t.Errorf("second open took %v with a %v timeout", elapsed, lockTimeout)
	}
	// The first store is unaffected.
	must(t, s.CreateRealm(ctx, store.Realm{ID: "r", Name: "r"}))
}

func TestOpenRejectsNonBoltFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	must(t, os.WriteFile(path, bytes.Repeat([]byte("not a bolt file "), 1024), 0o600))
	if s, err := bolt.Open(path, bolt.Options{Timeout: lockTimeout}); err == nil {
		s.Close()
		t.Fatal("Open accepted a file that is not a bbolt database")
	}
}

// A row that does not decode is an error for its readers, not a panic and
// not ErrNotFound (which would let a caller re-create over it).
func TestCorruptRowIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	s := open(t, path)
	storetest.Seed(t, s)
	must(t, s.CreateRole(ctx, "r1", store.Role{ID: "role1", Name: "reader"}))
	must(t, s.CreateKey(ctx, "r1", store.SigningKey{KID: "k1", Status: store.KeyActive}))
	storetest.StartSession(t, s, "s1", time.Now().Add(time.Hour))
	must(t, s.Close())

	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: lockTimeout})
	must(t, err)
	garbage := []byte("{not json")
	must(t, db.Update(func(tx *bbolt.Tx) error {
		rb := tx.Bucket([]byte("realm/r1"))
		for bucket, key := range map[string]string{
			"clients": "c1", "users": "u1", "roles": "role1", "keys": "k1", "sessions": "s1", "rt": "s1-0",
		} {
			if err := rb.Bucket([]byte(bucket)).Put([]byte(key), garbage); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("realms")).Put([]byte("r1"), garbage)
	}))
	must(t, db.Close())

	s = open(t, path)
	defer s.Close()
	now := time.Now()
	next := store.RefreshToken{Hash: "s1-1", ExpiresAt: now.Add(time.Hour)}
	for name, err := range map[string]error{
		"GetRealm":            errOf(s.GetRealm(ctx, "demo")),
		"GetRealmByID":        errOf(s.GetRealmByID(ctx, "r1")),
		"ListRealms":          errOf(s.ListRealms(ctx)),
		"UpdateRealm":         errOf(s.UpdateRealm(ctx, "r1", func(*store.Realm) error { return nil })),
		"DeleteRealm":         s.DeleteRealm(ctx, "r1"),
		"GetClient":           errOf(s.GetClient(ctx, "r1", "c1")),
		"GetClientByClientID": errOf(s.GetClientByClientID(ctx, "r1", "app")),
		"ListClients":         errOf(s.ListClients(ctx, "r1", store.ClientQuery{})),
		"UpdateClient":        errOf(s.UpdateClient(ctx, "r1", "c1", func(*store.Client) error { return nil })),
		"DeleteClient":        s.DeleteClient(ctx, "r1", "c1"),
		"GetUserByUsername":   errOf(s.GetUserByUsername(ctx, "r1", "alice")),
		"ListUsers":           errOf(s.ListUsers(ctx, "r1", store.UserQuery{})),
		"ListUsers exact":     errOf(s.ListUsers(ctx, "r1", store.UserQuery{Username: "alice", Exact: true})),
		"CountUsers":          errOf(s.CountUsers(ctx, "r1", store.UserQuery{})),
		"UpdateUser":          errOf(s.UpdateUser(ctx, "r1", "u1", func(*store.User) error { return nil })),
		"DeleteUser":          s.DeleteUser(ctx, "r1", "u1"),
		"GetRole":             errOf(s.GetRole(ctx, "r1", "role1")),
		"GetRoleByName":       errOf(s.GetRoleByName(ctx, "r1", "", "reader")),
		"ListRoles":           errOf(s.ListRoles(ctx, "r1", "", store.Page{})),
		"DeleteRole":          s.DeleteRole(ctx, "r1", "role1"),
		"ListKeys":            errOf(s.ListKeys(ctx, "r1")),
		"UpdateKey":           errOf(s.UpdateKey(ctx, "r1", "k1", func(*store.SigningKey) error { return nil })),
		"GetSession":          errOf(s.GetSession(ctx, "r1", "s1")),
		"GetRefreshToken":     errOf(s.GetRefreshToken(ctx, "r1", "s1-0")),
		"RotateRefreshToken":  errOf(s.RotateRefreshToken(ctx, "r1", "s1-0", next, store.RotationPolicy{}, now)),
		"DeleteSession":       s.DeleteSession(ctx, "r1", "s1"),
		"ListSessions":        errOf(s.ListSessions(ctx, "r1", store.SessionQuery{UserID: "u1"})),
	} {
		if err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s on a corrupt row: %v, want a decoding error", name, err)
		}
	}
}

func errOf[T any](_ T, err error) error { return err }

// smallFS mounts a tmpfs (root only; skips elsewhere) that the test can make
// read-only.
func smallFS(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// On a read-only file system Open falls back to a read-only store: reads
// work, every write wraps ErrUnavailable, and a file without Gatehouse's
// buckets is refused at Open rather than panicking on the first read.
func TestReadOnlyFileSystem(t *testing.T) {
	fs := smallFS(t)
	path := filepath.Join(fs, "gatehouse.db")
	s := open(t, path)
	storetest.Seed(t, s)
	rt := storetest.StartSession(t, s, "s1", time.Now().Add(time.Hour))
	must(t, s.Close())
	foreign := filepath.Join(fs, "foreign.db")
	db, err := bbolt.Open(foreign, 0o600, nil)
	must(t, err)
	must(t, db.Close())
	if out, err := exec.Command("mount", "-o", "remount,ro", fs).CombinedOutput(); err != nil {
		t.Skipf("cannot remount read-only: %v %s", err, out)
	}

	s = open(t, path)
	defer s.Close()
	if !s.ReadOnly() {
		t.Fatal("ReadOnly() = false on a read-only file system")
	}
	if c, err := s.GetClientByClientID(ctx, "r1", "app"); err != nil || c.ID != "c1" {
		t.Errorf("read on a read-only store: %+v %v", c, err)
	}
	now := time.Now()
	for name, err := range map[string]error{
		"CreateRealm":        s.CreateRealm(ctx, store.Realm{ID: "x", Name: "x"}),
		"UpdateUser":         errOf(s.UpdateUser(ctx, "r1", "u1", func(*store.User) error { return nil })),
		"CreateSession":      s.CreateSession(ctx, "r1", store.Session{ID: "s2"}, store.RefreshToken{Hash: "h2"}),
		"RotateRefreshToken": errOf(s.RotateRefreshToken(ctx, "r1", rt.Hash, store.RefreshToken{Hash: "h3"}, store.RotationPolicy{}, now)),
		"RevokeAccessToken":  s.RevokeAccessToken(ctx, "r1", "jti", now.Add(time.Hour)),
	} {
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s on a read-only store: %v, want ErrUnavailable", name, err)
		}
	}
	if s, err := bolt.Open(foreign, bolt.Options{Timeout: lockTimeout}); err == nil {
		s.Close()
		t.Error("read-only Open accepted a bbolt file without Gatehouse's buckets")
	}
}

// Re-using a realm ID would hand the new realm the old one's data.
func TestCreateRealmDuplicateID(t *testing.T) {
	s := newStore(t)
	storetest.Seed(t, s)
	err := s.CreateRealm(ctx, store.Realm{ID: "r1", Name: "other"})
	var ce *store.ConflictError
	if !errors.As(err, &ce) || ce.Kind != "realm" || ce.Field != "id" || !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("duplicate realm ID: %v", err)
	}
	if _, err := s.GetRealm(ctx, "other"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the rejected realm's name was indexed: %v", err)
	}
	if r, err := s.GetRealmByID(ctx, "r1"); err != nil || r.Name != "demo" {
		t.Errorf("the first realm changed: %+v %v", r, err)
	}
}

// Session IDs and token hashes are never overwritten: that would orphan
// index rows, and re-storing a rotated-out token would reset its UsedAt and
// defeat reuse detection.
func TestSessionAndTokenIDsAreNotOverwritten(t *testing.T) {
	s := newStore(t)
	storetest.Seed(t, s)
	now := time.Now()
	exp := now.Add(time.Hour)
	rt0 := storetest.StartSession(t, s, "s1", exp)
	wantConflict := func(what string, err error, field string) {
		t.Helper()
		var ce *store.ConflictError
		if !errors.As(err, &ce) || ce.Field != field {
			t.Errorf("%s: %v, want a conflict on %s", what, err, field)
		}
	}
	wantConflict("same session ID", s.CreateSession(ctx, "r1",
		store.Session{ID: "s1", ClientID: "c1", UserID: "other", ExpiresAt: now.Add(time.Minute)},
		store.RefreshToken{Hash: "fresh", ExpiresAt: exp}), "id")
	wantConflict("same first token", s.CreateSession(ctx, "r1",
		store.Session{ID: "s2", ClientID: "c1", UserID: "u1", ExpiresAt: exp},
		store.RefreshToken{Hash: rt0.Hash, ExpiresAt: exp}), "hash")
	if _, err := s.GetRefreshToken(ctx, "r1", "fresh"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a rejected session's token was stored: %v", err)
	}
	if got, _ := s.ListSessions(ctx, "r1", store.SessionQuery{UserID: "other"}); len(got) != 0 {
		t.Errorf("a rejected session was indexed: %v", got)
	}
	if got, _ := s.GetSession(ctx, "r1", "s2"); got.ID != "" {
		t.Errorf("a rejected session was stored: %+v", got)
	}

	// Rotating to the token's own hash is refused and writes nothing: the
	// token is still current and rotates normally afterwards.
	_, err := s.RotateRefreshToken(ctx, "r1", rt0.Hash, store.RefreshToken{Hash: rt0.Hash, ExpiresAt: exp}, store.RotationPolicy{}, now)
	wantConflict("rotate to itself", err, "hash")
	if got, _ := s.GetRefreshToken(ctx, "r1", rt0.Hash); !got.UsedAt.IsZero() {
		t.Errorf("refused rotation marked the token used: %+v", got)
	}
	if _, err := s.RotateRefreshToken(ctx, "r1", rt0.Hash, store.RefreshToken{Hash: "s1-1", ExpiresAt: exp}, store.RotationPolicy{}, now); err != nil {
		t.Fatal(err)
	}
}

// A jti revoked twice keeps its later expiry, and the expiry index holds one
// row per jti.
func TestRevokeKeepsLaterExpiry(t *testing.T) {
	now := time.Now()
	for name, exps := range map[string][]time.Duration{
		"later second":   {time.Minute, time.Hour},
		"earlier second": {time.Hour, time.Minute},
	} {
		t.Run(name, func(t *testing.T) {
			s := newStore(t)
			storetest.Seed(t, s)
			for _, d := range exps {
				must(t, s.RevokeAccessToken(ctx, "r1", "jti", now.Add(d)))
			}
			n, err := s.DeleteExpired(ctx, now.Add(10*time.Minute), 100)
			must(t, err)
			if ok, _ := s.IsAccessTokenRevoked(ctx, "r1", "jti"); !ok || n != 0 {
				t.Fatalf("revocation forgotten at its earlier expiry (deleted %d)", n)
			}
			n, err = s.DeleteExpired(ctx, now.Add(2*time.Hour), 100)
			must(t, err)
			if ok, _ := s.IsAccessTokenRevoked(ctx, "r1", "jti"); ok || n != 1 {
				t.Fatalf("after the later expiry: revoked %v, deleted %d rows, want false and 1", ok, n)
			}
		})
	}
}

// DeleteRealm leaves the realm's rows in the global expiry index to the
// janitor, which drops them without error.
func TestDeleteExpiredAfterRealmDeletion(t *testing.T) {
	s := newStore(t)
	r := storetest.Seed(t, s)
	storetest.StartSession(t, s, "s1", time.Now().Add(time.Minute))
	must(t, s.DeleteRealm(ctx, r.ID))
	n, err := s.DeleteExpired(ctx, time.Now().Add(time.Hour), 100)
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpired = %d, %v (want the 2 orphaned index rows)", n, err)
	}
	if n, err := s.DeleteExpired(ctx, time.Now().Add(time.Hour), 100); err != nil || n != 0 {
		t.Fatalf("second DeleteExpired = %d, %v", n, err)
	}
}

// Ending a session kills its refresh tokens at once; their rows, which no
// index ties to the session any more, go when they expire.
func TestEndedSessionTokensExpireWithTheJanitor(t *testing.T) {
	s := newStore(t)
	storetest.Seed(t, s)
	exp := time.Now().Add(time.Minute)
	rt := storetest.StartSession(t, s, "s1", exp)
	next := store.RefreshToken{Hash: "s1-1", ClientID: "c1", UserID: "u1", ExpiresAt: exp}
	must(t, errOf(s.RotateRefreshToken(ctx, "r1", rt.Hash, next, store.RotationPolicy{}, time.Now())))
	must(t, s.DeleteSession(ctx, "r1", "s1"))
	for _, h := range []string{rt.Hash, next.Hash} {
		if _, err := s.GetRefreshToken(ctx, "r1", h); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("token %s of an ended session: %v, want ErrNotFound", h, err)
		}
	}
	if n, err := s.DeleteExpired(ctx, exp.Add(time.Second), 100); err != nil || n != 2 {
		t.Fatalf("DeleteExpired = %d, %v (want the 2 token rows)", n, err)
	}
	if n, err := s.DeleteExpired(ctx, exp.Add(time.Second), 100); err != nil || n != 0 {
		t.Fatalf("second DeleteExpired = %d, %v", n, err)
	}
}

// Writes to a closed store, batched or not, wrap store.ErrUnavailable.
func TestClosedStoreIsUnavailable(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	storetest.Seed(t, s)
	rt := storetest.StartSession(t, s, "s1", time.Now().Add(time.Hour))
	must(t, s.Close())
	now := time.Now()
	for name, err := range map[string]error{
		"CreateRealm":        s.CreateRealm(ctx, store.Realm{ID: "x", Name: "x"}),
		"UpdateClient":       errOf(s.UpdateClient(ctx, "r1", "c1", func(*store.Client) error { return nil })),
		"CreateSession":      s.CreateSession(ctx, "r1", store.Session{ID: "s2"}, store.RefreshToken{Hash: "h2"}),
		"RotateRefreshToken": errOf(s.RotateRefreshToken(ctx, "r1", rt.Hash, store.RefreshToken{Hash: "h3"}, store.RotationPolicy{}, now)),
		"DeleteSession":      s.DeleteSession(ctx, "r1", "s1"),
		"RevokeAccessToken":  s.RevokeAccessToken(ctx, "r1", "jti", now.Add(time.Hour)),
	} {
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s on a closed store: %v, want ErrUnavailable", name, err)
		}
	}
}

// Batched commits share one transaction: a call that fails (expired or
// unknown token) must get its own error and must not fail, undo or double
// apply the rotations batched with it.
func TestBatchedRotationsAreIsolated(t *testing.T) {
	s := newStore(t)
	storetest.Seed(t, s)
	now := time.Now()
	expired := storetest.StartSession(t, s, "expired", now.Add(time.Millisecond))
	later := now.Add(time.Second)

	const chains, steps = 8, 15
	var wg sync.WaitGroup
	heads := make([]store.RefreshToken, chains)
	for i := range chains {
		heads[i] = storetest.StartSession(t, s, fmt.Sprint("s", i), now.Add(time.Hour))
		wg.Go(func() {
			cur := heads[i]
			for j := 1; j <= steps; j++ {
				next := store.RefreshToken{Hash: fmt.Sprintf("s%d-%d", i, j), SessionID: cur.SessionID, ExpiresAt: now.Add(time.Hour)}
				old, err := s.RotateRefreshToken(ctx, "r1", cur.Hash, next, store.RotationPolicy{}, later)
				if err != nil {
					t.Errorf("chain %d step %d: %v", i, j, err)
					return
				}
				if old.Hash != cur.Hash || old.UseCount != 1 || old.SessionID != cur.SessionID {
					t.Errorf("chain %d step %d returned %+v", i, j, old)
				}
				cur = next
			}
			heads[i] = cur
		})
	}
	for range 4 {
		wg.Go(func() {
			for range steps {
				_, err := s.RotateRefreshToken(ctx, "r1", expired.Hash, store.RefreshToken{Hash: "never"}, store.RotationPolicy{}, later)
				if !errors.Is(err, store.ErrTokenExpired) {
					t.Errorf("expired token: %v", err)
				}
				_, err = s.RotateRefreshToken(ctx, "r1", "unknown", store.RefreshToken{Hash: "never"}, store.RotationPolicy{}, later)
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("unknown token: %v", err)
				}
			}
		})
	}
	wg.Wait()
	for i, head := range heads {
		if got, err := s.GetRefreshToken(ctx, "r1", head.Hash); err != nil || !got.UsedAt.IsZero() {
			t.Errorf("chain %d head: %+v %v", i, got, err)
		}
		if sess, err := s.GetSession(ctx, "r1", head.SessionID); err != nil || !sess.LastRefresh.Equal(later) {
			t.Errorf("chain %d session: %+v %v", i, sess, err)
		}
	}
	if got, _ := s.GetRefreshToken(ctx, "r1", expired.Hash); !got.UsedAt.IsZero() {
		t.Errorf("the expired token was marked used: %+v", got)
	}
	if _, err := s.GetRefreshToken(ctx, "r1", "never"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused rotation stored its token: %v", err)
	}
	must(t, s.Check())
}

// BenchmarkRotateRefreshToken is the refresh hot path on this backend.
func BenchmarkRotateRefreshToken(b *testing.B) {
	s := newStore(b)
	storetest.BenchRotateRefreshToken(b, s, storetest.Seed(b, s).ID)
}

func BenchmarkGetClientByClientID(b *testing.B) {
	s := newStore(b)
	storetest.BenchGetClientByClientID(b, s, storetest.Seed(b, s).ID, "app")
}

// Open accepts only files of this build's layout version: a store reopens,
// but a file with buckets and no version (a pre-release layout, or not a
// Gatehouse store) or with another version is refused, not half-read.
func TestOpenChecksSchemaVersion(t *testing.T) {
	dir := t.TempDir()
	ours := filepath.Join(dir, "gatehouse.db")
	s := open(t, ours)
	storetest.Seed(t, s)
	must(t, s.Close())
	s = open(t, ours)
	if _, err := s.GetClientByClientID(ctx, "r1", "app"); err != nil {
		t.Fatalf("reopened store: %v", err)
	}
	must(t, s.Close())

	for name, prepare := range map[string]func(tx *bbolt.Tx) error{
		"pre-release layout": func(tx *bbolt.Tx) error {
			_, err := tx.CreateBucket([]byte("realms"))
			return err
		},
		"another version": func(tx *bbolt.Tx) error {
			b, err := tx.CreateBucket([]byte("meta"))
			if err != nil {
				return err
			}
			return b.Put([]byte("schema"), []byte("3"))
		},
	} {
		path := filepath.Join(dir, name+".db")
		db, err := bbolt.Open(path, 0o600, nil)
		must(t, err)
		must(t, db.Update(prepare))
		must(t, db.Close())
		if s, err := bolt.Open(path, bolt.Options{Timeout: lockTimeout}); err == nil {
			s.Close()
			t.Errorf("%s: Open accepted it", name)
		}
	}
}

// A version-1 file named each topology's realm; opening it binds every
// topology to that realm's ID, once, so renaming the realm keeps it, and a
// topology whose realm is gone stays unbound.
func TestOpenUpgradesTopologiesToRealmIDs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	s := open(t, path)
	storetest.Seed(t, s)
	must(t, s.Close())
	db, err := bbolt.Open(path, 0o600, nil)
	must(t, err)
	must(t, db.Update(func(tx *bbolt.Tx) error {
		tops := tx.Bucket([]byte("topologies"))
		for name, realm := range map[string]string{"sandbox": "demo", "orphan": "gone"} {
			if err := tops.Put([]byte(name), []byte(`{"name":"`+name+`","realm":"`+realm+`","authentication":"basic","ttl":"PT1H"}`)); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema"), []byte("1"))
	}))
	must(t, db.Close())

	for range 2 { // the second open finds version 2 and changes nothing
		s = open(t, path)
		got, err := s.GetTopology(ctx, "sandbox")
		must(t, err)
		if got.RealmID != "r1" || got.Authentication != "basic" || got.TTL != "PT1H" {
			t.Errorf("sandbox after upgrade = %+v, want realm ID r1 and its settings", got)
		}
		orphan, err := s.GetTopology(ctx, "orphan")
		must(t, err)
		if orphan.RealmID != "" {
			t.Errorf("orphan bound to realm %q", orphan.RealmID)
		}
		must(t, s.Close())
	}
}

// A file written before the authorization-services buckets existed gets
// them at Open (read-only, see authz_readonly_test.go).
func TestOpenAddsAuthzBucketsToOlderRealms(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	s := open(t, path)
	storetest.Seed(t, s)
	must(t, s.Close())
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: lockTimeout})
	must(t, err)
	must(t, db.Update(func(tx *bbolt.Tx) error {
		rb := tx.Bucket([]byte("realm/r1"))
		for _, b := range []string{"authz_resources", "authz_resources_by_name", "authz_resources_by_owner", "authz_resources_by_parent",
			"authz_resources_by_key", "authz_scopes", "authz_scopes_by_name", "authz_policies", "authz_policies_by_name"} {
			if err := rb.DeleteBucket([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	}))
	must(t, db.Close())

	s = open(t, path)
	defer s.Close()
	must(t, s.CreateAuthzScope(ctx, "r1", store.AuthzScope{ID: "s1", ServerID: "c1", Name: "read"}))
	must(t, s.CreateAuthzResource(ctx, "r1", store.AuthzResource{ID: "x1", ServerID: "c1", Name: "m", AccessMode: "private"}))
	rs, err := s.ListAuthzResources(ctx, "r1", "c1", store.AuthzResourceQuery{})
	if err != nil || len(rs) != 1 {
		t.Fatalf("after upgrade: %v %v", rs, err)
	}
}
