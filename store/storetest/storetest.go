package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// RunTests runs the conformance suite; newStore returns an empty store that
// the test may close.
func RunTests(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"RealmCRUDAndUniqueName", testRealmCRUD},
		{"RealmRenameAndAbortedUpdate", testRealmRename},
		{"RealmDeleteRemovesEverything", testRealmDelete},
		{"ClientsUniquePerRealmAndListing", testClients},
		{"UsersUniqueCaseInsensitiveAndQueries", testUsers},
		{"UserUpdateMovesIndexes", testUserUpdate},
		{"RolesNamespacesAndRename", testRoles},
		{"KeysOrderedByCreation", testKeys},
		{"DeleteClientCascades", testDeleteClientCascades},
		{"DeleteUserEndsSessions", testDeleteUserCascades},
		{"RotateRefreshToken", testRotate},
		{"RotateRefreshTokenGrace", testRotateGrace},
		{"ConcurrentRotationOneWinner", testConcurrentRotation},
		{"SessionsListAndDelete", testSessions},
		{"RevokedAccessTokens", testRevokedJTI},
		{"DeleteExpired", testDeleteExpired},
		{"AdminEventsNewestFirst", testAdminEvents},
		{"ReturnedRecordsAreCopies", testCopies},
		{"IdentityProvidersCRUD", testIDPs},
		{"TopologiesCRUD", testTopologies},
		{"KnoxTokensLimitAndExpiry", testKnoxTokens},
		{"LoginFailures", testLoginFailures},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() { s.Close() })
			tc.fn(t, s)
		})
	}
}

var ctx = context.Background()

var seq atomic.Int64

func id(prefix string) string {
	return fmt.Sprintf("%s-%06d", prefix, seq.Add(1))
}

func mustRealm(t *testing.T, s store.Store, name string) store.Realm {
	t.Helper()
	r := store.Realm{ID: id("realm"), Name: name, Enabled: true, CreatedAt: time.Now().UTC()}
	if err := s.CreateRealm(ctx, r); err != nil {
		t.Fatal(err)
	}
	return r
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}

func wantConflict(t *testing.T, err error, kind, field string) {
	t.Helper()
	var ce *store.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, store.ErrAlreadyExists) || ce.Kind != kind || ce.Field != field {
		t.Fatalf("got %v, want a %s conflict on %s", err, kind, field)
	}
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
	wantConflict(t, s.CreateRealm(ctx, store.Realm{ID: id("realm"), Name: "demo"}), "realm", "name")
	_, err = s.GetRealm(ctx, "Demo")
	wantErr(t, err, store.ErrNotFound) // realm names are case-sensitive
	mustRealm(t, s, "alpha")
	list, err := s.ListRealms(ctx)
	must(t, err)
	if len(list) != 2 || list[0].Name != "alpha" || list[1].Name != "demo" {
		t.Fatalf("ListRealms = %v", list)
	}
}

func testRealmRename(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "old")
	mustRealm(t, s, "taken")
	up, err := s.UpdateRealm(ctx, r.ID, func(x *store.Realm) error { x.Name = "new"; x.AccessTokenLifespan = 42; return nil })
	must(t, err)
	if up.Name != "new" || up.Version != r.Version+1 {
		t.Fatalf("updated = %+v", up)
	}
	_, err = s.GetRealm(ctx, "old")
	wantErr(t, err, store.ErrNotFound)
	if got, _ := s.GetRealm(ctx, "new"); got.ID != r.ID || got.AccessTokenLifespan != 42 {
		t.Fatalf("renamed realm = %+v", got)
	}
	_, err = s.UpdateRealm(ctx, r.ID, func(x *store.Realm) error { x.Name = "taken"; return nil })
	wantConflict(t, err, "realm", "name")
	boom := errors.New("boom")
	_, err = s.UpdateRealm(ctx, r.ID, func(x *store.Realm) error { x.AccessTokenLifespan = 1; return boom })
	wantErr(t, err, boom)
	if got, _ := s.GetRealm(ctx, "new"); got.AccessTokenLifespan != 42 || got.Version != up.Version {
		t.Fatalf("aborted update changed the realm: %+v", got)
	}
	_, err = s.UpdateRealm(ctx, "missing", func(*store.Realm) error { return nil })
	wantErr(t, err, store.ErrNotFound)
}

