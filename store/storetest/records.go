package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// recordTests check promises every record kind keeps: round trips, aborted updates, copies.
var recordTests = []conformanceTest{
	{"RecordsRoundTripEveryField", testRoundTrip},
	{"UpdateFnErrorAbortsAndIsReturnedAsIs", testUpdateAborts},
	{"ReturnedRecordsAreCopies", testCopies},
}

// Every field written comes back, for every record type.
func testRoundTrip(t *testing.T, s store.Store) {
	now := clock()
	r := store.Realm{ID: id("realm"), Name: "full", DisplayName: "Full Realm", Enabled: true,
		AccessTokenLifespan: 300, SSOSessionIdleTimeout: 1800, SSOSessionMaxLifespan: 36000,
		DefaultSignatureAlgorithm: "ES256", RevokeRefreshToken: true, RefreshTokenMaxReuse: 2,
		RefreshTokenReuseGraceSeconds: 5, NotBefore: 1700000000,
		BruteForce: store.BruteForcePolicy{Protected: true, PermanentLockout: true, FailureFactor: 30,
			WaitIncrementSeconds: 60, MaxFailureWaitSeconds: 900, MaxDeltaTimeSeconds: 43200,
			QuickLoginCheckMilliSeconds: 1000, MinimumQuickLoginWaitSeconds: 60},
		DefaultRoleID: "default-roles", Attributes: map[string]string{"frontendUrl": "https://idp.example"}, CreatedAt: now}
	must(t, s.CreateRealm(ctx, r))
	wantEqual(t, "realm", try(s.GetRealm(ctx, r.Name)).must(t), r)

	c := store.Client{ID: id("client"), ClientID: "full-app", Name: "Full", Description: "every field",
		Enabled: true, PublicClient: true, BearerOnly: true, ConsentRequired: true, StandardFlowEnabled: true,
		DirectAccessGrantsEnabled: true, ServiceAccountsEnabled: true,
		RedirectURIs: []string{"https://app/cb", "https://app/*"}, WebOrigins: []string{"+"},
		Attributes: map[string]string{"pkce.code.challenge.method": "S256"},
		Secret:     &store.Secret{Sealed: []byte{1, 2, 3}, Digest: []byte{4, 5}, CreatedAt: now},
		Rotated:    &store.Secret{Sealed: []byte{6}, Digest: []byte{7}, CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour)},
		CreatedAt:  now}
	must(t, s.CreateClient(ctx, r.ID, c))
	wantEqual(t, "client", try(s.GetClient(ctx, r.ID, c.ID)).must(t), c)
	wantEqual(t, "client by clientId", try(s.GetClientByClientID(ctx, r.ID, c.ClientID)).must(t), c)

	u := store.User{ID: id("user"), Username: "Full.User", Email: "Full@Example.com", EmailVerified: true,
		FirstName: "Full", LastName: "User", Enabled: true,
		Attributes: map[string][]string{"locale": {"en"}, "groups": {"a", "b"}}, RoleIDs: []string{"r1", "r2"}, GroupIDs: []string{"g1"},
		Credentials: []store.Credential{{ID: "cred", Type: "password", UserLabel: "main", CreatedAt: now,
			Algorithm: "argon2", Iterations: 5, Salt: []byte("salt"), Hash: []byte("hash"),
			Params: map[string]string{"memory": "7168"}, Temporary: true}},
		RequiredActions: []string{"UPDATE_PASSWORD"}, ServiceAccountClientID: c.ID, NotBefore: 1700000001, CreatedAt: now}
	must(t, s.CreateUser(ctx, r.ID, u))
	wantEqual(t, "user", try(s.GetUser(ctx, r.ID, u.ID)).must(t), u)
	// Case is kept in the record even though lookups ignore it.
	wantEqual(t, "user by username", try(s.GetUserByUsername(ctx, r.ID, "full.user")).must(t), u)

	role := store.Role{ID: id("role"), Name: "Full", Description: "d", ClientID: c.ID, Composites: []string{"x", "y"},
		Attributes: map[string][]string{"k": {"v"}}}
	must(t, s.CreateRole(ctx, r.ID, role))
	wantEqual(t, "role", try(s.GetRole(ctx, r.ID, role.ID)).must(t), role)

	k := store.SigningKey{KID: id("kid"), Algorithm: "EdDSA", Status: store.KeyPassive, SealedPrivate: []byte{9, 8},
		PublicJWK: []byte(`{"kty":"OKP"}`), CreatedAt: now}
	must(t, s.CreateKey(ctx, r.ID, k))
	keys, err := s.ListKeys(ctx, r.ID)
	must(t, err)
	wantEqual(t, "keys", keys, []store.SigningKey{k})
}

