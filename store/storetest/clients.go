package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// clientTests are the conformance cases of this resource.
var clientTests = []conformanceTest{
	{"ClientsUniquePerRealmAndListing", testClients},
	{"DeleteClientCascades", testDeleteClientCascades},
	{"ClientWithServiceAccountAllOrNothing", testClientWithServiceAccount},
	{"ClientUpdateEnsuresItsServiceAccountAllOrNothing", testClientUpdateWithServiceAccount},
}

func testClients(t *testing.T, s store.Store) {
	a, b := mustRealm(t, s, "a"), mustRealm(t, s, "b")
	for _, cid := range []string{"zeta", "Alpha", "beta-app", "gamma"} {
		must(t, s.CreateClient(ctx, a.ID, store.Client{ID: id("c"), ClientID: cid, Enabled: true}))
	}
	wantConflict(t, s.CreateClient(ctx, a.ID, store.Client{ID: id("c"), ClientID: "zeta"}), "client", "clientId")
	bz := store.Client{ID: id("c"), ClientID: "zeta"}
	must(t, s.CreateClient(ctx, b.ID, bz)) // another realm: fine
	if got, err := s.GetClientByClientID(ctx, b.ID, "zeta"); err != nil || got.ID != bz.ID {
		t.Fatalf("realm b's zeta = %+v, %v", got, err)
	}
	_, err := s.GetClientByClientID(ctx, a.ID, "ZETA")
	wantErr(t, err, store.ErrNotFound) // clientId is case-sensitive
	wantErr(t, errOf(s.GetClient(ctx, a.ID, bz.ID)), store.ErrNotFound)
	must(t, s.CreateClient(ctx, a.ID, store.Client{ID: id("c"), ClientID: "Zeta"}))

	names := func(cs []store.Client) string { return listed(cs, func(c store.Client) string { return c.ClientID }) }
	for _, tc := range []struct {
		q    store.ClientQuery
		want string
	}{
		{store.ClientQuery{}, "[Alpha Zeta beta-app gamma zeta]"},
		{store.ClientQuery{ClientID: "gamma"}, "[gamma]"},
		{store.ClientQuery{ClientID: "amm"}, "[]"},
		{store.ClientQuery{ClientID: "ALPHA"}, "[]"},
		{store.ClientQuery{ClientID: "ALPHA", Search: true}, "[Alpha]"},
		{store.ClientQuery{ClientID: "A", Search: true}, "[Alpha Zeta beta-app gamma zeta]"},
		{store.ClientQuery{ClientID: "et", Search: true}, "[Zeta beta-app zeta]"},
		{store.ClientQuery{ClientID: "et", Search: true, Page: store.Page{First: 1, Max: 1}}, "[beta-app]"},
		{store.ClientQuery{Page: store.Page{First: 1, Max: 2}}, "[Zeta beta-app]"},
		{store.ClientQuery{Page: store.Page{Max: 1}}, "[Alpha]"},
		{store.ClientQuery{Page: store.Page{First: 4}}, "[zeta]"},
		{store.ClientQuery{Page: store.Page{First: 10}}, "[]"},
	} {
		got, err := s.ListClients(ctx, a.ID, tc.q)
		must(t, err)
		if names(got) != tc.want {
			t.Errorf("ListClients(%+v) = %s, want %s", tc.q, names(got), tc.want)
		}
	}
	if got, _ := s.ListClients(ctx, b.ID, store.ClientQuery{}); names(got) != "[zeta]" {
		t.Errorf("realm b lists %s", names(got))
	}

	c, _ := s.GetClientByClientID(ctx, a.ID, "gamma")
	up, err := s.UpdateClient(ctx, a.ID, c.ID, func(x *store.Client) error { x.ClientID = "delta"; return nil })
	must(t, err)
	if up.ClientID != "delta" || up.ID != c.ID {
		t.Fatal(up)
	}
	if _, err := s.GetClientByClientID(ctx, a.ID, "gamma"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("old clientId still indexed")
	}
	if got, err := s.GetClientByClientID(ctx, a.ID, "delta"); err != nil || got.ID != c.ID {
		t.Fatalf("new clientId: %+v %v", got, err)
	}
	_, err = s.UpdateClient(ctx, a.ID, c.ID, func(x *store.Client) error { x.ClientID = "zeta"; return nil })
	wantConflict(t, err, "client", "clientId")
	if got, _ := s.GetClient(ctx, a.ID, c.ID); got.ClientID != "delta" {
		t.Fatalf("conflicting update changed the client: %+v", got)
	}
	if got, _ := s.GetClientByClientID(ctx, a.ID, "zeta"); got.ID == c.ID {
		t.Fatal("conflicting update took the other client's clientId")
	}
	must(t, s.CreateClient(ctx, a.ID, store.Client{ID: id("c"), ClientID: "gamma"})) // freed by the rename

	must(t, s.DeleteClient(ctx, a.ID, c.ID))
	wantGone(t, "deleted client", map[string]error{
		"by ID":       errOf(s.GetClient(ctx, a.ID, c.ID)),
		"by clientId": errOf(s.GetClientByClientID(ctx, a.ID, "delta")),
	})
	wantErr(t, s.DeleteClient(ctx, a.ID, c.ID), store.ErrNotFound)
	wantErr(t, errOf(s.GetClient(ctx, "missing-realm", c.ID)), store.ErrNotFound)
}

