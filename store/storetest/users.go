package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// userTests are the conformance cases of this resource.
var userTests = []conformanceTest{
	{"UsersUniqueCaseInsensitiveAndQueries", testUsers},
	{"UserUpdateMovesIndexes", testUserUpdate},
	{"UsersByRoleAndGroup", testUsersByRoleAndGroup},
	{"DeleteUserEndsSessions", testDeleteUserCascades},
	{"FederatedIdentityLinks", testFederatedIdentities},
}

func testUsers(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	users := []store.User{
		{Username: "carol", Email: "carol@example.com", FirstName: "Caroline", Enabled: true,
			Attributes: map[string][]string{"dept": {"eng", "ops"}}},
		{Username: "Alice", Email: "ALICE@example.com", LastName: "Liddell", Enabled: true,
			FederatedIdentities: []store.FederatedIdentity{{IdentityProvider: "corp", UserID: "a-1", UserName: "alice"}}},
		{Username: "bob", Email: "bob@other.org", Enabled: false},
		{Username: "service-account-app", ServiceAccountClientID: "c1", Enabled: true},
		{Username: "dave", Enabled: true, Attributes: map[string][]string{"dept": {"eng"}, "site": {"x"}}}, // a second empty email is no conflict
	}
	for i := range users {
		users[i].ID = id("u")
		must(t, s.CreateUser(ctx, r.ID, users[i]))
	}
	wantConflict(t, s.CreateUser(ctx, r.ID, store.User{ID: id("u"), Username: "ALICE"}), "user", "username")
	wantConflict(t, s.CreateUser(ctx, r.ID, store.User{ID: id("u"), Username: "x", Email: "alice@EXAMPLE.com"}), "user", "email")
	if _, err := s.GetUserByUsername(ctx, r.ID, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("a user rejected for its email was stored")
	}
	if u, err := s.GetUserByUsername(ctx, r.ID, "aLiCe"); err != nil || u.ID != users[1].ID || u.Username != "Alice" {
		t.Fatalf("case-insensitive username: %v %v", u, err)
	}
	if u, err := s.GetUserByEmail(ctx, r.ID, "alice@example.COM"); err != nil || u.ID != users[1].ID {
		t.Fatalf("case-insensitive email: %v %v", u, err)
	}
	_, err := s.GetUserByEmail(ctx, r.ID, "")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, errOf(s.GetUserByUsername(ctx, r.ID, "nobody")), store.ErrNotFound)
	wantErr(t, errOf(s.GetUser(ctx, r.ID, "missing")), store.ErrNotFound)
	// Users of another realm are invisible.
	other := mustRealm(t, s, "other")
	must(t, s.CreateUser(ctx, other.ID, store.User{ID: id("u"), Username: "alice", Email: "alice@example.com"}))

	on, off := true, false
	names := func(us []store.User) string { return listed(us, func(u store.User) string { return u.Username }) }
	for _, tc := range []struct {
		q    store.UserQuery
		want string
	}{
		{store.UserQuery{}, "[Alice bob carol dave]"},
		{store.UserQuery{ServiceAccounts: true}, "[Alice bob carol dave service-account-app]"},
		// Search follows Keycloak: prefix by default, * wildcards, quotes exact.
		{store.UserQuery{Search: "EXAMPLE"}, "[]"},
		{store.UserQuery{Search: "*EXAMPLE"}, "[Alice carol]"},
		{store.UserQuery{Search: "liddell"}, "[Alice]"}, // last name
		{store.UserQuery{Search: "*OLINE"}, "[carol]"},  // first name
		{store.UserQuery{Search: "car"}, "[carol]"},
		{store.UserQuery{Search: "a"}, "[Alice]"},
		{store.UserQuery{Search: "*a"}, "[Alice carol dave]"},
		{store.UserQuery{Search: "*", ServiceAccounts: true}, "[Alice bob carol dave service-account-app]"},
		{store.UserQuery{Search: "*a", ServiceAccounts: true}, "[Alice carol dave service-account-app]"},
		{store.UserQuery{Search: "*a", Enabled: &on, Page: store.Page{First: 1}}, "[carol dave]"},
		{store.UserQuery{Search: `"alice"`}, "[Alice]"},
		{store.UserQuery{Search: `"ali"`}, "[]"},
		{store.UserQuery{FirstName: "carol"}, "[carol]"},
		{store.UserQuery{LastName: "LIDDELL", Exact: true}, "[Alice]"},
		{store.UserQuery{LastName: "lid", Exact: true}, "[]"},
		{store.UserQuery{Attributes: map[string]string{"dept": "eng"}}, "[carol dave]"},
		{store.UserQuery{Attributes: map[string]string{"dept": "ops"}}, "[carol]"},
		{store.UserQuery{Attributes: map[string]string{"dept": "eng", "site": "x"}}, "[dave]"},
		{store.UserQuery{Attributes: map[string]string{"dept": "ENG"}}, "[]"},
		{store.UserQuery{IDPAlias: "corp"}, "[Alice]"},
		{store.UserQuery{IDPAlias: "corp", IDPUserID: "a-1"}, "[Alice]"},
		{store.UserQuery{IDPAlias: "corp", IDPUserID: "b-2"}, "[]"},
		{store.UserQuery{IDPAlias: "other"}, "[]"},
		{store.UserQuery{Username: "o"}, "[bob carol]"},
		{store.UserQuery{Username: "ALI"}, "[Alice]"},
		{store.UserQuery{Username: "bo", Exact: true}, "[]"},
		{store.UserQuery{Username: "BOB", Exact: true}, "[bob]"},
		{store.UserQuery{Username: "service-account-app", Exact: true}, "[]"},
		{store.UserQuery{Username: "service-account-app", Exact: true, ServiceAccounts: true}, "[service-account-app]"},
		{store.UserQuery{Username: "bob", Exact: true, Enabled: &on}, "[]"},
		{store.UserQuery{Email: "other"}, "[bob]"},
		{store.UserQuery{Email: "EXAMPLE.COM"}, "[Alice carol]"},
		{store.UserQuery{Email: "alice@example.com", Exact: true}, "[Alice]"},
		{store.UserQuery{Email: "example.com", Exact: true}, "[]"},
		{store.UserQuery{Username: "a", Email: "example"}, "[Alice carol]"},
		{store.UserQuery{Enabled: &on}, "[Alice carol dave]"},
		{store.UserQuery{Enabled: &off}, "[bob]"},
		{store.UserQuery{Page: store.Page{First: 1, Max: 1}}, "[bob]"},
		{store.UserQuery{Page: store.Page{First: 1, Max: 2}}, "[bob carol]"},
		{store.UserQuery{Page: store.Page{Max: 2}}, "[Alice bob]"},
		{store.UserQuery{Page: store.Page{First: 4}}, "[]"},
	} {
		got, err := s.ListUsers(ctx, r.ID, tc.q)
		must(t, err)
		if names(got) != tc.want {
			t.Errorf("ListUsers(%+v) = %s, want %s", tc.q, names(got), tc.want)
		}
		// CountUsers ignores First/Max: it counts what an unpaged list
		// returns.
		unpaged := tc.q
		unpaged.Page = store.Page{}
		all, err := s.ListUsers(ctx, r.ID, unpaged)
		must(t, err)
		n, err := s.CountUsers(ctx, r.ID, tc.q)
		must(t, err)
		if n != len(all) {
			t.Errorf("CountUsers(%+v) = %d, the unpaged list has %d", tc.q, n, len(all))
		}
	}
}