// Update methods run fn on a copy: an error from fn aborts the whole write
// (record and indexes, even after fn mutated nested maps) and is returned
// unchanged; an unknown record is ErrNotFound.
func testUpdateAborts(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	c := store.Client{ID: id("c"), ClientID: "app", Attributes: map[string]string{"k": "v"}, RedirectURIs: []string{"https://a"}}
	must(t, s.CreateClient(ctx, r.ID, c))
	u := store.User{ID: id("u"), Username: "alice", Email: "alice@x.io", Attributes: map[string][]string{"k": {"v"}}}
	must(t, s.CreateUser(ctx, r.ID, u))
	role := store.Role{ID: id("role"), Name: "reader", Composites: []string{"x"}}
	must(t, s.CreateRole(ctx, r.ID, role))
	key := store.SigningKey{KID: id("kid"), Algorithm: "RS256", Status: store.KeyActive, PublicJWK: []byte("{}"), CreatedAt: clock()}
	must(t, s.CreateKey(ctx, r.ID, key))
	must(t, errOf(s.UpdateRealm(ctx, r.ID, func(x *store.Realm) error { x.Attributes = map[string]string{"k": "v"}; return nil })))

	boom := errors.New("boom")
	ret := func(fail bool) error {
		if fail {
			return boom
		}
		return nil
	}
	for _, tc := range []struct {
		name string
		get  func() (any, error)
		// update changes the record (unique name included) and returns
		// boom when fail is set.
		update func(id string, fail bool) error
		id     string
		// byOldName / byNewName look the record up by its unique name.
		byOldName, byNewName func() error
	}{
		{
			name: "realm", id: r.ID,
			get: func() (any, error) { return s.GetRealmByID(ctx, r.ID) },
			update: func(id string, fail bool) error {
				return errOf(s.UpdateRealm(ctx, id, func(x *store.Realm) error {
					x.Name, x.Enabled = "renamed", false
					x.Attributes["k"] = "changed"
					return ret(fail)
				}))
			},
			byOldName: func() error { return errOf(s.GetRealm(ctx, "demo")) },
			byNewName: func() error { return errOf(s.GetRealm(ctx, "renamed")) },
		},
		{
			name: "client", id: c.ID,
			get: func() (any, error) { return s.GetClient(ctx, r.ID, c.ID) },
			update: func(id string, fail bool) error {
				return errOf(s.UpdateClient(ctx, r.ID, id, func(x *store.Client) error {
					x.ClientID = "renamed"
					x.Attributes["k"] = "changed"
					x.RedirectURIs[0] = "changed"
					return ret(fail)
				}))
			},
			byOldName: func() error { return errOf(s.GetClientByClientID(ctx, r.ID, "app")) },
			byNewName: func() error { return errOf(s.GetClientByClientID(ctx, r.ID, "renamed")) },
		},
		{
			name: "user", id: u.ID,
			get: func() (any, error) { return s.GetUser(ctx, r.ID, u.ID) },
			update: func(id string, fail bool) error {
				return errOf(s.UpdateUser(ctx, r.ID, id, func(x *store.User) error {
					x.Username, x.Email = "renamed", "renamed@x.io"
					x.Attributes["k"][0] = "changed"
					return ret(fail)
				}))
			},
			byOldName: func() error {
				if err := errOf(s.GetUserByEmail(ctx, r.ID, "alice@x.io")); err != nil {
					return err
				}
				return errOf(s.GetUserByUsername(ctx, r.ID, "alice"))
			},
			byNewName: func() error {
				if err := errOf(s.GetUserByEmail(ctx, r.ID, "renamed@x.io")); !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("new email indexed: %v", err)
				}
				return errOf(s.GetUserByUsername(ctx, r.ID, "renamed"))
			},
		},
		{
			name: "role", id: role.ID,
			get: func() (any, error) { return s.GetRole(ctx, r.ID, role.ID) },
			update: func(id string, fail bool) error {
				return errOf(s.UpdateRole(ctx, r.ID, id, func(x *store.Role) error {
					x.Name = "renamed"
					x.Composites[0] = "changed"
					return ret(fail)
				}))
			},
			byOldName: func() error { return errOf(s.GetRoleByName(ctx, r.ID, "", "reader")) },
			byNewName: func() error { return errOf(s.GetRoleByName(ctx, r.ID, "", "renamed")) },
		},
		{
			name: "key", id: key.KID,
			get: func() (any, error) {
				keys, err := s.ListKeys(ctx, r.ID)
				return keys, err
			},
			update: func(id string, fail bool) error {
				return errOf(s.UpdateKey(ctx, r.ID, id, func(x *store.SigningKey) error {
					x.Status = store.KeyDisabled
					x.PublicJWK[0] = 'X'
					return ret(fail)
				}))
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, err := tc.get()
			must(t, err)
			if err := tc.update(tc.id, true); err != boom {
				t.Fatalf("update returned %v, want the fn's error as is", err)
			}
			after, err := tc.get()
			must(t, err)
			wantEqual(t, "record after aborted update", after, before)
			if tc.byOldName != nil {
				if err := tc.byOldName(); err != nil {
					t.Errorf("old name lost by the aborted update: %v", err)
				}
				if err := tc.byNewName(); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("new name indexed by the aborted update: %v", err)
				}
			}
			wantErr(t, tc.update("missing", false), store.ErrNotFound)
		})
	}
}