func testDeleteClientCascades(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	c, u, hash := fill(t, s, r.ID)
	role := store.Role{ID: id("role"), Name: "client-role", ClientID: c.ID}
	must(t, s.CreateRole(ctx, r.ID, role))
	sa := store.User{ID: id("u"), Username: "service-account-app", ServiceAccountClientID: c.ID, Enabled: true}
	must(t, s.CreateUser(ctx, r.ID, sa))
	saSess, saRT := newSession(c, sa, time.Hour)
	must(t, s.CreateSession(ctx, r.ID, saSess, saRT))
	sessions, _ := s.ListSessions(ctx, r.ID, store.SessionQuery{ClientID: c.ID})
	if len(sessions) != 2 {
		t.Fatalf("client sessions before = %v", sessions)
	}

	// A second client whose ID has the first's as a prefix keeps everything.
	c2 := store.Client{ID: c.ID + "0", ClientID: "app2"}
	must(t, s.CreateClient(ctx, r.ID, c2))
	role2 := store.Role{ID: id("role"), Name: "client-role", ClientID: c2.ID}
	must(t, s.CreateRole(ctx, r.ID, role2))
	sa2 := store.User{ID: id("u"), Username: "service-account-app2", ServiceAccountClientID: c2.ID}
	must(t, s.CreateUser(ctx, r.ID, sa2))
	s2, rt2 := newSession(c2, u, time.Hour)
	must(t, s.CreateSession(ctx, r.ID, s2, rt2))

	must(t, s.DeleteClient(ctx, r.ID, c.ID))
	lookups := map[string]error{
		"client":         errOf(s.GetClient(ctx, r.ID, c.ID)),
		"by clientId":    errOf(s.GetClientByClientID(ctx, r.ID, "app")),
		"role":           errOf(s.GetRole(ctx, r.ID, role.ID)),
		"role by name":   errOf(s.GetRoleByName(ctx, r.ID, c.ID, "client-role")),
		"fill's role":    errOf(s.GetRoleByName(ctx, r.ID, c.ID, "viewer")),
		"token":          errOf(s.GetRefreshToken(ctx, r.ID, hash)),
		"sa token":       errOf(s.GetRefreshToken(ctx, r.ID, saRT.Hash)),
		"sa session":     errOf(s.GetSession(ctx, r.ID, saSess.ID)),
		"sa user":        errOf(s.GetUser(ctx, r.ID, sa.ID)),
		"sa by username": errOf(s.GetUserByUsername(ctx, r.ID, sa.Username)),
	}
	for _, sess := range sessions {
		lookups["session "+sess.ID] = errOf(s.GetSession(ctx, r.ID, sess.ID))
	}
	wantGone(t, "client deleted", lookups)
	if got, err := s.ListSessions(ctx, r.ID, store.SessionQuery{ClientID: c.ID}); err != nil || len(got) != 0 {
		t.Errorf("client sessions survive: %v %v", got, err)
	}
	if got, _ := s.ListRoles(ctx, r.ID, c.ID, store.Page{}); len(got) != 0 {
		t.Errorf("client roles still listed: %v", got)
	}
	wantThere(t, "client deleted", map[string]error{
		"the person":            errOf(s.GetUser(ctx, r.ID, u.ID)),
		"realm role":            errOf(s.GetRoleByName(ctx, r.ID, "", "reader")),
		"other client":          errOf(s.GetClientByClientID(ctx, r.ID, "app2")),
		"other client's role":   errOf(s.GetRole(ctx, r.ID, role2.ID)),
		"other client's sa":     errOf(s.GetUser(ctx, r.ID, sa2.ID)),
		"other client's sess":   errOf(s.GetSession(ctx, r.ID, s2.ID)),
		"other client's token":  errOf(s.GetRefreshToken(ctx, r.ID, rt2.Hash)),
		"other role by name":    errOf(s.GetRoleByName(ctx, r.ID, c2.ID, "client-role")),
		"other sa by user name": errOf(s.GetUserByUsername(ctx, r.ID, sa2.Username)),
	})
	// The service account's username is free again.
	must(t, s.CreateUser(ctx, r.ID, store.User{ID: id("u"), Username: sa.Username}))
	wantErr(t, s.DeleteClient(ctx, r.ID, c.ID), store.ErrNotFound)
}