// fill puts one of everything into a realm and returns the session's first
// refresh-token hash.
func fill(t *testing.T, s store.Store, realmID string) (store.Client, store.User, string) {
	t.Helper()
	c := store.Client{ID: id("client"), ClientID: "app", Enabled: true}
	must(t, s.CreateClient(ctx, realmID, c))
	u := store.User{ID: id("user"), Username: "alice", Email: "alice@example.com", Enabled: true}
	must(t, s.CreateUser(ctx, realmID, u))
	must(t, s.CreateRole(ctx, realmID, store.Role{ID: id("role"), Name: "reader"}))
	must(t, s.CreateKey(ctx, realmID, store.SigningKey{KID: id("kid"), Algorithm: "RS256", Status: store.KeyActive, CreatedAt: time.Now()}))
	sess, rt := newSession(c, u, time.Hour)
	must(t, s.CreateSession(ctx, realmID, sess, rt))
	return c, u, rt.Hash
}

func newSession(c store.Client, u store.User, ttl time.Duration) (store.Session, store.RefreshToken) {
	now := time.Now().UTC()
	sess := store.Session{ID: id("sess"), ClientID: c.ID, UserID: u.ID, Scope: "profile email",
		AuthTime: now, LastRefresh: now, ExpiresAt: now.Add(ttl)}
	return sess, refreshToken(sess, now, ttl)
}

func refreshToken(sess store.Session, now time.Time, ttl time.Duration) store.RefreshToken {
	return store.RefreshToken{Hash: id("hash"), SessionID: sess.ID, ClientID: sess.ClientID, UserID: sess.UserID,
		Scope: sess.Scope, IssuedAt: now, ExpiresAt: now.Add(ttl)}
}

func testRealmDelete(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	c, u, hash := fill(t, s, r.ID)
	must(t, s.DeleteRealm(ctx, r.ID))
	_, err := s.GetRealm(ctx, "demo")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetClient(ctx, r.ID, c.ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetRefreshToken(ctx, r.ID, hash)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.DeleteRealm(ctx, r.ID), store.ErrNotFound)

	// Same name, new ID: none of the old data is visible.
	r2 := mustRealm(t, s, "demo")
	if _, err := s.GetClientByClientID(ctx, r2.ID, "app"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("re-created realm sees the old client: %v", err)
	}
	if _, err := s.GetUserByUsername(ctx, r2.ID, u.Username); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("re-created realm sees the old user: %v", err)
	}
	if keys, _ := s.ListKeys(ctx, r2.ID); len(keys) != 0 {
		t.Fatalf("re-created realm sees old keys")
	}
	if roles, _ := s.ListRoles(ctx, r2.ID, "", store.Page{}); len(roles) != 0 {
		t.Fatalf("re-created realm sees old roles")
	}
}

func testClients(t *testing.T, s store.Store) {
	a, b := mustRealm(t, s, "a"), mustRealm(t, s, "b")
	for _, cid := range []string{"zeta", "Alpha", "beta-app", "gamma"} {
		must(t, s.CreateClient(ctx, a.ID, store.Client{ID: id("c"), ClientID: cid, Enabled: true}))
	}
	wantConflict(t, s.CreateClient(ctx, a.ID, store.Client{ID: id("c"), ClientID: "zeta"}), "client", "clientId")
	must(t, s.CreateClient(ctx, b.ID, store.Client{ID: id("c"), ClientID: "zeta"})) // another realm: fine
	_, err := s.GetClientByClientID(ctx, a.ID, "ZETA")
	wantErr(t, err, store.ErrNotFound) // clientId is case-sensitive

	names := func(cs []store.Client) string {
		var out []string
		for _, c := range cs {
			out = append(out, c.ClientID)
		}
		return fmt.Sprint(out)
	}
	for _, tc := range []struct {
		q    store.ClientQuery
		want string
	}{
		{store.ClientQuery{}, "[Alpha beta-app gamma zeta]"},
		{store.ClientQuery{ClientID: "gamma"}, "[gamma]"},
		{store.ClientQuery{ClientID: "amm"}, "[]"},
		{store.ClientQuery{ClientID: "A", Search: true}, "[Alpha beta-app gamma zeta]"},
		{store.ClientQuery{ClientID: "et", Search: true}, "[beta-app zeta]"},
		{store.ClientQuery{Page: store.Page{First: 1, Max: 2}}, "[beta-app gamma]"},
		{store.ClientQuery{Page: store.Page{First: 10}}, "[]"},
	} {
		got, err := s.ListClients(ctx, a.ID, tc.q)
		must(t, err)
		if names(got) != tc.want {
			t.Errorf("ListClients(%+v) = %s, want %s", tc.q, names(got), tc.want)
		}
	}
	c, _ := s.GetClientByClientID(ctx, a.ID, "gamma")
	up, err := s.UpdateClient(ctx, a.ID, c.ID, func(x *store.Client) error { x.ClientID = "delta"; return nil })
	must(t, err)
	if up.ClientID != "delta" {
		t.Fatal(up)
	}
	if _, err := s.GetClientByClientID(ctx, a.ID, "gamma"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("old clientId still indexed")
	}
	_, err = s.UpdateClient(ctx, a.ID, c.ID, func(x *store.Client) error { x.ClientID = "zeta"; return nil })
	wantConflict(t, err, "client", "clientId")
}