func testUserUpdate(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	a := store.User{ID: id("u"), Username: "alice", Email: "a@x.io"}
	b := store.User{ID: id("u"), Username: "bob", Email: "b@x.io"}
	must(t, s.CreateUser(ctx, r.ID, a))
	must(t, s.CreateUser(ctx, r.ID, b))
	up, err := s.UpdateUser(ctx, r.ID, a.ID, func(u *store.User) error { u.Username, u.Email = "alicia", "alicia@x.io"; return nil })
	must(t, err)
	if up.Username != "alicia" || up.ID != a.ID {
		t.Fatalf("updated = %+v", up)
	}
	wantGone(t, "renamed user", map[string]error{
		"old username": errOf(s.GetUserByUsername(ctx, r.ID, "alice")),
		"old email":    errOf(s.GetUserByEmail(ctx, r.ID, "a@x.io")),
	})
	if got, err := s.GetUserByEmail(ctx, r.ID, "ALICIA@x.io"); err != nil || got.ID != a.ID {
		t.Fatalf("new email: %+v %v", got, err)
	}
	if got, _ := s.ListUsers(ctx, r.ID, store.UserQuery{}); len(got) != 2 || got[0].Username != "alicia" {
		t.Fatalf("list after rename = %v", got)
	}
	must(t, s.CreateUser(ctx, r.ID, store.User{ID: id("u"), Username: "alice", Email: "a@x.io"})) // both free again
	_, err = s.UpdateUser(ctx, r.ID, b.ID, func(u *store.User) error { u.Username = "ALICIA"; return nil })
	wantConflict(t, err, "user", "username")
	_, err = s.UpdateUser(ctx, r.ID, b.ID, func(u *store.User) error { u.Username = "robert"; u.Email = "ALICIA@x.io"; return nil })
	wantConflict(t, err, "user", "email")
	if got, _ := s.GetUser(ctx, r.ID, b.ID); got.Username != "bob" || got.Email != "b@x.io" {
		t.Fatalf("failed update changed the user: %+v", got)
	}
	if got, _ := s.GetUserByUsername(ctx, r.ID, "bob"); got.ID != b.ID {
		t.Fatal("failed update broke the username index")
	}
	if got, _ := s.GetUserByEmail(ctx, r.ID, "b@x.io"); got.ID != b.ID {
		t.Fatal("failed update broke the email index")
	}
	wantErr(t, errOf(s.GetUserByUsername(ctx, r.ID, "robert")), store.ErrNotFound)
	if got, _ := s.GetUserByEmail(ctx, r.ID, "alicia@x.io"); got.ID != a.ID {
		t.Fatal("failed update stole the other user's email")
	}
	// Changing only the case keeps the user findable; clearing the email
	// frees it.
	must(t, errOf(s.UpdateUser(ctx, r.ID, b.ID, func(u *store.User) error { u.Username, u.Email = "Bob", ""; return nil })))
	if got, err := s.GetUserByUsername(ctx, r.ID, "bob"); err != nil || got.Username != "Bob" {
		t.Fatalf("after case change: %+v %v", got, err)
	}
	wantErr(t, errOf(s.GetUserByEmail(ctx, r.ID, "b@x.io")), store.ErrNotFound)
	must(t, s.CreateUser(ctx, r.ID, store.User{ID: id("u"), Username: "bea", Email: "B@x.io"}))
}