// CreateClientWithServiceAccount stores the client and its service-account
// user together; a conflict on either (the second record fails halfway
// through) leaves neither behind.
func testClientWithServiceAccount(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	sa := func(c store.Client) store.User {
		return store.User{ID: id("u"), Username: "service-account-" + c.ClientID, Enabled: true,
			ServiceAccountClientID: c.ID, RoleIDs: []string{"default-roles"}, CreatedAt: clock()}
	}
	app := store.Client{ID: id("c"), ClientID: "app", Enabled: true, ServiceAccountsEnabled: true, CreatedAt: clock()}
	appSA := sa(app)
	must(t, s.CreateClientWithServiceAccount(ctx, r.ID, app, appSA))
	wantEqual(t, "client", try(s.GetClient(ctx, r.ID, app.ID)).must(t), app)
	wantEqual(t, "service account", try(s.GetUserByUsername(ctx, r.ID, "service-account-app")).must(t), appSA)

	// The user fails after the client went in: no client either.
	bob := store.User{ID: id("u"), Username: "service-account-batch", Enabled: true}
	must(t, s.CreateUser(ctx, r.ID, bob))
	batch := store.Client{ID: id("c"), ClientID: "batch", Enabled: true, ServiceAccountsEnabled: true}
	wantConflict(t, s.CreateClientWithServiceAccount(ctx, r.ID, batch, sa(batch)), "user", "username")
	wantGone(t, "user conflict", map[string]error{
		"client by ID":       errOf(s.GetClient(ctx, r.ID, batch.ID)),
		"client by clientId": errOf(s.GetClientByClientID(ctx, r.ID, "batch")),
	})
	// The client conflicts: no user either.
	again := store.Client{ID: id("c"), ClientID: "app", Enabled: true, ServiceAccountsEnabled: true}
	againSA := sa(again)
	againSA.Username = "service-account-app2"
	wantConflict(t, s.CreateClientWithServiceAccount(ctx, r.ID, again, againSA), "client", "clientId")
	wantGone(t, "client conflict", map[string]error{
		"user by ID":       errOf(s.GetUser(ctx, r.ID, againSA.ID)),
		"user by username": errOf(s.GetUserByUsername(ctx, r.ID, againSA.Username)),
	})
	if n, err := s.CountUsers(ctx, r.ID, store.UserQuery{ServiceAccounts: true}); err != nil || n != 2 {
		t.Errorf("users = %d, %v; want app's service account and bob", n, err)
	}
	wantErr(t, s.CreateClientWithServiceAccount(ctx, "no-such-realm", batch, sa(batch)), store.ErrNotFound)

	// The pair is the client's: deleting the client removes its account.
	must(t, s.DeleteClient(ctx, r.ID, app.ID))
	wantGone(t, "client deleted", map[string]error{"service account": errOf(s.GetUser(ctx, r.ID, appSA.ID))})
}