func testUsers(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	users := []store.User{
		{Username: "carol", Email: "carol@example.com", FirstName: "Carol", Enabled: true},
		{Username: "Alice", Email: "ALICE@example.com", LastName: "Liddell", Enabled: true},
		{Username: "bob", Email: "bob@other.org", Enabled: false},
		{Username: "service-account-app", ServiceAccountClientID: "c1", Enabled: true},
	}
	for i := range users {
		users[i].ID = id("u")
		must(t, s.CreateUser(ctx, r.ID, users[i]))
	}
	wantConflict(t, s.CreateUser(ctx, r.ID, store.User{ID: id("u"), Username: "ALICE"}), "user", "username")
	wantConflict(t, s.CreateUser(ctx, r.ID, store.User{ID: id("u"), Username: "x", Email: "alice@EXAMPLE.com"}), "user", "email")
	if u, err := s.GetUserByUsername(ctx, r.ID, "aLiCe"); err != nil || u.ID != users[1].ID {
		t.Fatalf("case-insensitive username: %v %v", u, err)
	}
	if u, err := s.GetUserByEmail(ctx, r.ID, "alice@example.COM"); err != nil || u.ID != users[1].ID {
		t.Fatalf("case-insensitive email: %v %v", u, err)
	}
	_, err := s.GetUserByEmail(ctx, r.ID, "")
	wantErr(t, err, store.ErrNotFound)

	on, off := true, false
	names := func(us []store.User) string {
		var out []string
		for _, u := range us {
			out = append(out, u.Username)
		}
		return fmt.Sprint(out)
	}
	for _, tc := range []struct {
		q    store.UserQuery
		want string
	}{
		{store.UserQuery{}, "[Alice bob carol]"},
		{store.UserQuery{ServiceAccounts: true}, "[Alice bob carol service-account-app]"},
		{store.UserQuery{Search: "EXAMPLE"}, "[Alice carol]"},
		{store.UserQuery{Search: "liddell"}, "[Alice]"},
		{store.UserQuery{Search: "car"}, "[carol]"},
		{store.UserQuery{Username: "o"}, "[bob carol]"},
		{store.UserQuery{Username: "bo", Exact: true}, "[]"},
		{store.UserQuery{Username: "BOB", Exact: true}, "[bob]"},
		{store.UserQuery{Email: "other"}, "[bob]"},
		{store.UserQuery{Enabled: &on}, "[Alice carol]"},
		{store.UserQuery{Enabled: &off}, "[bob]"},
		{store.UserQuery{Page: store.Page{First: 1, Max: 1}}, "[bob]"},
	} {
		got, err := s.ListUsers(ctx, r.ID, tc.q)
		must(t, err)
		if names(got) != tc.want {
			t.Errorf("ListUsers(%+v) = %s, want %s", tc.q, names(got), tc.want)
		}
		n, err := s.CountUsers(ctx, r.ID, store.UserQuery{Search: tc.q.Search, Username: tc.q.Username, Email: tc.q.Email,
			Exact: tc.q.Exact, Enabled: tc.q.Enabled, ServiceAccounts: tc.q.ServiceAccounts})
		must(t, err)
		if tc.q.Page == (store.Page{}) && n != len(got) {
			t.Errorf("CountUsers(%+v) = %d, ListUsers found %d", tc.q, n, len(got))
		}
	}
}

func testUserUpdate(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	a := store.User{ID: id("u"), Username: "alice", Email: "a@x.io"}
	b := store.User{ID: id("u"), Username: "bob", Email: "b@x.io"}
	must(t, s.CreateUser(ctx, r.ID, a))
	must(t, s.CreateUser(ctx, r.ID, b))
	_, err := s.UpdateUser(ctx, r.ID, a.ID, func(u *store.User) error { u.Username, u.Email = "alicia", "alicia@x.io"; return nil })
	must(t, err)
	if _, err := s.GetUserByUsername(ctx, r.ID, "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("old username still indexed")
	}
	if _, err := s.GetUserByEmail(ctx, r.ID, "a@x.io"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("old email still indexed")
	}
	must(t, s.CreateUser(ctx, r.ID, store.User{ID: id("u"), Username: "alice", Email: "a@x.io"})) // both free again
	_, err = s.UpdateUser(ctx, r.ID, b.ID, func(u *store.User) error { u.Username = "ALICIA"; return nil })
	wantConflict(t, err, "user", "username")
	_, err = s.UpdateUser(ctx, r.ID, b.ID, func(u *store.User) error { u.Email = "ALICIA@x.io"; return nil })
	wantConflict(t, err, "user", "email")
	if got, _ := s.GetUser(ctx, r.ID, b.ID); got.Username != "bob" || got.Email != "b@x.io" {
		t.Fatalf("failed update changed the user: %+v", got)
	}
	if got, _ := s.GetUserByUsername(ctx, r.ID, "bob"); got.ID != b.ID {
		t.Fatal("failed update broke the index")
	}
}

