package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatehouse/gatehouse/store"
)

// RunTests runs the conformance suite; newStore returns an empty store that
// the test may close.
//
// Times written by the suite are truncated to the millisecond and compared
// with time.Time.Equal (go-cmp uses the Equal method), so a backend may
// round-trip them through JSON or a database column of millisecond or finer
// precision, in any time zone. Empty and nil maps and slices are equal.
// "Ordered by" a name means Go's bytewise string order ("Zeta" before
// "alpha") except where the interface says lower-cased (users).
func RunTests(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"RealmCRUDAndUniqueName", testRealmCRUD},
		{"RealmRenameAndAbortedUpdate", testRealmRename},
		{"RealmDeleteRemovesEverything", testRealmDelete},
		{"RealmCreateWithContentsAllOrNothing", testRealmCreateWith},
		{"RecordsRoundTripEveryField", testRoundTrip},
		{"UpdateFnErrorAbortsAndIsReturnedAsIs", testUpdateAborts},
		{"ClientsUniquePerRealmAndListing", testClients},
		{"UsersUniqueCaseInsensitiveAndQueries", testUsers},
		{"UserUpdateMovesIndexes", testUserUpdate},
		{"RolesNamespacesAndRename", testRoles},
		{"GroupsTreeSiblingsMoveAndDelete", testGroups},
		{"UsersByRoleAndGroup", testUsersByRoleAndGroup},
		{"KeysOrderedByCreation", testKeys},
		{"DeleteClientCascades", testDeleteClientCascades},
		{"DeleteUserEndsSessions", testDeleteUserCascades},
		{"SessionCreateAndGet", testSessionRoundTrip},
		{"RotateRefreshToken", testRotate},
		{"RotateRefreshTokenExpiredWritesNothing", testRotateExpired},
		{"RotateRefreshTokenReusePolicy", testRotateReuse},
		{"ConcurrentRotationOneWinner", testConcurrentRotation},
		{"SessionsListAndDelete", testSessions},
		{"RevokedAccessTokens", testRevokedJTI},
		{"DeleteExpired", testDeleteExpired},
		{"AdminEventsNewestFirst", testAdminEvents},
		{"LoginEventsFilterAndDelete", testLoginEvents},
		{"ReturnedRecordsAreCopies", testCopies},
		{"IdentityProvidersCRUD", testIDPs},
		{"FederatedIdentityLinks", testFederatedIdentities},
		{"TopologiesCRUD", testTopologies},
		{"KnoxTokensLimitAndExpiry", testKnoxTokens},
		{"KnoxTokensFollowTheUserID", testKnoxTokensByUserID},
		{"LoginFailures", testLoginFailures},
		{"AuthCodeSingleUseAcrossCallers", testAuthCodeSingleUse},
		{"AuthCodeExpiredAndUnknown", testAuthCodeExpired},
		{"SessionWithoutTokenThenAddRefreshToken", testAddRefreshToken},
		{"DeviceCodesByUserCodeAndExpiry", testDeviceCodes},
		{"ClientScopesCRUDAndUniqueName", testClientScopes},
		{"ClientScopeFieldsOfClientsAndRealms", testClientScopeFields},
	}
	tests = append(tests, credentialTests...)
	tests = append(tests, authzTests...)
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

// clock is the current time at the precision every backend must keep.
func clock() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

func mustRealm(t *testing.T, s store.Store, name string) store.Realm {
	t.Helper()
	r := store.Realm{ID: id("realm"), Name: name, Enabled: true, CreatedAt: clock()}
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

// wantGone reports every named lookup that did not fail with ErrNotFound.
func wantGone(t *testing.T, why string, lookups map[string]error) {
	t.Helper()
	for name, err := range lookups {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %s still there (err %v)", why, name, err)
		}
	}
}

// wantThere reports every named lookup that failed.
func wantThere(t *testing.T, why string, lookups map[string]error) {
	t.Helper()
	for name, err := range lookups {
		if err != nil {
			t.Errorf("%s: %s lost: %v", why, name, err)
		}
	}
}

func wantConflict(t *testing.T, err error, kind, field string) {
	t.Helper()
	var ce *store.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, store.ErrAlreadyExists) || ce.Kind != kind || ce.Field != field {
		t.Fatalf("got %v, want a %s conflict on %s", err, kind, field)
	}
}

var cmpOpts = []cmp.Option{cmpopts.EquateEmpty()}

func wantEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpOpts...); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

func errOf[T any](_ T, err error) error { return err }

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

// fill puts one of everything into a realm and returns the client, the user
// and the session's first refresh-token hash.
func fill(t *testing.T, s store.Store, realmID string) (store.Client, store.User, string) {
	t.Helper()
	c := store.Client{ID: id("client"), ClientID: "app", Enabled: true}
	must(t, s.CreateClient(ctx, realmID, c))
	u := store.User{ID: id("user"), Username: "alice", Email: "alice@example.com", Enabled: true}
	must(t, s.CreateUser(ctx, realmID, u))
	must(t, s.CreateRole(ctx, realmID, store.Role{ID: id("role"), Name: "reader"}))
	must(t, s.CreateRole(ctx, realmID, store.Role{ID: id("role"), Name: "viewer", ClientID: c.ID}))
	must(t, s.CreateKey(ctx, realmID, store.SigningKey{KID: id("kid"), Algorithm: "RS256", Status: store.KeyActive, CreatedAt: clock()}))
	sess, rt := newSession(c, u, time.Hour)
	must(t, s.CreateSession(ctx, realmID, sess, rt))
	must(t, s.RevokeAccessToken(ctx, realmID, "jti-"+realmID, clock().Add(time.Hour)))
	return c, u, rt.Hash
}

func newSession(c store.Client, u store.User, ttl time.Duration) (store.Session, store.RefreshToken) {
	return newSessionAt(c, u, clock(), ttl, ttl)
}

// newSessionAt makes a session ending at now+sessTTL with a first token
// ending at now+rtTTL.
func newSessionAt(c store.Client, u store.User, now time.Time, sessTTL, rtTTL time.Duration) (store.Session, store.RefreshToken) {
	sess := store.Session{ID: id("sess"), ClientID: c.ID, UserID: u.ID, Scope: "openid profile email",
		AuthTime: now, LastRefresh: now, ExpiresAt: now.Add(sessTTL)}
	return sess, refreshToken(sess, now, rtTTL)
}