// UpdateClientWithServiceAccount creates the account the update asks for
// once (a second update finds it), and a conflicting account (a person
// holds its username) fails the client update with it.
func testClientUpdateWithServiceAccount(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	app := store.Client{ID: id("c"), ClientID: "app", Enabled: true}
	must(t, s.CreateClient(ctx, r.ID, app))
	accounts := func() int {
		t.Helper()
		n, err := s.CountUsers(ctx, r.ID, store.UserQuery{ServiceAccounts: true})
		must(t, err)
		return n
	}
	enable := func(c *store.Client) error {
		c.ServiceAccountsEnabled, c.Description = true, "with account"
		return nil
	}
	account := func(c store.Client) *store.User {
		if !c.ServiceAccountsEnabled {
			return nil
		}
		return &store.User{ID: id("u"), Username: "service-account-" + c.ClientID, Enabled: true, ServiceAccountClientID: c.ID}
	}
	got, err := s.UpdateClientWithServiceAccount(ctx, r.ID, app.ID, enable, account)
	must(t, err)
	if !got.ServiceAccountsEnabled || got.ID != app.ID {
		t.Fatalf("updated client = %+v", got)
	}
	sa := try(s.GetUserByUsername(ctx, r.ID, "service-account-app")).must(t)
	if sa.ServiceAccountClientID != app.ID {
		t.Fatalf("service account = %+v", sa)
	}
	// Again: the account is there, no second one.
	must(t, errOf(s.UpdateClientWithServiceAccount(ctx, r.ID, app.ID, enable, account)))
	if n := accounts(); n != 1 {
		t.Fatalf("%d accounts after a second update, want 1", n)
	}
	wantEqual(t, "account after a second update", try(s.GetUser(ctx, r.ID, sa.ID)).must(t), sa)
	// No account wanted: a plain update.
	must(t, errOf(s.UpdateClientWithServiceAccount(ctx, r.ID, app.ID, func(c *store.Client) error { c.ServiceAccountsEnabled = false; return nil }, account)))

	// A person holds the account's username: neither the client nor a
	// user is written.
	batch := store.Client{ID: id("c"), ClientID: "batch", Enabled: true, Description: "before"}
	must(t, s.CreateClient(ctx, r.ID, batch))
	bob := store.User{ID: id("u"), Username: "service-account-batch", Enabled: true}
	must(t, s.CreateUser(ctx, r.ID, bob))
	_, err = s.UpdateClientWithServiceAccount(ctx, r.ID, batch.ID, enable, account)
	wantConflict(t, err, "user", "username")
	wantEqual(t, "client after the failed update", try(s.GetClient(ctx, r.ID, batch.ID)).must(t), batch)
	wantEqual(t, "the person", try(s.GetUserByUsername(ctx, r.ID, "service-account-batch")).must(t), bob)
	if n := accounts(); n != 2 {
		t.Fatalf("%d users after the failed update, want app's account and bob", n)
	}
	wantErr(t, errOf(s.UpdateClientWithServiceAccount(ctx, r.ID, "no-such-client", enable, account)), store.ErrNotFound)
}
