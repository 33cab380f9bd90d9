package bolt_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/bolt"
	"github.com/gatehouse/gatehouse/store/storetest"
)

// bulkUsers covers every index CreateUser maintains: mixed-case username
// and email, a user without email, and a service account.
func bulkUsers() []store.User {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return []store.User{
		{ID: "u-bob", Username: "Bob", Email: "Bob@Example.com", Enabled: true, FirstName: "Bob", CreatedAt: at,
			RoleIDs: []string{"role-1"}, Attributes: map[string][]string{"dept": {"ops"}},
			Credentials: []store.Credential{{ID: "cred-1", Type: "password", Algorithm: "argon2", Iterations: 5,
				Salt: []byte("0123456789abcdef"), Hash: []byte("hash"), Params: map[string]string{"memory": "7168"}, CreatedAt: at}}},
		{ID: "u-carol", Username: "carol", CreatedAt: at},
		{ID: "u-sa", Username: "service-account-app", Enabled: true, ServiceAccountClientID: "c1", CreatedAt: at},
	}
}

// dumpBucket renders a bucket, nested buckets included, as sorted
// "path=value" lines.
func dumpBucket(b *bbolt.Bucket, prefix string, out *strings.Builder) {
	_ = b.ForEach(func(k, v []byte) error {
		if v == nil {
			dumpBucket(b.Bucket(k), prefix+string(k)+"/", out)
			return nil
		}
		out.WriteString(prefix + string(k) + "=" + string(v) + "\n")
		return nil
	})
}

// dumpRealm closes s and returns the raw contents of realm r1's bucket.
func dumpRealm(t *testing.T, s *bolt.Store) string {
	t.Helper()
	path := s.Path()
	must(t, s.Close())
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: lockTimeout, ReadOnly: true})
	must(t, err)
	defer db.Close()
	var out strings.Builder
	must(t, db.View(func(tx *bbolt.Tx) error {
		rb := tx.Bucket([]byte("realm/r1"))
		if rb == nil {
			return errors.New("realm bucket missing")
		}
		dumpBucket(rb, "", &out)
		return nil
	}))
	return out.String()
}

func twoStores(t *testing.T) (one, bulk *bolt.Store) {
	t.Helper()
	one = open(t, filepath.Join(t.TempDir(), "one.db"))
	bulk = open(t, filepath.Join(t.TempDir(), "bulk.db"))
	for _, s := range []*bolt.Store{one, bulk} {
		must(t, s.CreateRealm(ctx, store.Realm{ID: "r1", Name: "demo", Enabled: true}))
		must(t, s.CreateClient(ctx, "r1", store.Client{ID: "c1", ClientID: "app"}))
	}
	return one, bulk
}

// loadedStores holds bulkUsers in both stores: created one by one in the
// first, bulk-loaded in the second.
func loadedStores(t *testing.T) (one, bulk *bolt.Store, users []store.User) {
	t.Helper()
	one, bulk = twoStores(t)
	users = bulkUsers()
	for _, u := range users {
		must(t, one.CreateUser(ctx, "r1", u))
	}
	must(t, bulk.CreateUsers(ctx, "r1", users))
	return one, bulk, users
}

// CreateUsers writes byte for byte the rows and index entries CreateUser
// writes, and its users are found by ID, username and email (in any case)
// exactly as CreateUser's are.
func TestCreateUsersWritesWhatCreateUserWrites(t *testing.T) {
	one, bulk, users := loadedStores(t)

	for _, u := range users {
		type lookup struct {
			name string
			get  func(*bolt.Store) (store.User, error)
		}
		lookups := []lookup{
			{"id", func(s *bolt.Store) (store.User, error) { return s.GetUser(ctx, "r1", u.ID) }},
			{"username", func(s *bolt.Store) (store.User, error) {
				return s.GetUserByUsername(ctx, "r1", strings.ToUpper(u.Username))
			}},
		}
		if u.Email != "" {
			lookups = append(lookups, lookup{"email", func(s *bolt.Store) (store.User, error) {
				return s.GetUserByEmail(ctx, "r1", strings.ToLower(u.Email))
			}})
		}
		for _, l := range lookups {
			want, err := l.get(one)
			must(t, err)
			got, err := l.get(bulk)
			must(t, err)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s by %s: bulk-loaded %+v, created %+v", u.ID, l.name, got, want)
			}
			if got.ID != u.ID {
				t.Errorf("%s by %s found %s", u.ID, l.name, got.ID)
			}
		}
	}
	for _, q := range []store.UserQuery{{}, {ServiceAccounts: true}, {Username: "bob", Exact: true}} {
		want, err := one.ListUsers(ctx, "r1", q)
		must(t, err)
		got, err := bulk.ListUsers(ctx, "r1", q)
		must(t, err)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ListUsers(%+v): bulk-loaded %v, created %v", q, got, want)
		}
	}

	if a, b := dumpRealm(t, one), dumpRealm(t, bulk); a != b {
		t.Fatalf("realm bucket differs:\nCreateUser:\n%s\nCreateUsers:\n%s", a, b)
	}
}