func refreshToken(sess store.Session, now time.Time, ttl time.Duration) store.RefreshToken {
	return store.RefreshToken{Hash: id("hash"), SessionID: sess.ID, ClientID: sess.ClientID, UserID: sess.UserID,
		Scope: sess.Scope, IssuedAt: now, ExpiresAt: now.Add(ttl)}
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

// result holds a (value, error) pair for inline use: try(s.Get(...)).must(t).
type result[T any] struct {
	v   T
	err error
}

func try[T any](v T, err error) result[T] { return result[T]{v, err} }

// must returns the value, failing the test on the error.
func (r result[T]) must(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

// listed names each of xs, in order, as fmt prints a []string: the
// listings tests compare against.
func listed[T any](xs []T, name func(T) string) string {
	var out []string
	for _, x := range xs {
		out = append(out, name(x))
	}
	return fmt.Sprint(out)
}

// firstListed returns the first record of a listing; an empty one is an
// error.
func firstListed[T any](l []T, err error) (T, error) {
	if len(l) == 0 {
		var zero T
		return zero, fmt.Errorf("no %T listed: %v", zero, err)
	}
	return l[0], err
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

func testRoles(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	for _, name := range []string{"writer", "admin", "reader"} {
		must(t, s.CreateRole(ctx, r.ID, store.Role{ID: id("role"), Name: name}))
	}
	wantConflict(t, s.CreateRole(ctx, r.ID, store.Role{ID: id("role"), Name: "admin"}), "role", "name")
	// Client namespaces are independent of the realm's and of each other,
	// even when one client ID is a prefix of another.
	for _, cr := range []struct{ client, name string }{
		{"client-1", "admin"}, {"client-1", "zz"}, {"client-1", "b"},
		{"client-10", "admin"}, {"client-10", "a"},
	} {
		must(t, s.CreateRole(ctx, r.ID, store.Role{ID: id("role"), Name: cr.name, ClientID: cr.client}))
	}
	wantConflict(t, s.CreateRole(ctx, r.ID, store.Role{ID: id("role"), Name: "zz", ClientID: "client-1"}), "role", "name")
	must(t, s.CreateRole(ctx, r.ID, store.Role{ID: id("role"), Name: "Admin"})) // names are case-sensitive

	names := func(rs []store.Role) string {
		return listed(rs, func(r store.Role) string { return r.ClientID + "/" + r.Name })
	}
	for _, tc := range []struct {
		client string
		page   store.Page
		want   string
	}{
		{"", store.Page{}, "[/Admin /admin /reader /writer]"},
		{"", store.Page{First: 1, Max: 2}, "[/admin /reader]"},
		{"", store.Page{First: 4}, "[]"},
		{"client-1", store.Page{}, "[client-1/admin client-1/b client-1/zz]"},
		{"client-1", store.Page{First: 2, Max: 5}, "[client-1/zz]"},
		{"client-10", store.Page{}, "[client-10/a client-10/admin]"},
		{"client-10", store.Page{Max: 1}, "[client-10/a]"},
		{"client-2", store.Page{}, "[]"},
	} {
		got, err := s.ListRoles(ctx, r.ID, tc.client, tc.page)
		must(t, err)
		if names(got) != tc.want {
			t.Errorf("ListRoles(%q, %+v) = %s, want %s", tc.client, tc.page, names(got), tc.want)
		}
	}
	cr, err := s.GetRoleByName(ctx, r.ID, "client-1", "admin")
	must(t, err)
	rr, err := s.GetRoleByName(ctx, r.ID, "", "admin")
	must(t, err)
	if cr.ID == rr.ID || cr.ClientID != "client-1" || rr.ClientID != "" {
		t.Fatal("client and realm role namespaces mixed up")
	}
	wantErr(t, errOf(s.GetRoleByName(ctx, r.ID, "", "zz")), store.ErrNotFound)
	wantErr(t, errOf(s.GetRoleByName(ctx, r.ID, "client-1", "reader")), store.ErrNotFound)
	wantErr(t, errOf(s.GetRoleByName(ctx, r.ID, "", "ADMIN")), store.ErrNotFound)

	up, err := s.UpdateRole(ctx, r.ID, rr.ID, func(x *store.Role) error { x.Name = "superuser"; x.Description = "su"; return nil })
	must(t, err)
	if up.Name != "superuser" || up.ID != rr.ID {
		t.Fatal(up)
	}
	if _, err := s.GetRoleByName(ctx, r.ID, "", "admin"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("old role name still indexed")
	}
	if got, err := s.GetRoleByName(ctx, r.ID, "", "superuser"); err != nil || got.ID != rr.ID || got.Description != "su" {
		t.Fatalf("renamed role: %+v %v", got, err)
	}
	if got, _ := s.GetRoleByName(ctx, r.ID, "client-1", "admin"); got.ID != cr.ID {
		t.Fatal("renaming the realm role touched the client role")
	}
	_, err = s.UpdateRole(ctx, r.ID, rr.ID, func(x *store.Role) error { x.Name = "reader"; return nil })
	wantConflict(t, err, "role", "name")
	if got, _ := s.GetRole(ctx, r.ID, rr.ID); got.Name != "superuser" {
		t.Fatalf("conflicting rename changed the role: %+v", got)
	}
	must(t, s.CreateRole(ctx, r.ID, store.Role{ID: id("role"), Name: "admin"})) // freed by the rename
	must(t, s.DeleteRole(ctx, r.ID, rr.ID))
	wantGone(t, "deleted role", map[string]error{
		"by ID":   errOf(s.GetRole(ctx, r.ID, rr.ID)),
		"by name": errOf(s.GetRoleByName(ctx, r.ID, "", "superuser")),
	})
	wantErr(t, s.DeleteRole(ctx, r.ID, rr.ID), store.ErrNotFound)
}

func testKeys(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	other := mustRealm(t, s, "other")
	base := clock()
	for _, k := range []struct {
		kid string
		at  time.Duration
	}{{"k3", 2 * time.Second}, {"k1", 4 * time.Second}, {"k4", time.Second}, {"k2", 3 * time.Second}} {
		// Creation order differs from both kid order and CreatedAt order.
		must(t, s.CreateKey(ctx, r.ID, store.SigningKey{KID: k.kid, Algorithm: "RS256", Status: store.KeyActive, CreatedAt: base.Add(k.at)}))
	}
	must(t, s.CreateKey(ctx, other.ID, store.SigningKey{KID: "k0", Status: store.KeyActive, CreatedAt: base}))
	kids := func() string {
		keys, err := s.ListKeys(ctx, r.ID)
		must(t, err)
		return listed(keys, func(k store.SigningKey) string { return k.KID + ":" + k.Status })
	}
	if got := kids(); got != "[k4:active k3:active k2:active k1:active]" {
		t.Fatalf("keys = %s", got)
	}
	up, err := s.UpdateKey(ctx, r.ID, "k3", func(k *store.SigningKey) error { k.Status = store.KeyPassive; return nil })
	must(t, err)
	if up.Status != store.KeyPassive || up.KID != "k3" || !up.CreatedAt.Equal(base.Add(2*time.Second)) {
		t.Fatal(up)
	}
	if got := kids(); got != "[k4:active k3:passive k2:active k1:active]" {
		t.Fatalf("keys after update = %s", got)
	}
	wantConflict(t, s.CreateKey(ctx, r.ID, store.SigningKey{KID: "k1"}), "key", "kid")
	wantErr(t, errOf(s.UpdateKey(ctx, r.ID, "k0", func(*store.SigningKey) error { return nil })), store.ErrNotFound)
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

// chain sets up a realm with a session and returns it with its first token.
func chain(t *testing.T, s store.Store, ttl time.Duration) (store.Realm, store.RefreshToken) {
	t.Helper()
	r := mustRealm(t, s, id("realm"))
	return r, chainIn(t, s, r, clock(), ttl, ttl)
}

// chainIn starts a session in r at now and returns its first token.
func chainIn(t *testing.T, s store.Store, r store.Realm, now time.Time, sessTTL, rtTTL time.Duration) store.RefreshToken {
	t.Helper()
	c := store.Client{ID: id("c"), ClientID: id("app")}
	u := store.User{ID: id("u"), Username: id("alice")}
	must(t, s.CreateClient(ctx, r.ID, c))
	must(t, s.CreateUser(ctx, r.ID, u))
	sess, rt := newSessionAt(c, u, now, sessTTL, rtTTL)
	must(t, s.CreateSession(ctx, r.ID, sess, rt))
	return rt
}

func sessionOf(t *testing.T, s store.Store, realmID string, rt store.RefreshToken) store.Session {
	t.Helper()
	sess, err := s.GetSession(ctx, realmID, rt.SessionID)
	must(t, err)
	return sess
}

func testSessionRoundTrip(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	c, u := store.Client{ID: id("c"), ClientID: "app"}, store.User{ID: id("u"), Username: "alice"}
	must(t, s.CreateClient(ctx, r.ID, c))
	must(t, s.CreateUser(ctx, r.ID, u))
	now := clock()
	sess, rt := newSessionAt(c, u, now.Add(-time.Minute), time.Hour, 30*time.Minute)
	sess.LastRefresh = now
	sess.IPAddress = "192.0.2.7"
	must(t, s.CreateSession(ctx, r.ID, sess, rt))
	wantEqual(t, "session", try(s.GetSession(ctx, r.ID, sess.ID)).must(t), sess)
	wantEqual(t, "refresh token", try(s.GetRefreshToken(ctx, r.ID, rt.Hash)).must(t), rt)
	wantErr(t, errOf(s.GetSession(ctx, r.ID, "missing")), store.ErrNotFound)
	wantErr(t, errOf(s.GetRefreshToken(ctx, r.ID, "missing")), store.ErrNotFound)
	other := mustRealm(t, s, "other")
	wantErr(t, errOf(s.GetSession(ctx, other.ID, sess.ID)), store.ErrNotFound)
	wantErr(t, errOf(s.GetRefreshToken(ctx, other.ID, rt.Hash)), store.ErrNotFound)
}

func testRotate(t *testing.T, s store.Store) {
	r, sess, rt1 := chainWithSession(t, s)
	now := clock().Add(time.Second)
	rt2 := refreshToken(sess, now, time.Hour)
	old, err := s.RotateRefreshToken(ctx, r.ID, rt1.Hash, rt2, store.RotationPolicy{}, now)
	must(t, err)
	want := rt1
	want.UsedAt, want.UseCount = now, 1
	wantEqual(t, "returned old token", old, want)
	wantEqual(t, "stored old token", try(s.GetRefreshToken(ctx, r.ID, rt1.Hash)).must(t), want)
	wantEqual(t, "new token", try(s.GetRefreshToken(ctx, r.ID, rt2.Hash)).must(t), rt2)
	wantSess := sess
	wantSess.LastRefresh = now
	wantEqual(t, "session", try(s.GetSession(ctx, r.ID, sess.ID)).must(t), wantSess)

	for name, hash := range map[string]string{"unknown": "unknown", "empty": ""} {
		next := refreshToken(sess, now, time.Hour)
		_, err = s.RotateRefreshToken(ctx, r.ID, hash, next, store.RotationPolicy{}, now)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s token: %v, want ErrNotFound", name, err)
		}
		wantErr(t, errOf(s.GetRefreshToken(ctx, r.ID, next.Hash)), store.ErrNotFound)
	}
	_, err = s.RotateRefreshToken(ctx, "missing-realm", rt2.Hash, refreshToken(sess, now, time.Hour), store.RotationPolicy{}, now)
	wantErr(t, err, store.ErrNotFound)

	// The chain goes on: rt2 → rt3, then rt1 is reused under the strict
	// policy: the whole family goes, durably, the newest token included.
	rt3 := refreshToken(sess, now, time.Hour)
	must(t, errOf(s.RotateRefreshToken(ctx, r.ID, rt2.Hash, rt3, store.RotationPolicy{}, now.Add(time.Second))))
	rt4 := refreshToken(sess, now, time.Hour)
	_, err = s.RotateRefreshToken(ctx, r.ID, rt1.Hash, rt4, store.RotationPolicy{}, now.Add(2*time.Second))
	wantErr(t, err, store.ErrTokenReused)
	wantGone(t, "strict reuse", map[string]error{
		"session":          errOf(s.GetSession(ctx, r.ID, sess.ID)),
		"reused token":     errOf(s.GetRefreshToken(ctx, r.ID, rt1.Hash)),
		"middle token":     errOf(s.GetRefreshToken(ctx, r.ID, rt2.Hash)),
		"newest token":     errOf(s.GetRefreshToken(ctx, r.ID, rt3.Hash)),
		"the offered next": errOf(s.GetRefreshToken(ctx, r.ID, rt4.Hash)),
	})
	if got, _ := s.ListSessions(ctx, r.ID, store.SessionQuery{UserID: sess.UserID}); len(got) != 0 {
		t.Errorf("revoked session still listed: %v", got)
	}
	// A token whose session is gone is not found.
	_, err = s.RotateRefreshToken(ctx, r.ID, rt3.Hash, refreshToken(sess, now, time.Hour), store.RotationPolicy{}, now.Add(3*time.Second))
	wantErr(t, err, store.ErrNotFound)
	_, err = s.RotateRefreshToken(ctx, r.ID, rt1.Hash, refreshToken(sess, now, time.Hour), store.RotationPolicy{}, now.Add(3*time.Second))
	wantErr(t, err, store.ErrNotFound)
}

// chainWithSession is chain returning the stored session.
func chainWithSession(t *testing.T, s store.Store) (store.Realm, store.Session, store.RefreshToken) {
	t.Helper()
	r, rt := chain(t, s, time.Hour)
	return r, sessionOf(t, s, r.ID, rt), rt
}

// An expired token or session is refused with ErrTokenExpired and nothing is
// written: not the next token, not UsedAt, not LastRefresh, and a reused but
// expired token does not revoke the family.
func testRotateExpired(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	base := clock()
	for _, tc := range []struct {
		name           string
		sessTTL, rtTTL time.Duration
		rotateFirstAt  time.Duration // rotate once at this offset first (0: don't)
		presentAt      time.Duration
	}{
		{name: "token expired", sessTTL: time.Hour, rtTTL: time.Minute, presentAt: 2 * time.Minute},
		{name: "session expired", sessTTL: time.Minute, rtTTL: time.Hour, presentAt: 2 * time.Minute},
		{name: "both expired", sessTTL: time.Minute, rtTTL: time.Minute, presentAt: 2 * time.Minute},
		{name: "reused after its expiry", sessTTL: time.Hour, rtTTL: time.Minute, rotateFirstAt: 30 * time.Second, presentAt: 2 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := chainIn(t, s, r, base, tc.sessTTL, tc.rtTTL)
			sess := sessionOf(t, s, r.ID, rt)
			var successor store.RefreshToken
			if tc.rotateFirstAt > 0 {
				successor = refreshToken(sess, base, time.Hour)
				must(t, errOf(s.RotateRefreshToken(ctx, r.ID, rt.Hash, successor, store.RotationPolicy{}, base.Add(tc.rotateFirstAt))))
			}
			beforeRT := try(s.GetRefreshToken(ctx, r.ID, rt.Hash)).must(t)
			beforeSess := sessionOf(t, s, r.ID, rt)
			next := refreshToken(sess, base, time.Hour)
			_, err := s.RotateRefreshToken(ctx, r.ID, rt.Hash, next, store.RotationPolicy{}, base.Add(tc.presentAt))
			wantErr(t, err, store.ErrTokenExpired)
			wantErr(t, errOf(s.GetRefreshToken(ctx, r.ID, next.Hash)), store.ErrNotFound)
			wantEqual(t, "token after refusal", try(s.GetRefreshToken(ctx, r.ID, rt.Hash)).must(t), beforeRT)
			wantEqual(t, "session after refusal", sessionOf(t, s, r.ID, rt), beforeSess)
			if tc.rotateFirstAt > 0 {
				if _, err := s.GetRefreshToken(ctx, r.ID, successor.Hash); err != nil {
					t.Errorf("an expired reuse revoked the family: %v", err)
				}
			}
		})
	}
}

// Reuse of a rotated-out token: allowed while now-UsedAt <= Grace and
// UseCount <= MaxReuse, then the family is revoked.
func testRotateReuse(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	for _, tc := range []struct {
		name string
		p    store.RotationPolicy
		// reuses are the offsets, from the first rotation, at which the
		// first token is presented again.
		reuses []time.Duration
		// allowed of them succeed; the one after is ErrTokenReused.
		allowed int
	}{
		{"strict", store.RotationPolicy{}, []time.Duration{0}, 0},
		{"strict ignores MaxReuse", store.RotationPolicy{MaxReuse: 5}, []time.Duration{time.Millisecond}, 0},
		{"grace with MaxReuse 0", store.RotationPolicy{Grace: 10 * time.Second}, []time.Duration{time.Second}, 0},
		{"one reuse", store.RotationPolicy{Grace: 10 * time.Second, MaxReuse: 1}, []time.Duration{5 * time.Second, 6 * time.Second}, 1},
		{"up to MaxReuse", store.RotationPolicy{Grace: 10 * time.Second, MaxReuse: 3}, []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second}, 3},
		{"at the grace boundary", store.RotationPolicy{Grace: 10 * time.Second, MaxReuse: 2}, []time.Duration{10 * time.Second, 10*time.Second + time.Millisecond}, 1},
		{"after the grace", store.RotationPolicy{Grace: 10 * time.Second, MaxReuse: 5}, []time.Duration{10*time.Second + time.Millisecond}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := clock()
			first := chainIn(t, s, r, base, time.Hour, time.Hour)
			sess := sessionOf(t, s, r.ID, first)
			minted := []store.RefreshToken{refreshToken(sess, base, time.Hour)}
			must(t, errOf(s.RotateRefreshToken(ctx, r.ID, first.Hash, minted[0], tc.p, base)))
			for i, off := range tc.reuses {
				next := refreshToken(sess, base, time.Hour)
				old, err := s.RotateRefreshToken(ctx, r.ID, first.Hash, next, tc.p, base.Add(off))
				if i < tc.allowed {
					must(t, err)
					if old.UseCount != i+2 || !old.UsedAt.Equal(base) {
						t.Errorf("reuse %d returned UseCount %d UsedAt %v, want %d and the first use", i+1, old.UseCount, old.UsedAt, i+2)
					}
					if got, _ := s.GetSession(ctx, r.ID, sess.ID); !got.LastRefresh.Equal(base.Add(off)) {
						t.Errorf("reuse %d: LastRefresh = %v", i+1, got.LastRefresh)
					}
					minted = append(minted, next)
					// Every token minted so far is valid.
					for j, m := range minted {
						if _, err := s.GetRefreshToken(ctx, r.ID, m.Hash); err != nil {
							t.Fatalf("after reuse %d, token %d lost: %v", i+1, j, err)
						}
					}
					continue
				}
				wantErr(t, err, store.ErrTokenReused)
				lookups := map[string]error{
					"session":       errOf(s.GetSession(ctx, r.ID, sess.ID)),
					"reused token":  errOf(s.GetRefreshToken(ctx, r.ID, first.Hash)),
					"offered token": errOf(s.GetRefreshToken(ctx, r.ID, next.Hash)),
				}
				for j, m := range minted {
					lookups[fmt.Sprintf("minted token %d", j)] = errOf(s.GetRefreshToken(ctx, r.ID, m.Hash))
				}
				wantGone(t, "revoked family", lookups)
				return
			}
			t.Fatal("the policy never revoked")
		})
	}
}

