package realms

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

// A later start never changes the admin's password, but tells whether the
// one it was given is not the stored one, without counting a login failure.
func TestBootstrapOnBootstrappedStoreReportsAnIgnoredPassword(t *testing.T) {
	svc := NewService(openTestStore(t), zeroSealer(), nil)
	ctx := context.Background()
	if b, err := svc.Bootstrap(ctx, "root", "First-Password-1"); err != nil || !b.Created {
		t.Fatalf("first bootstrap: %+v, %v", b, err)
	}
	if _, err := svc.UpdateRealm(ctx, MasterRealm, func(r *store.Realm) error {
		r.BruteForce = store.BruteForcePolicy{Protected: true, FailureFactor: 1, PermanentLockout: true}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user, password string
		ignored        bool
	}{
		{"root", "First-Password-1", false},
		{"root", "", false},
		{"root", "Another-Password-2", true},
		{"someone-else", "First-Password-1", true},
	} {
		b, err := svc.Bootstrap(ctx, tc.user, tc.password)
		if err != nil || b.Created || b.PasswordIgnored != tc.ignored {
			t.Errorf("Bootstrap(%q, %q) = %+v, %v; want PasswordIgnored %v", tc.user, tc.password, b, err, tc.ignored)
		}
	}
	// The stored password still works: no lockout was counted.
	r, _ := svc.Realm(ctx, MasterRealm)
	if _, err := svc.AuthenticateUser(ctx, r.Realm, "root", "First-Password-1", "127.0.0.1"); err != nil {
		t.Errorf("admin login after later starts: %v", err)
	}
}

// failingUserWrites fails every user write outside realm creation: the
// separate commits bootstrap once made after creating master.
type failingUserWrites struct{ store.Store }

var errInjected = errors.New("injected store failure")

func (failingUserWrites) CreateUser(context.Context, string, store.User) error { return errInjected }
func (failingUserWrites) CreateUsers(context.Context, string, []store.User) error {
	return errInjected
}
func (failingUserWrites) UpdateUser(context.Context, string, string, func(*store.User) error) (store.User, error) {
	return store.User{}, errInjected
}

// conflictingAdmin makes the users part of realm creation fail inside the
// store's transaction, after the realm, its keys, roles and clients: a
// second user with the admin's username follows the admin.
type conflictingAdmin struct{ store.Store }

func (c conflictingAdmin) CreateRealmWith(ctx context.Context, r store.Realm, init store.RealmContents) error {
	if n := len(init.Users); n > 0 {
		dup := init.Users[n-1]
		dup.ID = NewID()
		init.Users = append(init.Users, dup)
	}
	return c.Store.CreateRealmWith(ctx, r, init)
}

// A first start that fails anywhere in the admin user part leaves no
// master realm behind, so the next start bootstraps from scratch instead of
// finding a master realm without an admin.
func TestBootstrapFailingInTheUserPartLeavesNoMasterRealm(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		wrap func(store.Store) store.Store
		user string
		// wantErr says whether Bootstrap failed as it should; nil: it
		// must succeed.
		wantErr func(error) bool
	}{
		{"user writes fail", func(s store.Store) store.Store { return failingUserWrites{s} }, "root", nil},
		{"user conflicts inside the transaction", func(s store.Store) store.Store { return conflictingAdmin{s} }, "root",
			func(err error) bool { return errors.Is(err, store.ErrAlreadyExists) }},
		{"admin username rejected", func(s store.Store) store.Store { return s }, ServiceAccountPrefix + "root",
			func(err error) bool { var v *ValidationError; return errors.As(err, &v) }},
	} {
		for backend, open := range map[string]func(testing.TB) store.Store{
			"memory": openTestStore,
			"bolt":   func(tb testing.TB) store.Store { return openBoltStore(tb) },
		} {
			t.Run(tc.name+"/"+backend, func(t *testing.T) {
				st := open(t)
				b, err := NewService(tc.wrap(st), zeroSealer(), nil).Bootstrap(ctx, tc.user, "First-Password-1")
				if tc.wantErr != nil && !tc.wantErr(err) {
					t.Fatalf("Bootstrap = %+v, %v; want it to fail", b, err)
				}
				if tc.wantErr == nil && err != nil {
					t.Fatalf("Bootstrap = %+v, %v; want success without separate user writes", b, err)
				}
				if tc.wantErr == nil {
					// The failing wrapper never saw a user write: the admin
					// came with the realm. Check it is really there.
					assertBootstrappedAdmin(t, NewService(st, zeroSealer(), nil), tc.user, "First-Password-1")
					return
				}
				if r, err := st.GetRealm(ctx, MasterRealm); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("after a failed bootstrap the store has master %+v, %v", r, err)
				}
				if list, _ := st.ListRealms(ctx); len(list) != 0 {
					t.Fatalf("after a failed bootstrap the store has realms %v", list)
				}
				// The next start, on a healthy store, bootstraps from scratch.
				svc := NewService(st, zeroSealer(), nil)
				if b, err := svc.Bootstrap(ctx, "root", "First-Password-1"); err != nil || !b.Created {
					t.Fatalf("bootstrap after the failed one: %+v, %v", b, err)
				}
				assertBootstrappedAdmin(t, svc, "root", "First-Password-1")
			})
		}
	}
}