func testDeleteUserCascades(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	c, u, hash := fill(t, s, r.ID)
	s1, rt1 := newSession(c, u, time.Hour)
	must(t, s.CreateSession(ctx, r.ID, s1, rt1))
	// A user whose ID has the first's as a prefix keeps its session.
	u2 := store.User{ID: u.ID + "0", Username: "bob"}
	must(t, s.CreateUser(ctx, r.ID, u2))
	s2, rt2 := newSession(c, u2, time.Hour)
	must(t, s.CreateSession(ctx, r.ID, s2, rt2))

	must(t, s.DeleteUser(ctx, r.ID, u.ID))
	wantGone(t, "user deleted", map[string]error{
		"user":        errOf(s.GetUser(ctx, r.ID, u.ID)),
		"by username": errOf(s.GetUserByUsername(ctx, r.ID, "alice")),
		"by email":    errOf(s.GetUserByEmail(ctx, r.ID, "alice@example.com")),
		"token":       errOf(s.GetRefreshToken(ctx, r.ID, hash)),
		"session":     errOf(s.GetSession(ctx, r.ID, s1.ID)),
		"token 2":     errOf(s.GetRefreshToken(ctx, r.ID, rt1.Hash)),
	})
	if sessions, _ := s.ListSessions(ctx, r.ID, store.SessionQuery{UserID: u.ID}); len(sessions) != 0 {
		t.Errorf("sessions survive: %v", sessions)
	}
	if sessions, _ := s.ListSessions(ctx, r.ID, store.SessionQuery{ClientID: c.ID}); len(sessions) != 1 || sessions[0].ID != s2.ID {
		t.Errorf("client's sessions after user deletion = %v", sessions)
	}
	wantThere(t, "user deleted", map[string]error{
		"client":        errOf(s.GetClient(ctx, r.ID, c.ID)),
		"other session": errOf(s.GetSession(ctx, r.ID, s2.ID)),
		"other token":   errOf(s.GetRefreshToken(ctx, r.ID, rt2.Hash)),
	})
	must(t, s.CreateUser(ctx, r.ID, store.User{ID: id("u"), Username: "ALICE", Email: "Alice@example.com"}))
	wantErr(t, s.DeleteUser(ctx, r.ID, u.ID), store.ErrNotFound)
}