func testConcurrentRotation(t *testing.T, s store.Store) {
	r, sess, rt := chainWithSession(t, s)
	const n = 8
	errs := make([]error, n)
	nexts := make([]store.RefreshToken, n)
	for i := range nexts {
		nexts[i] = refreshToken(sess, clock(), time.Hour)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = s.RotateRefreshToken(ctx, r.ID, rt.Hash, nexts[i], store.RotationPolicy{}, time.Now())
		}()
	}
	close(start)
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
	lookups := map[string]error{
		"session":   errOf(s.GetSession(ctx, r.ID, sess.ID)),
		"old token": errOf(s.GetRefreshToken(ctx, r.ID, rt.Hash)),
	}
	for i, next := range nexts {
		lookups[fmt.Sprint("next token ", i)] = errOf(s.GetRefreshToken(ctx, r.ID, next.Hash))
	}
	wantGone(t, "concurrent reuse", lookups)
}

func testSessions(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	c1, c2 := store.Client{ID: id("c"), ClientID: "one"}, store.Client{ID: id("c"), ClientID: "two"}
	u, v := store.User{ID: id("u"), Username: "alice"}, store.User{ID: id("u"), Username: "bob"}
	must(t, s.CreateClient(ctx, r.ID, c1))
	must(t, s.CreateClient(ctx, r.ID, c2))
	must(t, s.CreateUser(ctx, r.ID, u))
	must(t, s.CreateUser(ctx, r.ID, v))
	s1, rt1 := newSession(c1, u, time.Hour)
	s2, rt2 := newSession(c2, u, time.Hour)
	s3, rt3 := newSession(c2, v, time.Hour)
	for _, x := range []struct {
		s  store.Session
		rt store.RefreshToken
	}{{s1, rt1}, {s2, rt2}, {s3, rt3}} {
		must(t, s.CreateSession(ctx, r.ID, x.s, x.rt))
	}
	// A second token in s1's family.
	rt1b := refreshToken(s1, clock(), time.Hour)
	must(t, errOf(s.RotateRefreshToken(ctx, r.ID, rt1.Hash, rt1b, store.RotationPolicy{}, clock())))

	ids := func(q store.SessionQuery) string {
		got, err := s.ListSessions(ctx, r.ID, q)
		must(t, err)
		set := map[string]bool{}
		for _, x := range got {
			set[x.ID] = true
		}
		var out []string
		for _, x := range []store.Session{s1, s2, s3} {
			if set[x.ID] {
				out = append(out, x.ID)
			}
		}
		if len(out) != len(got) {
			t.Errorf("ListSessions(%+v) returned unknown or duplicate sessions: %v", q, got)
		}
		return fmt.Sprint(out)
	}
	for _, tc := range []struct {
		q    store.SessionQuery
		want []store.Session
	}{
		{store.SessionQuery{UserID: u.ID}, []store.Session{s1, s2}},
		{store.SessionQuery{UserID: v.ID}, []store.Session{s3}},
		{store.SessionQuery{ClientID: c1.ID}, []store.Session{s1}},
		{store.SessionQuery{ClientID: c2.ID}, []store.Session{s2, s3}},
		{store.SessionQuery{UserID: u.ID, ClientID: c2.ID}, []store.Session{s2}},
		{store.SessionQuery{UserID: "nobody"}, nil},
	} {
		var want []string
		for _, x := range tc.want {
			want = append(want, x.ID)
		}
		if got := ids(tc.q); got != fmt.Sprint(want) {
			t.Errorf("ListSessions(%+v) = %s, want %v", tc.q, got, want)
		}
	}

	must(t, s.DeleteSession(ctx, r.ID, s1.ID))
	wantGone(t, "deleted session", map[string]error{
		"session":       errOf(s.GetSession(ctx, r.ID, s1.ID)),
		"rotated token": errOf(s.GetRefreshToken(ctx, r.ID, rt1.Hash)),
		"current token": errOf(s.GetRefreshToken(ctx, r.ID, rt1b.Hash)),
	})
	wantErr(t, s.DeleteSession(ctx, r.ID, s1.ID), store.ErrNotFound)
	wantErr(t, s.DeleteSession(ctx, r.ID, "missing"), store.ErrNotFound)
	wantThere(t, "deleted another session", map[string]error{
		"session": errOf(s.GetSession(ctx, r.ID, s2.ID)),
		"token":   errOf(s.GetRefreshToken(ctx, r.ID, rt2.Hash)),
	})
	if got := ids(store.SessionQuery{UserID: u.ID}); got != fmt.Sprint([]string{s2.ID}) {
		t.Errorf("after delete, user's sessions = %s", got)
	}
	if got := ids(store.SessionQuery{ClientID: c1.ID}); got != "[]" {
		t.Errorf("after delete, client's sessions = %s", got)
	}
}

