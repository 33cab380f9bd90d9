package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// realmTests cover the realm itself: unique names, rename, delete cascades, create-with-contents.
var realmTests = []conformanceTest{
	{"RealmCRUDAndUniqueName", testRealmCRUD},
	{"RealmRenameAndAbortedUpdate", testRealmRename},
	{"RealmDeleteRemovesEverything", testRealmDelete},
	{"RealmCreateWithContentsAllOrNothing", testRealmCreateWith},
	{"RealmCreateWithUsersAllOrNothing", testRealmCreateWithUsers},
	{"RealmUpdateRotatingKeyAllOrNothing", testRealmUpdateRotatingKey},
}

func testRealmCRUD(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	got, err := s.GetRealm(ctx, "demo")
	must(t, err)
	if got.ID != r.ID || !got.Enabled {
		t.Fatalf("GetRealm = %+v", got)
	}
	if got, err := s.GetRealmByID(ctx, r.ID); err != nil || got.Name != "demo" {
		t.Fatalf("GetRealmByID = %+v, %v", got, err)
	}
	wantErr(t, errOf(s.GetRealmByID(ctx, "missing")), store.ErrNotFound)
	wantErr(t, errOf(s.GetRealm(ctx, "missing")), store.ErrNotFound)
	wantConflict(t, s.CreateRealm(ctx, store.Realm{ID: id("realm"), Name: "demo"}), "realm", "name")
	_, err = s.GetRealm(ctx, "Demo")
	wantErr(t, err, store.ErrNotFound) // lookups are exact
	// but a name differing only by case is taken: two realms must not
	// pass for one another.
	wantConflict(t, s.CreateRealm(ctx, store.Realm{ID: id("realm"), Name: "DEMO"}), "realm", "name")
	mustRealm(t, s, "beta")
	mustRealm(t, s, "alpha")
	list, err := s.ListRealms(ctx)
	must(t, err)
	var names []string
	for _, r := range list {
		names = append(names, r.Name)
	}
	if fmt.Sprint(names) != "[alpha beta demo]" {
		t.Fatalf("ListRealms = %v, want [alpha beta demo]", names)
	}
	if got, _ := s.GetRealm(ctx, "demo"); got.ID != r.ID {
		t.Fatal("the conflicting create replaced the realm")
	}
}

func testRealmCreateWith(t *testing.T, s store.Store) {
	now := clock()
	contents := func() store.RealmContents {
		c := store.Client{ID: id("c"), ClientID: "account", Enabled: true, CreatedAt: now}
		return store.RealmContents{
			Keys:    []store.SigningKey{{KID: id("k"), Algorithm: "RS256", Status: store.KeyActive, CreatedAt: now}},
			Roles:   []store.Role{{ID: id("r"), Name: "offline_access"}, {ID: id("r"), Name: "view-profile", ClientID: c.ID}},
			Clients: []store.Client{c},
		}
	}
	r := store.Realm{ID: id("realm"), Name: "demo", Enabled: true, CreatedAt: now}
	init := contents()
	must(t, s.CreateRealmWith(ctx, r, init))
	wantEqual(t, "realm", try(s.GetRealm(ctx, "demo")).must(t), r)
	wantEqual(t, "keys", try(s.ListKeys(ctx, r.ID)).must(t), init.Keys)
	wantEqual(t, "client", try(s.GetClientByClientID(ctx, r.ID, "account")).must(t), init.Clients[0])
	wantEqual(t, "client role", try(s.GetRoleByName(ctx, r.ID, init.Clients[0].ID, "view-profile")).must(t), init.Roles[1])
	wantConflict(t, s.CreateRealmWith(ctx, store.Realm{ID: id("realm"), Name: "DEMO"}, contents()), "realm", "name")

	// A conflict among the contents (two clients with one clientId) aborts
	// the realm too.
	bad := contents()
	bad.Clients = append(bad.Clients, store.Client{ID: id("c"), ClientID: "account"})
	other := store.Realm{ID: id("realm"), Name: "other", Enabled: true, CreatedAt: now}
	wantConflict(t, s.CreateRealmWith(ctx, other, bad), "client", "clientId")
	wantGone(t, "aborted create", map[string]error{
		"realm by name": errOf(s.GetRealm(ctx, "other")),
		"realm by id":   errOf(s.GetRealmByID(ctx, other.ID)),
	})
	// The name stays free.
	must(t, s.CreateRealmWith(ctx, other, contents()))
}