func testRoles(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	for _, name := range []string{"writer", "admin", "reader"} {
		must(t, s.CreateRole(ctx, r.ID, store.Role{ID: id("role"), Name: name}))
	}
	wantConflict(t, s.CreateRole(ctx, r.ID, store.Role{ID: id("role"), Name: "admin"}), "role", "name")
	must(t, s.CreateRole(ctx, r.ID, store.Role{ID: id("role"), Name: "admin", ClientID: "client-1"}))
	realmRoles, err := s.ListRoles(ctx, r.ID, "", store.Page{})
	must(t, err)
	if len(realmRoles) != 3 || realmRoles[0].Name != "admin" || realmRoles[2].Name != "writer" {
		t.Fatalf("realm roles = %v", realmRoles)
	}
	page, _ := s.ListRoles(ctx, r.ID, "", store.Page{First: 1, Max: 1})
	if len(page) != 1 || page[0].Name != "reader" {
		t.Fatalf("paged = %v", page)
	}
	cr, err := s.GetRoleByName(ctx, r.ID, "client-1", "admin")
	must(t, err)
	rr, _ := s.GetRoleByName(ctx, r.ID, "", "admin")
	if cr.ID == rr.ID || cr.ClientID != "client-1" {
		t.Fatal("client and realm role namespaces mixed up")
	}
	_, err = s.UpdateRole(ctx, r.ID, rr.ID, func(x *store.Role) error { x.Name = "superuser"; return nil })
	must(t, err)
	if _, err := s.GetRoleByName(ctx, r.ID, "", "admin"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("old role name still indexed")
	}
	_, err = s.UpdateRole(ctx, r.ID, rr.ID, func(x *store.Role) error { x.Name = "reader"; return nil })
	wantConflict(t, err, "role", "name")
	must(t, s.DeleteRole(ctx, r.ID, rr.ID))
	_, err = s.GetRole(ctx, r.ID, rr.ID)
	wantErr(t, err, store.ErrNotFound)
}

func testKeys(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	base := time.Now().UTC()
	for i, kid := range []string{"k3", "k1", "k2"} {
		_ = i
		must(t, s.CreateKey(ctx, r.ID, store.SigningKey{KID: kid, Status: store.KeyActive, CreatedAt: base.Add(map[string]time.Duration{"k1": 1, "k2": 2, "k3": 3}[kid] * time.Second)}))
	}
	keys, err := s.ListKeys(ctx, r.ID)
	must(t, err)
	if len(keys) != 3 || keys[0].KID != "k1" || keys[2].KID != "k3" {
		t.Fatalf("keys = %v", keys)
	}
	up, err := s.UpdateKey(ctx, r.ID, "k1", func(k *store.SigningKey) error { k.Status = store.KeyPassive; return nil })
	must(t, err)
	if up.Status != store.KeyPassive {
		t.Fatal(up)
	}
	wantConflict(t, s.CreateKey(ctx, r.ID, store.SigningKey{KID: "k1"}), "key", "kid")
}

func testDeleteClientCascades(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	c, u, hash := fill(t, s, r.ID)
	role := store.Role{ID: id("role"), Name: "client-role", ClientID: c.ID}
	must(t, s.CreateRole(ctx, r.ID, role))
	sa := store.User{ID: id("u"), Username: "service-account-app", ServiceAccountClientID: c.ID, Enabled: true}
	must(t, s.CreateUser(ctx, r.ID, sa))
	must(t, s.DeleteClient(ctx, r.ID, c.ID))
	for name, err := range map[string]error{
		"client":   errOf(s.GetClient(ctx, r.ID, c.ID)),
		"role":     errOf(s.GetRole(ctx, r.ID, role.ID)),
		"token":    errOf(s.GetRefreshToken(ctx, r.ID, hash)),
		"sa user":  errOf(s.GetUser(ctx, r.ID, sa.ID)),
		"by name":  errOf(s.GetClientByClientID(ctx, r.ID, "app")),
		"sa index": errOf(s.GetUserByUsername(ctx, r.ID, sa.Username)),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s survives client deletion: %v", name, err)
		}
	}
	if _, err := s.GetUser(ctx, r.ID, u.ID); err != nil {
		t.Errorf("a person was deleted with the client: %v", err)
	}
	if _, err := s.GetRoleByName(ctx, r.ID, "", "reader"); err != nil {
		t.Errorf("realm role deleted with the client: %v", err)
	}
}