// Records handed in or out are copies: mutating them afterwards, or in an
// aborted update, changes nothing stored.
func testCopies(t *testing.T, s store.Store) {
	r := store.Realm{ID: id("realm"), Name: "demo", Attributes: map[string]string{"k": "v"}}
	must(t, s.CreateRealm(ctx, r))
	r.Attributes["k"] = "changed after create"
	c := store.Client{ID: id("c"), ClientID: "app", Attributes: map[string]string{"k": "v"}, RedirectURIs: []string{"a"},
		Secret: &store.Secret{Digest: []byte{1}, Sealed: []byte{2}}}
	must(t, s.CreateClient(ctx, r.ID, c))
	c.Attributes["k"], c.RedirectURIs[0], c.Secret.Digest[0] = "changed", "changed", 9
	u := store.User{ID: id("u"), Username: "alice", Attributes: map[string][]string{"k": {"v"}}, RoleIDs: []string{"r"},
		Credentials: []store.Credential{{ID: "p", Hash: []byte{1}, Params: map[string]string{"k": "v"}}}}
	must(t, s.CreateUser(ctx, r.ID, u))
	u.Attributes["k"][0], u.RoleIDs[0], u.Credentials[0].Hash[0] = "changed", "changed", 9
	role := store.Role{ID: id("role"), Name: "reader", Composites: []string{"x"}}
	must(t, s.CreateRole(ctx, r.ID, role))
	role.Composites[0] = "changed"
	key := store.SigningKey{KID: "k", PublicJWK: []byte("{}"), SealedPrivate: []byte{1}}
	must(t, s.CreateKey(ctx, r.ID, key))
	key.PublicJWK[0] = 'X'

	// Mutate everything the store hands out.
	if got, err := s.GetRealm(ctx, "demo"); err == nil {
		got.Attributes["k"] = "changed"
	}
	for _, got := range []func() (store.Client, error){
		func() (store.Client, error) { return s.GetClient(ctx, r.ID, c.ID) },
		func() (store.Client, error) { return s.GetClientByClientID(ctx, r.ID, "app") },
		func() (store.Client, error) { return firstListed(s.ListClients(ctx, r.ID, store.ClientQuery{})) },
		func() (store.Client, error) {
			return s.UpdateClient(ctx, r.ID, c.ID, func(x *store.Client) error { return nil })
		},
	} {
		x, err := got()
		must(t, err)
		x.Attributes["k"], x.RedirectURIs[0], x.Secret.Digest[0] = "changed", "changed", 9
	}
	for _, got := range []func() (store.User, error){
		func() (store.User, error) { return s.GetUser(ctx, r.ID, u.ID) },
		func() (store.User, error) { return s.GetUserByUsername(ctx, r.ID, "alice") },
		func() (store.User, error) { return firstListed(s.ListUsers(ctx, r.ID, store.UserQuery{})) },
	} {
		x, err := got()
		must(t, err)
		x.Attributes["k"][0], x.RoleIDs[0], x.Credentials[0].Hash[0] = "changed", "changed", 9
		x.Credentials[0].Params["k"] = "changed"
	}
	if got, err := s.GetRole(ctx, r.ID, role.ID); err == nil {
		got.Composites[0] = "changed"
	}
	if keys, err := s.ListKeys(ctx, r.ID); err == nil && len(keys) == 1 {
		keys[0].PublicJWK[0] = 'X'
	}
	// An aborted update's mutations do not leak either.
	boom := errors.New("boom")
	_, _ = s.UpdateUser(ctx, r.ID, u.ID, func(x *store.User) error { x.Attributes["k"][0] = "changed"; return boom })

	if got, _ := s.GetRealm(ctx, "demo"); got.Attributes["k"] != "v" {
		t.Error("realm attributes changed")
	}
	if got, _ := s.GetClient(ctx, r.ID, c.ID); got.Attributes["k"] != "v" || got.RedirectURIs[0] != "a" || got.Secret.Digest[0] != 1 {
		t.Errorf("client changed: %+v", got)
	}
	if got, _ := s.GetUser(ctx, r.ID, u.ID); got.Attributes["k"][0] != "v" || got.RoleIDs[0] != "r" ||
		got.Credentials[0].Hash[0] != 1 || got.Credentials[0].Params["k"] != "v" {
		t.Errorf("user changed: %+v", got)
	}
	if got, _ := s.GetRole(ctx, r.ID, role.ID); got.Composites[0] != "x" {
		t.Errorf("role changed: %+v", got)
	}
	if keys, _ := s.ListKeys(ctx, r.ID); len(keys) != 1 || string(keys[0].PublicJWK) != "{}" {
		t.Errorf("key changed: %+v", keys)
	}
}