// First start creates master with its admin user in the same transaction:
// the user's credential and role mappings arrive with the realm, and a
// conflict in the users part leaves no realm behind.
func testRealmCreateWithUsers(t *testing.T, s store.Store) {
	now := clock()
	contents := func() store.RealmContents {
		admin := store.Role{ID: id("r"), Name: "admin"}
		return store.RealmContents{
			Keys:    []store.SigningKey{{KID: id("k"), Algorithm: "RS256", Status: store.KeyActive, CreatedAt: now}},
			Roles:   []store.Role{admin},
			Clients: []store.Client{{ID: id("c"), ClientID: "admin-cli", Enabled: true, PublicClient: true, CreatedAt: now}},
			Users: []store.User{{
				ID: id("u"), Username: "root", Enabled: true, CreatedAt: now, RoleIDs: []string{admin.ID},
				Credentials: []store.Credential{{ID: id("cred"), Type: "password", CreatedAt: now, Algorithm: "argon2", Salt: []byte("salt"), Hash: []byte("hash")}},
			}},
		}
	}
	r := store.Realm{ID: id("realm"), Name: "master", Enabled: true, CreatedAt: now}
	init := contents()
	must(t, s.CreateRealmWith(ctx, r, init))
	wantEqual(t, "admin user", try(s.GetUserByUsername(ctx, r.ID, "root")).must(t), init.Users[0])
	wantEqual(t, "admin user by id", try(s.GetUser(ctx, r.ID, init.Users[0].ID)).must(t), init.Users[0])
	if n, err := s.CountUsers(ctx, r.ID, store.UserQuery{}); err != nil || n != 1 {
		t.Fatalf("CountUsers = %d, %v; want 1", n, err)
	}

	// A second replica starting at the same moment loses on the realm
	// name and adds no user anywhere.
	late := contents()
	wantConflict(t, s.CreateRealmWith(ctx, store.Realm{ID: id("realm"), Name: "master", Enabled: true, CreatedAt: now}, late), "realm", "name")
	wantErr(t, errOf(s.GetUser(ctx, r.ID, late.Users[0].ID)), store.ErrNotFound)

	// A conflict in the last part (two users with one username, after the
	// realm, its keys, roles and clients) leaves nothing behind.
	for name, users := range map[string]func(u store.User) []store.User{
		"username": func(u store.User) []store.User {
			dup := u
			dup.ID, dup.Credentials = id("u"), nil
			dup.Username = "ROOT"
			return []store.User{u, dup}
		},
		"id": func(u store.User) []store.User {
			dup := u
			dup.Username = "other"
			return []store.User{u, dup}
		},
	} {
		bad := contents()
		bad.Users = users(bad.Users[0])
		other := store.Realm{ID: id("realm"), Name: "other", Enabled: true, CreatedAt: now}
		wantConflict(t, s.CreateRealmWith(ctx, other, bad), "user", name)
		wantGone(t, "create aborted by a user "+name+" conflict", map[string]error{
			"realm by name": errOf(s.GetRealm(ctx, "other")),
			"realm by id":   errOf(s.GetRealmByID(ctx, other.ID)),
			"user":          errOf(s.GetUser(ctx, other.ID, bad.Users[0].ID)),
			"user by name":  errOf(s.GetUserByUsername(ctx, other.ID, "root")),
			"client":        errOf(s.GetClientByClientID(ctx, other.ID, "admin-cli")),
		})
		if keys, _ := s.ListKeys(ctx, other.ID); len(keys) != 0 {
			t.Fatalf("aborted create kept keys %v", keys)
		}
	}
	// The name and the IDs stay free.
	other := store.Realm{ID: id("realm"), Name: "other", Enabled: true, CreatedAt: now}
	good := contents()
	must(t, s.CreateRealmWith(ctx, other, good))
	wantEqual(t, "user after the aborted creates", try(s.GetUserByUsername(ctx, other.ID, "root")).must(t), good.Users[0])
}