// A batch is refused with the ConflictError CreateUser gives for the same
// user, and nothing of it is written: not the users before the conflict,
// not their index entries.
func TestCreateUsersConflictsWriteNothing(t *testing.T) {
	one, bulk, _ := loadedStores(t)

	fresh := store.User{ID: "u-new", Username: "newcomer", Email: "new@example.com"}
	for _, tc := range []struct {
		name  string
		batch []store.User
		field string
	}{
		{"taken id", []store.User{fresh, {ID: "u-bob", Username: "other"}}, "id"},
		{"taken username", []store.User{fresh, {ID: "u-x", Username: "BOB"}}, "username"},
		{"taken email", []store.User{fresh, {ID: "u-x", Username: "x", Email: "bob@example.COM"}}, "email"},
		{"username twice in the batch", []store.User{fresh, {ID: "u-x", Username: "NewComer"}}, "username"},
		{"email twice in the batch", []store.User{fresh, {ID: "u-x", Username: "x", Email: "NEW@example.com"}}, "email"},
		{"id twice in the batch", []store.User{fresh, {ID: "u-new", Username: "x"}}, "id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ce *store.ConflictError
			err := bulk.CreateUsers(ctx, "r1", tc.batch)
			if !errors.As(err, &ce) || ce.Kind != "user" || ce.Field != tc.field {
				t.Fatalf("CreateUsers: %v, want a user %s conflict", err, tc.field)
			}
			// CreateUser, one at a time, refuses the same user the same way.
			err = nil
			for _, u := range tc.batch {
				if err = one.CreateUser(ctx, "r1", u); err != nil {
					break
				}
			}
			var ce1 *store.ConflictError
			if !errors.As(err, &ce1) || *ce1 != *ce {
				t.Fatalf("CreateUser: %v, CreateUsers: %v", err, ce)
			}
			must(t, one.DeleteUser(ctx, "r1", fresh.ID))
			if _, err := bulk.GetUser(ctx, "r1", fresh.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("the rest of a refused batch was written: %v", err)
			}
			for _, lookup := range []func() (store.User, error){
				func() (store.User, error) { return bulk.GetUserByUsername(ctx, "r1", fresh.Username) },
				func() (store.User, error) { return bulk.GetUserByEmail(ctx, "r1", fresh.Email) },
			} {
				if _, err := lookup(); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("an index entry of a refused batch was written: %v", err)
				}
			}
		})
	}
	// After the refused batches both files hold the same realm.
	if a, b := dumpRealm(t, one), dumpRealm(t, bulk); a != b {
		t.Fatalf("realm bucket differs after refused batches:\nCreateUser:\n%s\nCreateUsers:\n%s", a, b)
	}
}

func TestCreateUsersUnknownRealmAndCancel(t *testing.T) {
	s := newStore(t)
	storetest.Seed(t, s)
	if err := s.CreateUsers(ctx, "nope", bulkUsers()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown realm: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.CreateUsers(cctx, "r1", bulkUsers()); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
	if _, err := s.GetUser(ctx, "r1", "u-bob"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused batch was written: %v", err)
	}
	// An empty batch is a no-op, not an error.
	must(t, s.CreateUsers(ctx, "r1", nil))
}

// Keep the byte comparison honest: the dump sees a difference in one value.
func TestDumpBucketSeesDifferences(t *testing.T) {
	one, bulk := twoStores(t)
	must(t, one.CreateUser(ctx, "r1", store.User{ID: "u1", Username: "a"}))
	must(t, bulk.CreateUser(ctx, "r1", store.User{ID: "u1", Username: "b"}))
	a, b := dumpRealm(t, one), dumpRealm(t, bulk)
	if a == b || !bytes.Contains([]byte(a), []byte("u1")) {
		t.Fatalf("dumps of different realms compare equal:\n%s", a)
	}
}