// Federated identity links: found by (alias, provider user ID), unique per
// realm, moved by user updates, gone with the user, with the provider, and
// with the realm's other realms untouched.
func testFederatedIdentities(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	other := mustRealm(t, s, "other")
	for _, realmID := range []string{r.ID, other.ID} {
		must(t, s.CreateIdentityProvider(ctx, realmID, store.IdentityProvider{Alias: "cp", ProviderID: "oidc"}))
		must(t, s.CreateIdentityProvider(ctx, realmID, store.IdentityProvider{Alias: "ext", ProviderID: "oidc"}))
	}
	link := func(alias, sub string) store.FederatedIdentity {
		return store.FederatedIdentity{IdentityProvider: alias, UserID: sub, UserName: "n-" + sub}
	}
	alice := store.User{ID: id("u"), Username: "alice", Enabled: true,
		FederatedIdentities: []store.FederatedIdentity{link("cp", "cp-1"), link("ext", "ext-1")}}
	must(t, s.CreateUser(ctx, r.ID, alice))
	got, err := s.GetUserByFederatedIdentity(ctx, r.ID, "cp", "cp-1")
	must(t, err)
	wantEqual(t, "linked user", got.ID, alice.ID)
	wantEqual(t, "links round-trip", got.FederatedIdentities, alice.FederatedIdentities)
	wantErr(t, errOf(s.GetUserByFederatedIdentity(ctx, other.ID, "cp", "cp-1")), store.ErrNotFound)
	wantErr(t, errOf(s.GetUserByFederatedIdentity(ctx, r.ID, "ext", "cp-1")), store.ErrNotFound)

	// The same provider account cannot be linked to a second user, and a
	// user has one link per provider.
	bob := store.User{ID: id("u"), Username: "bob", Enabled: true}
	must(t, s.CreateUser(ctx, r.ID, bob))
	_, err = s.UpdateUser(ctx, r.ID, bob.ID, func(u *store.User) error {
		u.FederatedIdentities = []store.FederatedIdentity{link("cp", "cp-1")}
		return nil
	})
	wantConflict(t, err, "user", "federatedIdentity")
	wantConflict(t, s.CreateUser(ctx, r.ID, store.User{ID: id("u"), Username: "carol",
		FederatedIdentities: []store.FederatedIdentity{link("cp", "cp-1")}}), "user", "federatedIdentity")
	_, err = s.UpdateUser(ctx, r.ID, bob.ID, func(u *store.User) error {
		u.FederatedIdentities = []store.FederatedIdentity{link("cp", "cp-2"), link("cp", "cp-3")}
		return nil
	})
	wantConflict(t, err, "user", "federatedIdentity")
	got, err = s.GetUserByFederatedIdentity(ctx, r.ID, "cp", "cp-1")
	must(t, err)
	wantEqual(t, "owner after refused links", got.ID, alice.ID)

	// Unlinking (an update) frees the account for another user.
	_, err = s.UpdateUser(ctx, r.ID, alice.ID, func(u *store.User) error {
		u.FederatedIdentities = []store.FederatedIdentity{link("ext", "ext-1")}
		return nil
	})
	must(t, err)
	wantErr(t, errOf(s.GetUserByFederatedIdentity(ctx, r.ID, "cp", "cp-1")), store.ErrNotFound)
	_, err = s.UpdateUser(ctx, r.ID, bob.ID, func(u *store.User) error {
		u.FederatedIdentities = []store.FederatedIdentity{link("cp", "cp-1")}
		return nil
	})
	must(t, err)
	got, err = s.GetUserByFederatedIdentity(ctx, r.ID, "cp", "cp-1")
	must(t, err)
	wantEqual(t, "new owner", got.ID, bob.ID)

	// Deleting the provider removes its links from every user; a provider
	// re-created under the alias inherits none.
	must(t, s.DeleteIdentityProvider(ctx, r.ID, "cp"))
	wantErr(t, errOf(s.GetUserByFederatedIdentity(ctx, r.ID, "cp", "cp-1")), store.ErrNotFound)
	b, err := s.GetUser(ctx, r.ID, bob.ID)
	must(t, err)
	if len(b.FederatedIdentities) != 0 {
		t.Fatalf("links left after the provider was deleted: %v", b.FederatedIdentities)
	}
	must(t, s.CreateIdentityProvider(ctx, r.ID, store.IdentityProvider{Alias: "cp", ProviderID: "oidc"}))
	wantErr(t, errOf(s.GetUserByFederatedIdentity(ctx, r.ID, "cp", "cp-1")), store.ErrNotFound)

	// Deleting the user removes its links.
	must(t, s.DeleteUser(ctx, r.ID, alice.ID))
	wantErr(t, errOf(s.GetUserByFederatedIdentity(ctx, r.ID, "ext", "ext-1")), store.ErrNotFound)
	must(t, s.CreateUser(ctx, r.ID, store.User{ID: id("u"), Username: "dave",
		FederatedIdentities: []store.FederatedIdentity{link("ext", "ext-1")}}))
}