// assertBootstrappedAdmin checks master has exactly one user, username,
// who logs in with password and holds master's admin and create-realm
// roles and the realm's default roles.
func assertBootstrappedAdmin(t *testing.T, svc *Service, username, password string) {
	t.Helper()
	ctx := context.Background()
	st, err := svc.Realm(ctx, MasterRealm)
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.AuthenticateUser(ctx, st.Realm, username, password, "127.0.0.1")
	if err != nil {
		t.Fatalf("admin login: %v", err)
	}
	for _, want := range []string{st.Realm.AdminRoleIDs[AdminRole], st.Realm.AdminRoleIDs[CreateRealmRole], st.Realm.DefaultRoleID} {
		if want == "" || !slices.Contains(u.RoleIDs, want) {
			t.Errorf("admin roles %v lack %q", u.RoleIDs, want)
		}
	}
	if n, err := svc.store.CountUsers(ctx, st.Realm.ID, store.UserQuery{}); err != nil || n != 1 {
		t.Errorf("master has %d users (%v), want 1", n, err)
	}
}

// The paths that bootstrap a server: first start with a generated
// password, first start with a given one, and a later start on a
// bootstrapped store, which changes nothing.
func TestBootstrapFirstStartAndLaterStart(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name          string
		password      string
		existing      bool
		wantCreated   bool
		wantGenerated bool
		wantLogin     string // the password that must log the admin in; "" = the generated one
	}{
		{name: "first start, generated password", wantCreated: true, wantGenerated: true},
		{name: "first start, given password", password: "Given-Password-1", wantCreated: true, wantLogin: "Given-Password-1"},
		{name: "later start", password: "Given-Password-1", existing: true, wantLogin: "Before-Password-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := NewService(openTestStore(t), zeroSealer(), nil)
			if tc.existing {
				if _, err := svc.Bootstrap(ctx, "admin", "Before-Password-1"); err != nil {
					t.Fatal(err)
				}
			}
			b, err := svc.Bootstrap(ctx, "", tc.password)
			if err != nil {
				t.Fatal(err)
			}
			if b.Created != tc.wantCreated || (b.GeneratedPassword != "") != tc.wantGenerated {
				t.Fatalf("Bootstrap = %+v; want Created %v, generated password %v", b, tc.wantCreated, tc.wantGenerated)
			}
			if tc.wantCreated && b.Username != "admin" {
				t.Errorf("Username = %q, want the default admin", b.Username)
			}
			login := tc.wantLogin
			if login == "" {
				login = b.GeneratedPassword
			}
			assertBootstrappedAdmin(t, svc, "admin", login)
			st, _ := svc.Realm(ctx, MasterRealm)
			if st.Realm.AccessTokenLifespan != 60 || !st.Realm.Enabled {
				t.Errorf("master = %+v", st.Realm)
			}
			for _, cid := range []string{AdminCLIClientID, RealmManagementClientID} {
				if _, err := svc.store.GetClientByClientID(ctx, st.Realm.ID, cid); err != nil {
					t.Errorf("master client %s: %v", cid, err)
				}
			}
		})
	}
}

// Replicas starting at once on one empty PostgreSQL database: exactly one
// creates master with its admin, every other's create fails as a whole on
// the realm name (store.ErrAlreadyExists, which serve answers by looking
// again) and leaves no second admin anywhere; looking again finds master.
func TestBootstrapReplicasFirstStartAtOnce(t *testing.T) {
	const n = 4
	svc := replicaServices(t, n)
	ctx := context.Background()
	results := make([]Bootstrap, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = svc[i].Bootstrap(ctx, "root", "First-Password-1") })
	}
	wg.Wait()
	created := 0
	for i := range n {
		switch {
		case errs[i] == nil:
			if results[i].Created {
				created++
			}
		case errors.Is(errs[i], store.ErrAlreadyExists):
			b, err := svc[i].Bootstrap(ctx, "root", "First-Password-1")
			if err != nil || b.Created || b.PasswordIgnored {
				t.Errorf("replica %d looking again: %+v, %v", i, b, err)
			}
		default:
			t.Errorf("replica %d: %v", i, errs[i])
		}
	}
	if created != 1 {
		t.Fatalf("%d replicas created master, want exactly 1", created)
	}
	for i := range n {
		assertBootstrappedAdmin(t, svc[i], "root", "First-Password-1")
	}
}