func errOf[T any](_ T, err error) error { return err }

func testDeleteUserCascades(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	_, u, hash := fill(t, s, r.ID)
	must(t, s.DeleteUser(ctx, r.ID, u.ID))
	wantErr(t, errOf(s.GetRefreshToken(ctx, r.ID, hash)), store.ErrNotFound)
	wantErr(t, errOf(s.GetUserByUsername(ctx, r.ID, "alice")), store.ErrNotFound)
	wantErr(t, errOf(s.GetUserByEmail(ctx, r.ID, "alice@example.com")), store.ErrNotFound)
	if sessions, _ := s.ListSessions(ctx, r.ID, store.SessionQuery{UserID: u.ID}); len(sessions) != 0 {
		t.Errorf("sessions survive: %v", sessions)
	}
	wantErr(t, s.DeleteUser(ctx, r.ID, u.ID), store.ErrNotFound)
}

// chain sets up a realm with a session and returns it with its first token.
func chain(t *testing.T, s store.Store, ttl time.Duration) (store.Realm, store.Session, store.RefreshToken) {
	t.Helper()
	r := mustRealm(t, s, id("realm"))
	c := store.Client{ID: id("c"), ClientID: "app"}
	u := store.User{ID: id("u"), Username: "alice"}
	must(t, s.CreateClient(ctx, r.ID, c))
	must(t, s.CreateUser(ctx, r.ID, u))
	sess, rt := newSession(c, u, ttl)
	must(t, s.CreateSession(ctx, r.ID, sess, rt))
	return r, sess, rt
}

func testRotate(t *testing.T, s store.Store) {
	r, sess, rt1 := chain(t, s, time.Hour)
	now := time.Now()
	rt2 := refreshToken(sess, now, time.Hour)
	old, err := s.RotateRefreshToken(ctx, r.ID, rt1.Hash, rt2, store.RotationPolicy{}, now)
	must(t, err)
	if old.Hash != rt1.Hash || old.UsedAt.IsZero() {
		t.Fatalf("old token = %+v", old)
	}
	if got, err := s.GetRefreshToken(ctx, r.ID, rt2.Hash); err != nil || got.SessionID != sess.ID {
		t.Fatalf("new token: %+v %v", got, err)
	}
	if got, _ := s.GetSession(ctx, r.ID, sess.ID); !got.LastRefresh.Equal(now) {
		t.Errorf("LastRefresh = %v, want %v", got.LastRefresh, now)
	}
	_, err = s.RotateRefreshToken(ctx, r.ID, "unknown", refreshToken(sess, now, time.Hour), store.RotationPolicy{}, now)
	wantErr(t, err, store.ErrNotFound)

	// Expired: nothing written.
	rt3 := refreshToken(sess, now, time.Hour)
	_, err = s.RotateRefreshToken(ctx, r.ID, rt2.Hash, rt3, store.RotationPolicy{}, now.Add(2*time.Hour))
	wantErr(t, err, store.ErrTokenExpired)
	if _, err := s.GetRefreshToken(ctx, r.ID, rt3.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("expired rotation stored the next token")
	}

	// Strict reuse of rt1: the whole family goes, durably.
	_, err = s.RotateRefreshToken(ctx, r.ID, rt1.Hash, rt3, store.RotationPolicy{}, now)
	wantErr(t, err, store.ErrTokenReused)
	for name, err := range map[string]error{
		"session": errOf(s.GetSession(ctx, r.ID, sess.ID)),
		"old":     errOf(s.GetRefreshToken(ctx, r.ID, rt1.Hash)),
		"newest":  errOf(s.GetRefreshToken(ctx, r.ID, rt2.Hash)),
		"next":    errOf(s.GetRefreshToken(ctx, r.ID, rt3.Hash)),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s survives reuse: %v", name, err)
		}
	}
	// A token whose session is gone is not found.
	_, err = s.RotateRefreshToken(ctx, r.ID, rt2.Hash, refreshToken(sess, now, time.Hour), store.RotationPolicy{}, now)
	wantErr(t, err, store.ErrNotFound)
}