func testUsersByRoleAndGroup(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	for _, u := range []store.User{
		{ID: id("user"), Username: "ann", Enabled: true, RoleIDs: []string{"r1"}, GroupIDs: []string{"g1"}},
		{ID: id("user"), Username: "bob", Enabled: true, RoleIDs: []string{"r1", "r2"}},
		{ID: id("user"), Username: "cy", Enabled: true, GroupIDs: []string{"g1", "g2"}},
	} {
		must(t, s.CreateUser(ctx, r.ID, u))
	}
	names := func(q store.UserQuery) string {
		us, err := s.ListUsers(ctx, r.ID, q)
		must(t, err)
		var out []string
		for _, u := range us {
			out = append(out, u.Username)
		}
		n, err := s.CountUsers(ctx, r.ID, q)
		must(t, err)
		return fmt.Sprint(out, n)
	}
	for _, tc := range []struct {
		q    store.UserQuery
		want string
	}{
		{store.UserQuery{RoleID: "r1"}, "[ann bob] 2"},
		{store.UserQuery{RoleID: "r2"}, "[bob] 1"},
		{store.UserQuery{GroupID: "g1"}, "[ann cy] 2"},
		{store.UserQuery{GroupID: "g1", Page: store.Page{First: 1}}, "[cy] 2"},
		{store.UserQuery{GroupID: "g1", RoleID: "r1"}, "[ann] 1"},
		{store.UserQuery{GroupID: "g3"}, "[] 0"},
	} {
		if got := names(tc.q); got != tc.want {
			t.Errorf("ListUsers(%+v) = %s, want %s", tc.q, got, tc.want)
		}
	}
}