func testRealmRename(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "old")
	mustRealm(t, s, "taken")
	up, err := s.UpdateRealm(ctx, r.ID, func(x *store.Realm) error { x.Name = "new"; x.AccessTokenLifespan = 42; return nil })
	must(t, err)
	if up.Name != "new" || up.Version != r.Version+1 || up.ID != r.ID {
		t.Fatalf("updated = %+v", up)
	}
	_, err = s.GetRealm(ctx, "old")
	wantErr(t, err, store.ErrNotFound)
	if got, _ := s.GetRealm(ctx, "new"); got.ID != r.ID || got.AccessTokenLifespan != 42 || got.Version != up.Version {
		t.Fatalf("renamed realm = %+v", got)
	}
	if got, _ := s.GetRealmByID(ctx, r.ID); got.Name != "new" {
		t.Fatalf("by ID after rename = %+v", got)
	}
	// Every successful update bumps the version, renamed or not.
	up2, err := s.UpdateRealm(ctx, r.ID, func(x *store.Realm) error { x.DisplayName = "New"; return nil })
	must(t, err)
	if up2.Version != up.Version+1 {
		t.Fatalf("version %d after %d", up2.Version, up.Version)
	}
	_, err = s.UpdateRealm(ctx, r.ID, func(x *store.Realm) error { x.Name = "taken"; return nil })
	wantConflict(t, err, "realm", "name")
	if got, _ := s.GetRealm(ctx, "taken"); got.ID == r.ID {
		t.Fatal("conflicting rename took the other realm's name")
	}
	_, err = s.UpdateRealm(ctx, r.ID, func(x *store.Realm) error { x.Name = "Taken"; return nil })
	wantConflict(t, err, "realm", "name")
	// A realm may change the case of its own name, and its old spelling is
	// free afterwards.
	if _, err := s.UpdateRealm(ctx, r.ID, func(x *store.Realm) error { x.Name = "NEW"; return nil }); err != nil {
		t.Fatalf("case-only rename: %v", err)
	}
	if got, _ := s.GetRealm(ctx, "NEW"); got.ID != r.ID {
		t.Fatalf("after case-only rename: %+v", got)
	}
	up2, err = s.UpdateRealm(ctx, r.ID, func(x *store.Realm) error { x.Name = "new"; return nil })
	must(t, err)
	boom := errors.New("boom")
	_, err = s.UpdateRealm(ctx, r.ID, func(x *store.Realm) error { x.Name = "other"; x.AccessTokenLifespan = 1; return boom })
	if err != boom {
		t.Fatalf("aborted update returned %v, want the fn's error as is", err)
	}
	if got, _ := s.GetRealm(ctx, "new"); got.AccessTokenLifespan != 42 || got.Version != up2.Version {
		t.Fatalf("aborted update changed the realm: %+v", got)
	}
	wantErr(t, errOf(s.GetRealm(ctx, "other")), store.ErrNotFound)
	_, err = s.UpdateRealm(ctx, "missing", func(*store.Realm) error { return nil })
	wantErr(t, err, store.ErrNotFound)
	// The old names are free again, whatever their case.
	mustRealm(t, s, "old")
	mustRealm(t, s, "nEw2")
	if _, err := s.UpdateRealm(ctx, r.ID, func(x *store.Realm) error { x.Name = "renamed"; return nil }); err != nil {
		t.Fatal(err)
	}
	mustRealm(t, s, "NEW")
}