func testRotateGrace(t *testing.T, s store.Store) {
	r, sess, rt1 := chain(t, s, time.Hour)
	now := time.Now()
	p := store.RotationPolicy{Grace: 10 * time.Second, MaxReuse: 1}
	_, err := s.RotateRefreshToken(ctx, r.ID, rt1.Hash, refreshToken(sess, now, time.Hour), p, now)
	must(t, err)
	b := refreshToken(sess, now, time.Hour)
	_, err = s.RotateRefreshToken(ctx, r.ID, rt1.Hash, b, p, now.Add(5*time.Second))
	must(t, err) // one reuse within the grace
	_, err = s.RotateRefreshToken(ctx, r.ID, rt1.Hash, refreshToken(sess, now, time.Hour), p, now.Add(6*time.Second))
	wantErr(t, err, store.ErrTokenReused) // beyond MaxReuse
	wantErr(t, errOf(s.GetRefreshToken(ctx, r.ID, b.Hash)), store.ErrNotFound)

	r2, sess2, first := chain(t, s, time.Hour)
	_, err = s.RotateRefreshToken(ctx, r2.ID, first.Hash, refreshToken(sess2, now, time.Hour), p, now)
	must(t, err)
	_, err = s.RotateRefreshToken(ctx, r2.ID, first.Hash, refreshToken(sess2, now, time.Hour), p, now.Add(11*time.Second))
	wantErr(t, err, store.ErrTokenReused) // after the grace
}

func testConcurrentRotation(t *testing.T, s store.Store) {
	r, sess, rt := chain(t, s, time.Hour)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.RotateRefreshToken(ctx, r.ID, rt.Hash, refreshToken(sess, time.Now(), time.Hour), store.RotationPolicy{}, time.Now())
		}()
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, store.ErrTokenReused), errors.Is(err, store.ErrNotFound):
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d rotations won, want 1", wins)
	}
	wantErr(t, errOf(s.GetSession(ctx, r.ID, sess.ID)), store.ErrNotFound)
}

func testSessions(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	c1, c2 := store.Client{ID: id("c"), ClientID: "one"}, store.Client{ID: id("c"), ClientID: "two"}
	u := store.User{ID: id("u"), Username: "alice"}
	must(t, s.CreateClient(ctx, r.ID, c1))
	must(t, s.CreateClient(ctx, r.ID, c2))
	must(t, s.CreateUser(ctx, r.ID, u))
	s1, rt1 := newSession(c1, u, time.Hour)
	s2, rt2 := newSession(c2, u, time.Hour)
	must(t, s.CreateSession(ctx, r.ID, s1, rt1))
	must(t, s.CreateSession(ctx, r.ID, s2, rt2))
	if got, _ := s.ListSessions(ctx, r.ID, store.SessionQuery{UserID: u.ID}); len(got) != 2 {
		t.Fatalf("by user: %v", got)
	}
	if got, _ := s.ListSessions(ctx, r.ID, store.SessionQuery{ClientID: c2.ID}); len(got) != 1 || got[0].ID != s2.ID {
		t.Fatalf("by client: %v", got)
	}
	must(t, s.DeleteSession(ctx, r.ID, s1.ID))
	wantErr(t, errOf(s.GetRefreshToken(ctx, r.ID, rt1.Hash)), store.ErrNotFound)
	wantErr(t, s.DeleteSession(ctx, r.ID, s1.ID), store.ErrNotFound)
	if _, err := s.GetRefreshToken(ctx, r.ID, rt2.Hash); err != nil {
		t.Fatal("other session's token deleted")
	}
}

func testRevokedJTI(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	other := mustRealm(t, s, "other")
	must(t, s.RevokeAccessToken(ctx, r.ID, "jti-1", time.Now().Add(time.Minute)))
	if ok, err := s.IsAccessTokenRevoked(ctx, r.ID, "jti-1"); err != nil || !ok {
		t.Fatalf("revoked = %v, %v", ok, err)
	}
	if ok, _ := s.IsAccessTokenRevoked(ctx, r.ID, "jti-2"); ok {
		t.Fatal("unknown jti revoked")
	}
	if ok, _ := s.IsAccessTokenRevoked(ctx, other.ID, "jti-1"); ok {
		t.Fatal("revocation leaked into another realm")
	}
}