func testRevokedJTI(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	other := mustRealm(t, s, "other")
	must(t, s.RevokeAccessToken(ctx, r.ID, "jti-1", clock().Add(time.Minute)))
	must(t, s.RevokeAccessToken(ctx, r.ID, "jti-1", clock().Add(time.Minute))) // idempotent
	if ok, err := s.IsAccessTokenRevoked(ctx, r.ID, "jti-1"); err != nil || !ok {
		t.Fatalf("revoked = %v, %v", ok, err)
	}
	if ok, err := s.IsAccessTokenRevoked(ctx, r.ID, "jti-2"); ok || err != nil {
		t.Fatalf("unknown jti: revoked = %v, %v", ok, err)
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
	now := clock()
	mk := func(sessTTL, rtTTL time.Duration) (store.Session, store.RefreshToken) {
		sess, rt := newSessionAt(c, u, now, sessTTL, rtTTL)
		must(t, s.CreateSession(ctx, r.ID, sess, rt))
		return sess, rt
	}
	both, bothRT := mk(time.Minute, time.Minute)
	tokOnly, tokOnlyRT := mk(time.Hour, time.Minute) // the token expires, its session lives
	sessOnly, sessOnlyRT := mk(time.Minute, time.Hour)
	live, liveRT := mk(time.Hour, time.Hour)
	liveRotated := refreshToken(live, now, time.Hour)
	must(t, errOf(s.RotateRefreshToken(ctx, r.ID, liveRT.Hash, liveRotated, store.RotationPolicy{}, now)))
	must(t, s.RevokeAccessToken(ctx, r.ID, "old-jti", now.Add(time.Minute)))
	must(t, s.RevokeAccessToken(ctx, r.ID, "new-jti", now.Add(time.Hour)))

	// Nothing is expired yet.
	n, err := s.DeleteExpired(ctx, now, 100)
	must(t, err)
	if n != 0 {
		t.Fatalf("DeleteExpired before any expiry = %d", n)
	}

	later := now.Add(10 * time.Minute)
	n, err = s.DeleteExpired(ctx, later, 1)
	must(t, err)
	if n != 1 {
		t.Fatalf("limit 1 deleted %d", n)
	}
	for i := 0; ; i++ {
		if i == 50 {
			t.Fatal("DeleteExpired never reports 0")
		}
		n, err := s.DeleteExpired(ctx, later, 2)
		must(t, err)
		if n > 2 {
			t.Fatalf("limit 2 deleted %d", n)
		}
		if n == 0 {
			break
		}
	}
	wantGone(t, "expired", map[string]error{
		"expired session":                   errOf(s.GetSession(ctx, r.ID, both.ID)),
		"its token":                         errOf(s.GetRefreshToken(ctx, r.ID, bothRT.Hash)),
		"expired token":                     errOf(s.GetRefreshToken(ctx, r.ID, tokOnlyRT.Hash)),
		"expired session with a live token": errOf(s.GetSession(ctx, r.ID, sessOnly.ID)),
		"that live token":                   errOf(s.GetRefreshToken(ctx, r.ID, sessOnlyRT.Hash)),
	})
	if ok, _ := s.IsAccessTokenRevoked(ctx, r.ID, "old-jti"); ok {
		t.Error("expired revoked jti kept")
	}
	wantThere(t, "unexpired", map[string]error{
		"session of an expired token": errOf(s.GetSession(ctx, r.ID, tokOnly.ID)),
		"live session":                errOf(s.GetSession(ctx, r.ID, live.ID)),
		"its rotated-out token":       errOf(s.GetRefreshToken(ctx, r.ID, liveRT.Hash)),
		"its current token":           errOf(s.GetRefreshToken(ctx, r.ID, liveRotated.Hash)),
	})
	if ok, _ := s.IsAccessTokenRevoked(ctx, r.ID, "new-jti"); !ok {
		t.Error("unexpired revoked jti deleted")
	}
	if got, _ := s.ListSessions(ctx, r.ID, store.SessionQuery{UserID: u.ID}); len(got) != 2 {
		t.Errorf("sessions left = %v, want the 2 unexpired", got)
	}
	// Once everything has expired, everything goes.
	for i := 0; ; i++ {
		if i == 50 {
			t.Fatal("DeleteExpired never reports 0")
		}
		if n, err := s.DeleteExpired(ctx, now.Add(2*time.Hour), 100); err != nil || n == 0 {
			must(t, err)
			break
		}
	}
	if got, _ := s.ListSessions(ctx, r.ID, store.SessionQuery{UserID: u.ID}); len(got) != 0 {
		t.Errorf("sessions left after all expired = %v", got)
	}
	wantGone(t, "all expired", map[string]error{"token": errOf(s.GetRefreshToken(ctx, r.ID, liveRotated.Hash))})
	if ok, _ := s.IsAccessTokenRevoked(ctx, r.ID, "new-jti"); ok {
		t.Error("expired revoked jti kept")
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
	other := mustRealm(t, s, "other")
	must(t, s.AppendAdminEvent(ctx, other.ID, store.AdminEvent{ID: "o", Time: base, OperationType: "CREATE"}))
	must(t, s.DeleteAdminEvents(ctx, r.ID))
	if got := try(s.ListAdminEvents(ctx, r.ID, store.Page{})).must(t); len(got) != 0 {
		t.Errorf("after delete: %v", got)
	}
	must(t, s.AppendAdminEvent(ctx, r.ID, store.AdminEvent{ID: "after", Time: base, OperationType: "DELETE"}))
	if got := try(s.ListAdminEvents(ctx, r.ID, store.Page{})).must(t); len(got) != 1 {
		t.Errorf("append after delete: %v", got)
	}
	if got := try(s.ListAdminEvents(ctx, other.ID, store.Page{})).must(t); len(got) != 1 {
		t.Errorf("other realm's events: %v", got)
	}
	wantErr(t, s.DeleteAdminEvents(ctx, "missing"), store.ErrNotFound)
}

func testLoginEvents(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	other := mustRealm(t, s, "other")
	base := clock()
	ev := func(i int, typ, client, user, ip string) store.LoginEvent {
		return store.LoginEvent{ID: fmt.Sprintf("e%d", i), Time: base.Add(time.Duration(i) * time.Second), Type: typ,
			ClientID: client, UserID: user, SessionID: "s" + user, IPAddress: ip, Details: map[string]string{"grant_type": "password"}}
	}
	all := []store.LoginEvent{
		ev(0, "LOGIN", "app", "u1", "192.0.2.1"),
		ev(1, "LOGIN_ERROR", "app", "", "192.0.2.2"),
		ev(2, "CLIENT_LOGIN", "svc", "u2", "192.0.2.1"),
		ev(3, "REFRESH_TOKEN", "app", "u1", "192.0.2.1"),
		ev(4, "LOGIN", "other", "u1", "192.0.2.3"),
	}
	all[1].Error = "invalid_user_credentials"
	must(t, s.AppendLoginEvents(ctx, r.ID, all[:2]))
	must(t, s.AppendLoginEvents(ctx, r.ID, all[2:]))
	must(t, s.AppendLoginEvents(ctx, other.ID, []store.LoginEvent{ev(9, "LOGIN", "app", "u9", "")}))
	wantErr(t, s.AppendLoginEvents(ctx, "missing", all[:1]), store.ErrNotFound)
	ids := func(q store.LoginEventQuery) []string {
		t.Helper()
		got, err := s.ListLoginEvents(ctx, r.ID, q)
		must(t, err)
		out := []string{}
		for _, e := range got {
			out = append(out, e.ID)
		}
		return out
	}
	for name, tc := range map[string]struct {
		q    store.LoginEventQuery
		want []string
	}{
		"all newest first":  {store.LoginEventQuery{}, []string{"e4", "e3", "e2", "e1", "e0"}},
		"types":             {store.LoginEventQuery{Types: []string{"LOGIN", "LOGIN_ERROR"}}, []string{"e4", "e1", "e0"}},
		"client":            {store.LoginEventQuery{ClientID: "app"}, []string{"e3", "e1", "e0"}},
		"user":              {store.LoginEventQuery{UserID: "u1"}, []string{"e4", "e3", "e0"}},
		"ip":                {store.LoginEventQuery{IPAddress: "192.0.2.1"}, []string{"e3", "e2", "e0"}},
		"from and to":       {store.LoginEventQuery{From: base.Add(time.Second), To: base.Add(3 * time.Second)}, []string{"e3", "e2", "e1"}},
		"page after filter": {store.LoginEventQuery{Page: store.Page{First: 1, Max: 1}, ClientID: "app"}, []string{"e1"}},
		"nothing":           {store.LoginEventQuery{UserID: "nobody"}, []string{}},
	} {
		if got := ids(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
	got, err := s.ListLoginEvents(ctx, r.ID, store.LoginEventQuery{Types: []string{"LOGIN_ERROR"}})
	must(t, err)
	wantEqual(t, "event", got[0], all[1])
	n, err := s.DeleteLoginEvents(ctx, r.ID, base.Add(2*time.Second), 100)
	must(t, err)
	if n != 2 || !slices.Equal(ids(store.LoginEventQuery{}), []string{"e4", "e3", "e2"}) {
		t.Errorf("delete before e2: %d gone, left %v", n, ids(store.LoginEventQuery{}))
	}
	n, err = s.DeleteLoginEvents(ctx, r.ID, time.Time{}, 2)
	must(t, err)
	if n != 2 || !slices.Equal(ids(store.LoginEventQuery{}), []string{"e4"}) {
		t.Errorf("delete all, limit 2: %d gone, left %v", n, ids(store.LoginEventQuery{}))
	}
	if got, err := s.ListLoginEvents(ctx, other.ID, store.LoginEventQuery{}); err != nil || len(got) != 1 {
		t.Errorf("the other realm's events: %v %v", got, err)
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
		return store.KnoxToken{ID: id, UserID: "id-" + user, Username: user, CreatedByID: "id-" + user, CreatedBy: user,
			IssuedAt: now.Add(issued), ExpiresAt: now.Add(life), Enabled: true}
	}
	limit := store.KnoxTokenLimit{Max: 2, Now: now}
	must(t, s.CreateKnoxToken(ctx, r.ID, tok("t1", "alice", 0, time.Hour), limit))
	must(t, s.CreateKnoxToken(ctx, r.ID, tok("t2", "alice", time.Second, time.Hour), limit))
	must(t, s.CreateKnoxToken(ctx, r.ID, tok("b1", "bob", 0, time.Hour), limit))
	wantErr(t, s.CreateKnoxToken(ctx, r.ID, tok("t3", "alice", 2*time.Second, time.Hour), limit), store.ErrLimitExceeded)
	limit.RemoveOldest = true
	must(t, s.CreateKnoxToken(ctx, r.ID, tok("t3", "alice", 2*time.Second, time.Hour), limit))
	wantErr(t, errOf(s.GetKnoxToken(ctx, r.ID, "t1")), store.ErrNotFound)
	mine, err := s.ListKnoxTokens(ctx, r.ID, store.KnoxTokenQuery{UserID: "id-alice"})
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

// A token belongs to its owner's user ID: a later user with the same
// name neither lists it nor has it counted against their limit, and a row
// without an owner ID (written before tokens were bound) matches no user.
func testKnoxTokensByUserID(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	now := time.Now().UTC().Truncate(time.Millisecond)
	tok := func(id, userID string) store.KnoxToken {
		return store.KnoxToken{ID: id, UserID: userID, Username: "alice", CreatedByID: userID, CreatedBy: "alice",
			Topology: "authtkn", IssuedAt: now, ExpiresAt: now.Add(time.Hour), MaxLifetime: now.Add(2 * time.Hour), Enabled: true}
	}
	limit := store.KnoxTokenLimit{Max: 1, Now: now}
	must(t, s.CreateKnoxToken(ctx, r.ID, tok("old", "u-old"), limit))
	must(t, s.CreateKnoxToken(ctx, r.ID, tok("legacy", ""), limit))
	// The old alice's token does not count toward the new alice's limit.
	must(t, s.CreateKnoxToken(ctx, r.ID, tok("new", "u-new"), limit))
	wantErr(t, s.CreateKnoxToken(ctx, r.ID, tok("new2", "u-new"), limit), store.ErrLimitExceeded)
	ids := func(q store.KnoxTokenQuery) []string {
		t.Helper()
		toks, err := s.ListKnoxTokens(ctx, r.ID, q)
		must(t, err)
		out := []string{}
		for _, k := range toks {
			out = append(out, k.ID)
		}
		return out
	}
	for _, c := range []struct {
		q    store.KnoxTokenQuery
		want []string
	}{
		{store.KnoxTokenQuery{UserID: "u-new"}, []string{"new"}},
		{store.KnoxTokenQuery{CreatedByID: "u-new"}, []string{"new"}},
		{store.KnoxTokenQuery{UserID: "u-old", CreatedByID: "u-old"}, []string{"old"}},
		{store.KnoxTokenQuery{UserID: "u-old", CreatedByID: "u-new"}, []string{}},
		{store.KnoxTokenQuery{UserID: "alice"}, []string{}},
	} {
		got := ids(c.q)
		if d := cmp.Diff(c.want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
			t.Errorf("ListKnoxTokens(%+v) (-want +got):\n%s", c.q, d)
		}
	}
	if d := cmp.Diff([]string{"legacy", "new", "old"}, ids(store.KnoxTokenQuery{}), cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
		t.Errorf("all tokens (-want +got):\n%s", d)
	}
	// Update keeps the owner and records who disabled the token.
	up, err := s.UpdateKnoxToken(ctx, r.ID, "new", func(k *store.KnoxToken) error {
		k.Enabled, k.DisabledBy = false, store.KnoxDisabledByAdmin
		return nil
	})
	must(t, err)
	got, err := s.GetKnoxToken(ctx, r.ID, "new")
	must(t, err)
	want := tok("new", "u-new")
	want.Enabled, want.DisabledBy = false, store.KnoxDisabledByAdmin
	if d := cmp.Diff(want, got); d != "" || up.UserID != "u-new" {
		t.Errorf("after update (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"new"}, ids(store.KnoxTokenQuery{UserID: "u-new"})); d != "" {
		t.Errorf("owner index after update (-want +got):\n%s", d)
	}
	must(t, s.DeleteKnoxToken(ctx, r.ID, "new"))
	if got := ids(store.KnoxTokenQuery{UserID: "u-new"}); len(got) != 0 {
		t.Errorf("deleted token still listed: %v", got)
	}
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

	// Client records are kept per client and remote address: listing one
	// client's prefix finds its addresses and nothing of a client whose ID
	// merely starts the same way.
	for _, k := range []string{"client:c1@10.0.0.2", "client:c1@10.0.0.1", "client:c10@10.0.0.1", "user:c1"} {
		_, err := s.UpdateLoginFailure(ctx, r.ID, k, func(f *store.LoginFailure) error { f.NumFailures++; return nil })
		must(t, err)
	}
	fs, err := s.ListLoginFailures(ctx, r.ID, "client:c1@")
	must(t, err)
	if len(fs) != 2 || fs[0].Key != "client:c1@10.0.0.1" || fs[1].Key != "client:c1@10.0.0.2" || fs[0].NumFailures != 1 {
		t.Fatalf("ListLoginFailures(client:c1@) = %+v", fs)
	}
	must(t, s.DeleteLoginFailure(ctx, r.ID, "client:c1@10.0.0.1"))
	if fs, _ := s.ListLoginFailures(ctx, r.ID, "client:c1@"); len(fs) != 1 || fs[0].Key != "client:c1@10.0.0.2" {
		t.Fatalf("after deleting one address: %+v", fs)
	}
	other := mustRealm(t, s, "other")
	if fs, err := s.ListLoginFailures(ctx, other.ID, "client:"); err != nil || len(fs) != 0 {
		t.Fatalf("another realm's list: %v %+v", err, fs)
	}

	// Pruning deletes what the predicate calls stale, under the prefix only.
	_, err = s.UpdateLoginFailure(ctx, r.ID, "client:c1@10.0.0.3", func(f *store.LoginFailure) error { f.NumFailures = 5; return nil })
	must(t, err)
	n, err := s.PruneLoginFailures(ctx, r.ID, "client:", func(f store.LoginFailure) bool { return f.NumFailures < 5 })
	must(t, err)
	if n != 2 { // client:c1@10.0.0.2 and client:c10@10.0.0.1
		t.Fatalf("pruned %d, want 2", n)
	}
	fs, err = s.ListLoginFailures(ctx, r.ID, "")
	must(t, err)
	if len(fs) != 2 || fs[0].Key != "client:c1@10.0.0.3" || fs[1].Key != "user:c1" {
		t.Fatalf("after pruning: %+v", fs)
	}
	if n, err := s.PruneLoginFailures(ctx, other.ID, "client:", func(store.LoginFailure) bool { return true }); err != nil || n != 0 {
		t.Fatalf("pruning an empty realm: %d %v", n, err)
	}
}

func testAuthCodeSingleUse(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "codes")
	now := clock()
	c := store.AuthCode{Hash: "code-1", ClientID: "c1", UserID: "u1", SessionID: "s1", RedirectURI: "https://app/cb",
		Scope: "openid", Nonce: "n", CodeChallenge: "ch", IssuedAt: now, ExpiresAt: now.Add(time.Minute)}
	must(t, s.CreateAuthCode(ctx, r.ID, c))
	wantErr(t, s.CreateAuthCode(ctx, r.ID, c), store.ErrAlreadyExists)
	// Many concurrent redemptions (replicas racing): exactly one wins, the
	// others see the reuse with the record, so they can revoke.
	const n = 8
	var wins, reuses atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := s.ConsumeAuthCode(ctx, r.ID, "code-1", now)
			switch {
			case err == nil:
				wins.Add(1)
				if got.SessionID != "s1" || got.RedirectURI != c.RedirectURI || got.CodeChallenge != "ch" || got.Nonce != "n" {
					t.Errorf("consumed code = %+v", got)
				}
			case errors.Is(err, store.ErrTokenReused):
				reuses.Add(1)
				if got.SessionID != "s1" {
					t.Errorf("reused code record = %+v", got)
				}
			default:
				t.Errorf("ConsumeAuthCode: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || reuses.Load() != n-1 {
		t.Fatalf("wins %d reuses %d, want 1 and %d", wins.Load(), reuses.Load(), n-1)
	}
	// Another realm cannot see the code.
	r2 := mustRealm(t, s, "codes2")
	if _, err := s.ConsumeAuthCode(ctx, r2.ID, "code-1", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other realm: %v, want ErrNotFound", err)
	}
}

func testAuthCodeExpired(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "codes")
	now := clock()
	if _, err := s.ConsumeAuthCode(ctx, r.ID, "nope", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown code: %v, want ErrNotFound", err)
	}
	must(t, s.CreateAuthCode(ctx, r.ID, store.AuthCode{Hash: "old", ClientID: "c", IssuedAt: now, ExpiresAt: now.Add(time.Minute)}))
	if _, err := s.ConsumeAuthCode(ctx, r.ID, "old", now.Add(time.Minute)); !errors.Is(err, store.ErrTokenExpired) {
		t.Fatalf("expired code: %v, want ErrTokenExpired", err)
	}
	// Expiry wrote nothing: still expired, not reused.
	if _, err := s.ConsumeAuthCode(ctx, r.ID, "old", now.Add(2*time.Minute)); !errors.Is(err, store.ErrTokenExpired) {
		t.Fatalf("expired code again: %v, want ErrTokenExpired", err)
	}
	if _, err := s.DeleteExpired(ctx, now.Add(2*time.Minute), 100); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumeAuthCode(ctx, r.ID, "old", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("code after DeleteExpired: %v, want ErrNotFound", err)
	}
}

func testAddRefreshToken(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "sso")
	now := clock()
	sess := store.Session{ID: id("sess"), UserID: "u1", AuthTime: now, LastRefresh: now, ExpiresAt: now.Add(time.Hour)}
	must(t, s.CreateSession(ctx, r.ID, sess, store.RefreshToken{}))
	got, err := s.GetSession(ctx, r.ID, sess.ID)
	must(t, err)
	if got.UserID != "u1" || got.ClientID != "" {
		t.Fatalf("session = %+v", got)
	}
	rt := store.RefreshToken{Hash: id("rt"), SessionID: sess.ID, ClientID: "c1", UserID: "u1", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	must(t, s.AddRefreshToken(ctx, r.ID, rt, now))
	if _, err := s.GetRefreshToken(ctx, r.ID, rt.Hash); err != nil {
		t.Fatalf("added token: %v", err)
	}
	if err := s.AddRefreshToken(ctx, r.ID, store.RefreshToken{Hash: id("rt"), SessionID: sess.ID, ExpiresAt: now.Add(2 * time.Hour)}, now.Add(time.Hour)); !errors.Is(err, store.ErrTokenExpired) {
		t.Fatalf("add to expired session: %v, want ErrTokenExpired", err)
	}
	// Activity moves LastRefresh forward only, and only while it lives.
	must(t, s.TouchSession(ctx, r.ID, sess.ID, now.Add(time.Minute)))
	must(t, s.TouchSession(ctx, r.ID, sess.ID, now))
	if got, _ := s.GetSession(ctx, r.ID, sess.ID); !got.LastRefresh.Equal(now.Add(time.Minute)) {
		t.Fatalf("LastRefresh after touch = %v, want %v", got.LastRefresh, now.Add(time.Minute))
	}
	if err := s.TouchSession(ctx, r.ID, sess.ID, now.Add(time.Hour)); !errors.Is(err, store.ErrTokenExpired) {
		t.Fatalf("touch expired session: %v", err)
	}
	// Ending the session ends the token added to it.
	must(t, s.DeleteSession(ctx, r.ID, sess.ID))
	if _, err := s.GetRefreshToken(ctx, r.ID, rt.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("token after session end: %v", err)
	}
	if err := s.AddRefreshToken(ctx, r.ID, store.RefreshToken{Hash: id("rt"), SessionID: sess.ID, ExpiresAt: now.Add(time.Hour)}, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("add to ended session: %v, want ErrNotFound", err)
	}
	if err := s.TouchSession(ctx, r.ID, sess.ID, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("touch ended session: %v, want ErrNotFound", err)
	}
}

func testDeviceCodes(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "device")
	now := clock()
	d := store.DeviceCode{Hash: "dev-1", UserCode: "BCDFGHJK", ClientID: "c1", Scope: "openid", Status: store.DevicePending,
		IssuedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
	must(t, s.CreateDeviceCode(ctx, r.ID, d))
	wantErr(t, s.CreateDeviceCode(ctx, r.ID, store.DeviceCode{Hash: "dev-2", UserCode: "BCDFGHJK", ExpiresAt: now.Add(time.Minute)}), store.ErrAlreadyExists)
	wantErr(t, s.CreateDeviceCode(ctx, r.ID, store.DeviceCode{Hash: "dev-1", UserCode: "OTHER", ExpiresAt: now.Add(time.Minute)}), store.ErrAlreadyExists)
	got, err := s.GetDeviceCodeByUserCode(ctx, r.ID, "BCDFGHJK")
	must(t, err)
	if got.Hash != "dev-1" || got.ClientID != "c1" || got.Status != store.DevicePending || !got.ExpiresAt.Equal(d.ExpiresAt) {
		t.Fatalf("device code = %+v", got)
	}
	up, err := s.UpdateDeviceCode(ctx, r.ID, "dev-1", func(x *store.DeviceCode) error {
		x.Status, x.UserID, x.SessionID, x.UserCode = store.DeviceApproved, "u1", "s1", "CHANGED"
		return nil
	})
	must(t, err)
	if up.Status != store.DeviceApproved || up.UserID != "u1" || up.UserCode != "BCDFGHJK" {
		t.Fatalf("updated = %+v", up)
	}
	errStop := errors.New("stop")
	if _, err := s.UpdateDeviceCode(ctx, r.ID, "dev-1", func(x *store.DeviceCode) error { x.Status = "x"; return errStop }); !errors.Is(err, errStop) {
		t.Fatalf("aborted update: %v", err)
	}
	if got, _ := s.GetDeviceCodeByUserCode(ctx, r.ID, "BCDFGHJK"); got.Status != store.DeviceApproved {
		t.Fatalf("aborted update wrote: %+v", got)
	}
	if _, err := s.GetDeviceCodeByUserCode(ctx, mustRealm(t, s, "device2").ID, "BCDFGHJK"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other realm: %v", err)
	}
	if _, err := s.DeleteExpired(ctx, now.Add(11*time.Minute), 100); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetDeviceCodeByUserCode(ctx, r.ID, "BCDFGHJK"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after expiry: %v", err)
	}
	if _, err := s.UpdateDeviceCode(ctx, r.ID, "dev-1", func(*store.DeviceCode) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update after expiry: %v", err)
	}
	// The user code is free again.
	must(t, s.CreateDeviceCode(ctx, r.ID, store.DeviceCode{Hash: "dev-3", UserCode: "BCDFGHJK", ExpiresAt: now.Add(time.Hour)}))
}

func testGroups(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	top := map[string]store.Group{}
	for _, name := range []string{"eng", "ops", "Eng"} { // names are case-sensitive
		g := store.Group{ID: id("group"), Name: name, Description: "the " + name, Attributes: map[string][]string{"k": {name}}, RoleIDs: []string{"role-" + name}}
		must(t, s.CreateGroup(ctx, r.ID, g))
		top[name] = g
	}
	wantConflict(t, s.CreateGroup(ctx, r.ID, store.Group{ID: id("group"), Name: "eng"}), "group", "name")
	backend := store.Group{ID: id("group"), Name: "backend", ParentID: top["eng"].ID}
	must(t, s.CreateGroup(ctx, r.ID, backend))
	// The same name under another parent is a different group.
	must(t, s.CreateGroup(ctx, r.ID, store.Group{ID: id("group"), Name: "backend", ParentID: top["ops"].ID}))
	wantConflict(t, s.CreateGroup(ctx, r.ID, store.Group{ID: id("group"), Name: "backend", ParentID: top["eng"].ID}), "group", "name")
	wantErr(t, s.CreateGroup(ctx, r.ID, store.Group{ID: id("group"), Name: "x", ParentID: "no-such-group"}), store.ErrNotFound)
	leaf := store.Group{ID: id("group"), Name: "db", ParentID: backend.ID}
	must(t, s.CreateGroup(ctx, r.ID, leaf))

	got, err := s.GetGroup(ctx, r.ID, top["eng"].ID)
	must(t, err)
	wantEqual(t, "group round trip", fmt.Sprint(got), fmt.Sprint(top["eng"]))

	names := func(gs []store.Group) string {
		var out []string
		for _, g := range gs {
			out = append(out, g.Name)
		}
		return fmt.Sprint(out)
	}
	for _, tc := range []struct {
		parent string
		page   store.Page
		want   string
	}{
		{"", store.Page{}, "[Eng eng ops]"},
		{"", store.Page{First: 1, Max: 1}, "[eng]"},
		{top["eng"].ID, store.Page{}, "[backend]"},
		{backend.ID, store.Page{}, "[db]"},
		{leaf.ID, store.Page{}, "[]"},
	} {
		gs, err := s.ListGroups(ctx, r.ID, tc.parent, tc.page)
		must(t, err)
		if names(gs) != tc.want {
			t.Errorf("ListGroups(%q, %+v) = %s, want %s", tc.parent, tc.page, names(gs), tc.want)
		}
	}

	// Rename and move keep sibling names unique; a group cannot move under
	// its own descendant.
	wantConflict(t, errOf(s.UpdateGroup(ctx, r.ID, top["ops"].ID, func(g *store.Group) error { g.Name = "eng"; return nil })), "group", "name")
	wantErr(t, errOf(s.UpdateGroup(ctx, r.ID, top["eng"].ID, func(g *store.Group) error { g.ParentID = leaf.ID; return nil })), store.ErrInvalidParent)
	moved, err := s.UpdateGroup(ctx, r.ID, leaf.ID, func(g *store.Group) error { g.ParentID = ""; g.Name = "db-top"; return nil })
	must(t, err)
	if moved.ParentID != "" || moved.Name != "db-top" {
		t.Fatalf("moved group = %+v", moved)
	}
	gs, err := s.ListGroups(ctx, r.ID, backend.ID, store.Page{})
	must(t, err)
	wantEqual(t, "children after move", names(gs), "[]")
	must(t, errOf(s.UpdateGroup(ctx, r.ID, leaf.ID, func(g *store.Group) error { g.ParentID = backend.ID; return nil })))

	// Deleting a group deletes its whole subtree, and nothing else.
	must(t, s.DeleteGroup(ctx, r.ID, top["eng"].ID))
	wantGone(t, "deleted subtree", map[string]error{
		"eng":     errOf(s.GetGroup(ctx, r.ID, top["eng"].ID)),
		"backend": errOf(s.GetGroup(ctx, r.ID, backend.ID)),
		"db":      errOf(s.GetGroup(ctx, r.ID, leaf.ID)),
	})
	gs, err = s.ListGroups(ctx, r.ID, "", store.Page{})
	must(t, err)
	wantEqual(t, "top level after delete", names(gs), "[Eng ops]")
	gs, err = s.ListGroups(ctx, r.ID, top["ops"].ID, store.Page{})
	must(t, err)
	wantEqual(t, "other subtree kept", names(gs), "[backend]")
	// The name is free again.
	must(t, s.CreateGroup(ctx, r.ID, store.Group{ID: id("group"), Name: "eng"}))
	wantErr(t, s.DeleteGroup(ctx, r.ID, top["eng"].ID), store.ErrNotFound)
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

func testClientScopes(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	other := mustRealm(t, s, "other")
	// A realm that never had a client scope lists none.
	wantEqual(t, "empty list", try(s.ListClientScopes(ctx, r.ID)).must(t), nil)
	_, err := s.GetClientScope(ctx, r.ID, "missing")
	wantErr(t, err, store.ErrNotFound)

	full := store.ClientScope{ID: id("scope"), Name: "profile", Description: "d", Protocol: "openid-connect",
		Attributes: map[string]string{"include.in.token.scope": "true"},
		ProtocolMappers: []store.ProtocolMapper{
			{ID: id("m"), Name: "b", Protocol: "openid-connect", ProtocolMapper: "oidc-full-name-mapper", Config: map[string]string{"id.token.claim": "true"}},
			{ID: id("m"), Name: "a", Protocol: "openid-connect", ProtocolMapper: "oidc-usermodel-attribute-mapper"},
		},
		ScopeRoleIDs: []string{"r2", "r1"}}
	must(t, s.CreateClientScope(ctx, r.ID, full))
	wantEqual(t, "scope", try(s.GetClientScope(ctx, r.ID, full.ID)).must(t), full)
	for _, name := range []string{"email", "Zeta"} {
		must(t, s.CreateClientScope(ctx, r.ID, store.ClientScope{ID: id("scope"), Name: name, Protocol: "openid-connect"}))
	}
	wantConflict(t, s.CreateClientScope(ctx, r.ID, store.ClientScope{ID: id("scope"), Name: "email"}), "clientScope", "name")
	wantConflict(t, s.CreateClientScope(ctx, r.ID, store.ClientScope{ID: full.ID, Name: "new"}), "clientScope", "id")
	// Names are per realm.
	must(t, s.CreateClientScope(ctx, other.ID, store.ClientScope{ID: id("scope"), Name: "email"}))

	names := func() string {
		var out []string
		for _, cs := range try(s.ListClientScopes(ctx, r.ID)).must(t) {
			out = append(out, cs.Name)
		}
		return fmt.Sprint(out)
	}
	if got := names(); got != "[Zeta email profile]" {
		t.Errorf("list = %s", got)
	}
	// Rename frees the old name and takes the new one; a taken name is a
	// conflict and writes nothing.
	_, err = s.UpdateClientScope(ctx, r.ID, full.ID, func(cs *store.ClientScope) error { cs.Name = "email"; return nil })
	wantConflict(t, err, "clientScope", "name")
	up, err := s.UpdateClientScope(ctx, r.ID, full.ID, func(cs *store.ClientScope) error {
		cs.Name = "profile2"
		cs.ProtocolMappers = cs.ProtocolMappers[:1]
		return nil
	})
	must(t, err)
	if up.Name != "profile2" || len(up.ProtocolMappers) != 1 {
		t.Errorf("updated = %+v", up)
	}
	if got := names(); got != "[Zeta email profile2]" {
		t.Errorf("list after rename = %s", got)
	}
	must(t, s.CreateClientScope(ctx, r.ID, store.ClientScope{ID: id("scope"), Name: "profile"}))
	must(t, s.DeleteClientScope(ctx, r.ID, full.ID))
	wantErr(t, s.DeleteClientScope(ctx, r.ID, full.ID), store.ErrNotFound)
	_, err = s.GetClientScope(ctx, r.ID, full.ID)
	wantErr(t, err, store.ErrNotFound)
	if got := names(); got != "[Zeta email profile]" {
		t.Errorf("list after delete = %s", got)
	}
	// Deleting the realm deletes its scopes.
	must(t, s.DeleteRealm(ctx, other.ID))
	_, err = s.ListClientScopes(ctx, other.ID)
	wantErr(t, err, store.ErrNotFound)
}

func testClientScopeFields(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	up, err := s.UpdateRealm(ctx, r.ID, func(r *store.Realm) error {
		r.DefaultScopeIDs = []string{"s1", "s2"}
		r.OptionalScopeIDs = []string{"s3"}
		return nil
	})
	must(t, err)
	wantEqual(t, "realm", try(s.GetRealmByID(ctx, r.ID)).must(t), up)
	c := store.Client{ID: id("client"), ClientID: "app", Enabled: true, ScopesAssigned: true,
		DefaultScopeIDs: []string{"s2", "s1"}, OptionalScopeIDs: []string{"s3"},
		ProtocolMappers: []store.ProtocolMapper{{ID: id("m"), Name: "aud", Protocol: "openid-connect",
			ProtocolMapper: "oidc-audience-mapper", Config: map[string]string{"included.custom.audience": "x"}}},
		ScopeRoleIDs: []string{"role-1"}, RestrictScope: true, CreatedAt: clock()}
	must(t, s.CreateClient(ctx, r.ID, c))
	wantEqual(t, "client", try(s.GetClient(ctx, r.ID, c.ID)).must(t), c)
}