func testRealmDelete(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	c, u, hash := fill(t, s, r.ID)
	sessions, err := s.ListSessions(ctx, r.ID, store.SessionQuery{UserID: u.ID})
	must(t, err)
	if len(sessions) != 1 {
		t.Fatalf("sessions before delete = %v", sessions)
	}
	sid := sessions[0].ID
	other := mustRealm(t, s, "other")
	oc, ou, ohash := fill(t, s, other.ID)

	must(t, s.DeleteRealm(ctx, r.ID))
	wantGone(t, "deleted realm", map[string]error{
		"realm by name": errOf(s.GetRealm(ctx, "demo")),
		"realm by ID":   errOf(s.GetRealmByID(ctx, r.ID)),
		"client":        errOf(s.GetClient(ctx, r.ID, c.ID)),
		"user":          errOf(s.GetUser(ctx, r.ID, u.ID)),
		"session":       errOf(s.GetSession(ctx, r.ID, sid)),
		"refresh token": errOf(s.GetRefreshToken(ctx, r.ID, hash)),
	})
	wantErr(t, s.DeleteRealm(ctx, r.ID), store.ErrNotFound)
	if list, _ := s.ListRealms(ctx); len(list) != 1 || list[0].ID != other.ID {
		t.Fatalf("ListRealms after delete = %v", list)
	}

	// The other realm is untouched.
	wantThere(t, "other realm", map[string]error{
		"client":        errOf(s.GetClientByClientID(ctx, other.ID, oc.ClientID)),
		"user":          errOf(s.GetUserByUsername(ctx, other.ID, ou.Username)),
		"refresh token": errOf(s.GetRefreshToken(ctx, other.ID, ohash)),
		"realm role":    errOf(s.GetRoleByName(ctx, other.ID, "", "reader")),
	})
	if ok, _ := s.IsAccessTokenRevoked(ctx, other.ID, "jti-"+other.ID); !ok {
		t.Error("other realm's revocation lost")
	}

	// Same name, new ID: none of the old data is visible.
	r2 := mustRealm(t, s, "demo")
	wantGone(t, "re-created realm", map[string]error{
		"client by clientId": errOf(s.GetClientByClientID(ctx, r2.ID, "app")),
		"client by ID":       errOf(s.GetClient(ctx, r2.ID, c.ID)),
		"user by username":   errOf(s.GetUserByUsername(ctx, r2.ID, u.Username)),
		"user by email":      errOf(s.GetUserByEmail(ctx, r2.ID, u.Email)),
		"user by ID":         errOf(s.GetUser(ctx, r2.ID, u.ID)),
		"realm role":         errOf(s.GetRoleByName(ctx, r2.ID, "", "reader")),
		"client role":        errOf(s.GetRoleByName(ctx, r2.ID, c.ID, "viewer")),
		"session":            errOf(s.GetSession(ctx, r2.ID, sid)),
		"refresh token":      errOf(s.GetRefreshToken(ctx, r2.ID, hash)),
	})
	for name, n := range map[string]func() (int, error){
		"keys":         func() (int, error) { k, err := s.ListKeys(ctx, r2.ID); return len(k), err },
		"realm roles":  func() (int, error) { k, err := s.ListRoles(ctx, r2.ID, "", store.Page{}); return len(k), err },
		"client roles": func() (int, error) { k, err := s.ListRoles(ctx, r2.ID, c.ID, store.Page{}); return len(k), err },
		"clients":      func() (int, error) { k, err := s.ListClients(ctx, r2.ID, store.ClientQuery{}); return len(k), err },
		"users":        func() (int, error) { return s.CountUsers(ctx, r2.ID, store.UserQuery{ServiceAccounts: true}) },
		"sessions by user": func() (int, error) {
			k, err := s.ListSessions(ctx, r2.ID, store.SessionQuery{UserID: u.ID})
			return len(k), err
		},
		"sessions by client": func() (int, error) {
			k, err := s.ListSessions(ctx, r2.ID, store.SessionQuery{ClientID: c.ID})
			return len(k), err
		},
	} {
		if got, err := n(); err != nil || got != 0 {
			t.Errorf("re-created realm lists %d old %s (err %v)", got, name, err)
		}
	}
	if ok, _ := s.IsAccessTokenRevoked(ctx, r2.ID, "jti-"+r.ID); ok {
		t.Error("re-created realm sees the old revocation")
	}
	// The names taken in the old realm are free in the new one.
	must(t, s.CreateClient(ctx, r2.ID, store.Client{ID: id("c"), ClientID: "app"}))
	must(t, s.CreateUser(ctx, r2.ID, store.User{ID: id("u"), Username: "alice", Email: "alice@example.com"}))
	must(t, s.CreateRole(ctx, r2.ID, store.Role{ID: id("role"), Name: "reader"}))
}