func testDeleteExpired(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	c, u := store.Client{ID: id("c"), ClientID: "app"}, store.User{ID: id("u"), Username: "alice"}
	must(t, s.CreateClient(ctx, r.ID, c))
	must(t, s.CreateUser(ctx, r.ID, u))
	short, shortRT := newSession(c, u, time.Minute)
	long, longRT := newSession(c, u, time.Hour)
	must(t, s.CreateSession(ctx, r.ID, short, shortRT))
	must(t, s.CreateSession(ctx, r.ID, long, longRT))
	must(t, s.RevokeAccessToken(ctx, r.ID, "old-jti", time.Now().Add(time.Minute)))
	must(t, s.RevokeAccessToken(ctx, r.ID, "new-jti", time.Now().Add(time.Hour)))

	later := time.Now().Add(10 * time.Minute)
	n, err := s.DeleteExpired(ctx, later, 1)
	must(t, err)
	if n != 1 {
		t.Fatalf("limit 1 deleted %d", n)
	}
	for {
		n, err := s.DeleteExpired(ctx, later, 100)
		must(t, err)
		if n == 0 {
			break
		}
	}
	wantErr(t, errOf(s.GetSession(ctx, r.ID, short.ID)), store.ErrNotFound)
	wantErr(t, errOf(s.GetRefreshToken(ctx, r.ID, shortRT.Hash)), store.ErrNotFound)
	if ok, _ := s.IsAccessTokenRevoked(ctx, r.ID, "old-jti"); ok {
		t.Error("expired revoked jti kept")
	}
	if _, err := s.GetSession(ctx, r.ID, long.ID); err != nil {
		t.Errorf("unexpired session deleted: %v", err)
	}
	if _, err := s.GetRefreshToken(ctx, r.ID, longRT.Hash); err != nil {
		t.Errorf("unexpired token deleted: %v", err)
	}
	if ok, _ := s.IsAccessTokenRevoked(ctx, r.ID, "new-jti"); !ok {
		t.Error("unexpired revoked jti deleted")
	}
}

func testAdminEvents(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	base := time.Now().UTC()
	for i := range 5 {
		must(t, s.AppendAdminEvent(ctx, r.ID, store.AdminEvent{ID: fmt.Sprint(i), Time: base.Add(time.Duration(i) * time.Second), OperationType: "CREATE"}))
	}
	got, err := s.ListAdminEvents(ctx, r.ID, store.Page{First: 1, Max: 2})
	must(t, err)
	if len(got) != 2 || got[0].ID != "3" || got[1].ID != "2" {
		t.Fatalf("events = %v", got)
	}
}

func testCopies(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	c := store.Client{ID: id("c"), ClientID: "app", Attributes: map[string]string{"k": "v"}, RedirectURIs: []string{"a"}}
	must(t, s.CreateClient(ctx, r.ID, c))
	got, _ := s.GetClient(ctx, r.ID, c.ID)
	got.Attributes["k"] = "changed"
	got.RedirectURIs[0] = "changed"
	again, _ := s.GetClient(ctx, r.ID, c.ID)
	if again.Attributes["k"] != "v" || again.RedirectURIs[0] != "a" {
		t.Fatal("mutating a returned record changed the store")
	}
}

func testIDPs(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	p := store.IdentityProvider{Alias: "cp", ProviderID: "oidc", Enabled: true, Config: map[string]string{"issuer": "https://cp"}}
	must(t, s.CreateIdentityProvider(ctx, r.ID, p))
	wantConflict(t, s.CreateIdentityProvider(ctx, r.ID, p), "identity-provider", "alias")
	must(t, s.CreateIdentityProvider(ctx, r.ID, store.IdentityProvider{Alias: "b", ProviderID: "oidc"}))
	list, err := s.ListIdentityProviders(ctx, r.ID)
	must(t, err)
	if len(list) != 2 || list[0].Alias != "b" || list[1].Alias != "cp" {
		t.Fatalf("list = %v", list)
	}
	up, err := s.UpdateIdentityProvider(ctx, r.ID, "cp", func(x *store.IdentityProvider) error { x.Enabled = false; return nil })
	must(t, err)
	if up.Enabled {
		t.Fatal("update lost")
	}
	must(t, s.DeleteIdentityProvider(ctx, r.ID, "cp"))
	wantErr(t, errOf(s.GetIdentityProvider(ctx, r.ID, "cp")), store.ErrNotFound)
	wantErr(t, s.DeleteIdentityProvider(ctx, r.ID, "cp"), store.ErrNotFound)
}

func testTopologies(t *testing.T, s store.Store) {
	must(t, s.PutTopology(ctx, store.Topology{Name: "b", Realm: "demo", Authentication: "basic"}))
	must(t, s.PutTopology(ctx, store.Topology{Name: "a", Realm: "demo", Authentication: "bearer"}))
	must(t, s.PutTopology(ctx, store.Topology{Name: "b", Realm: "demo", Authentication: "bearer"})) // replace
	list, err := s.ListTopologies(ctx)
	must(t, err)
	if len(list) != 2 || list[0].Name != "a" || list[1].Authentication != "bearer" {
		t.Fatalf("list = %v", list)
	}
	must(t, s.DeleteTopology(ctx, "a"))
	wantErr(t, errOf(s.GetTopology(ctx, "a")), store.ErrNotFound)
	wantErr(t, s.DeleteTopology(ctx, "a"), store.ErrNotFound)
}

func testKnoxTokens(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	now := time.Now().UTC()
	tok := func(id, user string, issued time.Duration, life time.Duration) store.KnoxToken {
		return store.KnoxToken{ID: id, Username: user, CreatedBy: user, IssuedAt: now.Add(issued), ExpiresAt: now.Add(life), Enabled: true}
	}
	limit := store.KnoxTokenLimit{Max: 2, Now: now}
	must(t, s.CreateKnoxToken(ctx, r.ID, tok("t1", "alice", 0, time.Hour), limit))
	must(t, s.CreateKnoxToken(ctx, r.ID, tok("t2", "alice", time.Second, time.Hour), limit))
	must(t, s.CreateKnoxToken(ctx, r.ID, tok("b1", "bob", 0, time.Hour), limit))
	wantErr(t, s.CreateKnoxToken(ctx, r.ID, tok("t3", "alice", 2*time.Second, time.Hour), limit), store.ErrLimitExceeded)
	limit.RemoveOldest = true
	must(t, s.CreateKnoxToken(ctx, r.ID, tok("t3", "alice", 2*time.Second, time.Hour), limit))
	wantErr(t, errOf(s.GetKnoxToken(ctx, r.ID, "t1")), store.ErrNotFound)
	mine, err := s.ListKnoxTokens(ctx, r.ID, store.KnoxTokenQuery{Username: "alice"})
	must(t, err)
	if len(mine) != 2 || mine[0].ID != "t2" || mine[1].ID != "t3" {
		t.Fatalf("alice's tokens = %v", mine)
	}
	if all, _ := s.ListKnoxTokens(ctx, r.ID, store.KnoxTokenQuery{}); len(all) != 3 {
		t.Fatalf("all = %v", all)
	}
	// Expired tokens do not count toward the limit.
	limit = store.KnoxTokenLimit{Max: 1, Now: now.Add(2 * time.Hour)}
	must(t, s.CreateKnoxToken(ctx, r.ID, tok("b2", "bob", time.Second, 3*time.Hour), limit))

	up, err := s.UpdateKnoxToken(ctx, r.ID, "t2", func(k *store.KnoxToken) error { k.Enabled = false; k.ExpiresAt = now.Add(5 * time.Hour); return nil })
	must(t, err)
	if up.Enabled {
		t.Fatal("update lost")
	}
	n, err := s.DeleteExpiredKnoxTokens(ctx, now.Add(90*time.Minute), 100)
	must(t, err)
	if n != 2 { // t3 and b1 (t2 was renewed, b2 lives longer)
		t.Fatalf("DeleteExpiredKnoxTokens = %d", n)
	}
	if _, err := s.GetKnoxToken(ctx, r.ID, "t2"); err != nil {
		t.Fatal("renewed token evicted at its old expiry")
	}
	must(t, s.DeleteKnoxToken(ctx, r.ID, "t2"))
	wantErr(t, s.DeleteKnoxToken(ctx, r.ID, "t2"), store.ErrNotFound)
}

func testLoginFailures(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	wantErr(t, errOf(s.GetLoginFailure(ctx, r.ID, "user:1")), store.ErrNotFound)
	for i := 1; i <= 3; i++ {
		f, err := s.UpdateLoginFailure(ctx, r.ID, "user:1", func(f *store.LoginFailure) error { f.NumFailures++; return nil })
		must(t, err)
		if f.NumFailures != i || f.Key != "user:1" {
			t.Fatalf("after %d: %+v", i, f)
		}
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = s.UpdateLoginFailure(ctx, r.ID, "user:1", func(f *store.LoginFailure) error { f.NumFailures++; return nil })
		}()
	}
	wg.Wait()
	if f, _ := s.GetLoginFailure(ctx, r.ID, "user:1"); f.NumFailures != 11 {
		t.Fatalf("concurrent increments lost: %d", f.NumFailures)
	}
	must(t, s.DeleteLoginFailure(ctx, r.ID, "user:1"))
	wantErr(t, s.DeleteLoginFailure(ctx, r.ID, "user:1"), store.ErrNotFound)
}