// UpdateRealmRotatingKey commits the realm update and the key rotation
// together: a rename that conflicts rotates nothing, a key that conflicts
// renames nothing, and without a key it is UpdateRealm.
func testRealmUpdateRotatingKey(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	mustRealm(t, s, "taken")
	base := clock()
	must(t, s.CreateKey(ctx, r.ID, signingKey("k1", base)))
	rekey := func(name, alg string, k *store.SigningKey) (store.Realm, error) {
		return s.UpdateRealmRotatingKey(ctx, r.ID, func(x *store.Realm) (*store.SigningKey, error) {
			x.Name, x.DefaultSignatureAlgorithm = name, alg
			return k, nil
		})
	}
	k2 := signingKey("k2", base.Add(time.Second))
	got, err := rekey("renamed", "ES256", &k2)
	must(t, err)
	if got.Name != "renamed" || got.DefaultSignatureAlgorithm != "ES256" || got.Version != r.Version+1 {
		t.Fatalf("updated realm = %+v", got)
	}
	if keys := keyStatuses(t, s, r.ID); keys != "[k1:passive k2:active]" {
		t.Fatalf("keys after re-keying = %s", keys)
	}
	wantEqual(t, "realm by new name", try(s.GetRealm(ctx, "renamed")).must(t), got)

	// The rename fails after the key was handed over: no new key.
	k3 := signingKey("k3", base.Add(2*time.Second))
	_, err = rekey("taken", "EdDSA", &k3)
	wantConflict(t, err, "realm", "name")
	// The key fails: no rename, no algorithm change.
	dup := signingKey("k1", base.Add(3*time.Second))
	_, err = rekey("other-name", "EdDSA", &dup)
	wantConflict(t, err, "key", "kid")
	wantEqual(t, "realm after failed updates", try(s.GetRealmByID(ctx, r.ID)).must(t), got)
	wantGone(t, "failed updates", map[string]error{"other-name": errOf(s.GetRealm(ctx, "other-name"))})
	if keys := keyStatuses(t, s, r.ID); keys != "[k1:passive k2:active]" {
		t.Fatalf("keys after failed updates = %s", keys)
	}
	// fn's error aborts and is returned as is.
	errNo := errors.New("no")
	_, err = s.UpdateRealmRotatingKey(ctx, r.ID, func(x *store.Realm) (*store.SigningKey, error) {
		x.Name = "aborted"
		return &k3, errNo
	})
	if err != errNo {
		t.Fatalf("fn error = %v", err)
	}
	// No key: a plain update.
	got2, err := rekey("plain", "ES256", nil)
	must(t, err)
	if got2.Version != got.Version+1 {
		t.Errorf("version = %d", got2.Version)
	}
	if keys := keyStatuses(t, s, r.ID); keys != "[k1:passive k2:active]" {
		t.Fatalf("keys after a plain update = %s", keys)
	}
	wantErr(t, errOf(s.UpdateRealmRotatingKey(ctx, "no-such-realm", func(*store.Realm) (*store.SigningKey, error) { return nil, nil })), store.ErrNotFound)
}
