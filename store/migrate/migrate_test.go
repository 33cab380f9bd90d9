package migrate_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/bolt"
	"github.com/gatehouse/gatehouse/store/migrate"
	"github.com/gatehouse/gatehouse/store/postgres"
	"github.com/gatehouse/gatehouse/store/postgres/pgtest"
)

// populated is a bbolt store filled through realms.Service (and the store
// for what only the protocol layer writes), with the secrets it was given.
type populated struct {
	src      *bolt.Store
	sealer   *realms.Sealer
	now      time.Time
	realm    store.Realm
	alice    store.User
	apiKey   string
	rt1, rt2 string // refresh tokens: rt1 rotated out, rt2 current
}

func hash(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

func populate(t *testing.T) *populated {
	t.Helper()
	ctx := context.Background()
	src, err := bolt.Open(filepath.Join(t.TempDir(), "gatehouse.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	sealer, err := realms.NewSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	svc := realms.NewService(src, sealer, func() time.Time { return now })
	p := &populated{src: src, sealer: sealer, now: now}

	if p.realm, err = svc.CreateRealm(ctx, store.Realm{Name: "demo", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	id := p.realm.ID
	app, _, err := svc.CreateClient(ctx, "demo", realms.NewClient{
		Client: store.Client{ClientID: "app", Enabled: true, ServiceAccountsEnabled: true, DirectAccessGrantsEnabled: true},
		Secret: "app-Secret-12345",
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.alice, err = svc.CreateUser(ctx, "demo", realms.NewUser{
		User: store.User{Username: "alice", Email: "alice@example.com", Enabled: true}, Password: "pw-Alice-1",
	}); err != nil {
		t.Fatal(err)
	}
	reader, err := svc.CreateRole(ctx, "demo", store.Role{Name: "reader"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateRole(ctx, "demo", store.Role{Name: "app-admin", ClientID: app.ID}); err != nil {
		t.Fatal(err)
	}
	if err := svc.GrantRoles(ctx, "demo", p.alice.ID, reader.ID); err != nil {
		t.Fatal(err)
	}
	staff, err := svc.CreateGroup(ctx, "demo", store.Group{Name: "staff"})
	if err != nil {
		t.Fatal(err)
	}
	team, err := svc.CreateGroup(ctx, "demo", store.Group{Name: "team", ParentID: staff.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.JoinGroup(ctx, "demo", p.alice.ID, team.ID); err != nil {
		t.Fatal(err)
	}
	if _, p.apiKey, err = svc.CreateAPIKey(ctx, "demo", p.alice.ID, realms.NewAPIKey{Description: "ci"}, realms.Actor{RealmID: id}); err != nil {
		t.Fatal(err)
	}

	// What the protocol layer writes directly.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(src.CreateIdentityProvider(ctx, id, store.IdentityProvider{Alias: "corp", ProviderID: "oidc", Enabled: true,
		Config: map[string]string{"issuer": "https://corp.example"}, SealedClientSecret: []byte("sealed")}))
	_, err = src.UpdateUser(ctx, id, p.alice.ID, func(u *store.User) error {
		u.FederatedIdentities = []store.FederatedIdentity{{IdentityProvider: "corp", UserID: "corp-7", UserName: "alice"}}
		return nil
	})
	must(err)
	sess := store.Session{ID: "sess-1", ClientID: app.ID, UserID: p.alice.ID, Scope: "openid", AuthTime: now,
		LastRefresh: now, ExpiresAt: now.Add(10 * time.Hour), IPAddress: "192.0.2.1"}
	p.rt1, p.rt2 = "refresh-one", "refresh-two"
	token := func(v string) store.RefreshToken {
		return store.RefreshToken{Hash: hash(v), SessionID: sess.ID, ClientID: app.ID, UserID: p.alice.ID, Scope: "openid",
			IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	}
	must(src.CreateSession(ctx, id, sess, token(p.rt1)))
	_, err = src.RotateRefreshToken(ctx, id, hash(p.rt1), token(p.rt2), store.RotationPolicy{}, now)
	must(err)
	// A browser (SSO) session belongs to no client.
	must(src.CreateSession(ctx, id, store.Session{ID: "sso-1", UserID: p.alice.ID, AuthTime: now, LastRefresh: now,
		ExpiresAt: now.Add(10 * time.Hour)}, store.RefreshToken{}))
	// An expired session is not worth copying.
	must(src.CreateSession(ctx, id, store.Session{ID: "sess-old", ClientID: app.ID, UserID: p.alice.ID,
		AuthTime: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)}, store.RefreshToken{}))
	must(src.CreateKnoxToken(ctx, id, store.KnoxToken{ID: "knox-1", UserID: p.alice.ID, Username: "alice", CreatedBy: "alice",
		CreatedByID: p.alice.ID, Topology: "sandbox", IssuedAt: now, ExpiresAt: now.Add(time.Hour), MaxLifetime: now.Add(24 * time.Hour),
		Enabled: true, PasscodeDigest: sealer.Digest("passcode")}, store.KnoxTokenLimit{}))
	// A resource server's records, a child resource with an access key.
	_, err = src.UpdateClient(ctx, id, app.ID, func(c *store.Client) error {
		c.Authorization = &store.AuthzSettings{PolicyEnforcementMode: "ENFORCING", DecisionStrategy: "UNANIMOUS"}
		return nil
	})
	must(err)
	must(src.CreateAuthzScope(ctx, id, store.AuthzScope{ID: "scope-1", ServerID: app.ID, Name: "read"}))
	must(src.CreateAuthzPolicy(ctx, id, store.AuthzPolicy{ID: "pol-1", ServerID: app.ID, Name: "readers", Type: "role",
		Logic: "POSITIVE", DecisionStrategy: "UNANIMOUS", Roles: []store.AuthzRoleRef{{ID: reader.ID}}}))
	// Named so that the child lists before its parent.
	must(src.CreateAuthzResource(ctx, id, store.AuthzResource{ID: "res-2", ServerID: app.ID, Name: "z-group", OwnerID: p.alice.ID,
		AccessMode: "restricted", BackendRoles: []store.BackendRole{{Type: "role", ID: reader.ID}}, CreatedAt: now}))
	must(src.CreateAuthzResource(ctx, id, store.AuthzResource{ID: "res-1", ServerID: app.ID, Name: "a-model", OwnerID: p.alice.ID,
		AccessMode: "private", ParentID: "res-2", ScopeIDs: []string{"scope-1"}, CreatedAt: now,
		AccessKey: &store.ResourceAccessKey{Hash: hash("model-key"), CreatedAt: now}}))
	must(src.PutTopology(ctx, store.Topology{Name: "sandbox", Realm: "demo", Authentication: "basic", TTL: "PT1H", Managed: true}))
	_, err = src.UpdateLoginFailure(ctx, id, "user:"+p.alice.ID, func(f *store.LoginFailure) error {
		f.NumFailures, f.LastFailure, f.LastIP = 2, now, "192.0.2.9"
		return nil
	})
	must(err)
	must(src.AppendLoginEvents(ctx, id, []store.LoginEvent{
		{ID: "ev-1", Time: now.Add(-time.Minute), Type: "LOGIN_ERROR", ClientID: "app", Error: "invalid_user_credentials"},
		{ID: "ev-2", Time: now, Type: "LOGIN", ClientID: "app", UserID: p.alice.ID},
	}))
	must(src.CreateAccessKey(ctx, id, store.AccessKey{ID: "ak-1", UserID: p.alice.ID, Type: "ed25519v1",
		PublicKey: []byte{1, 2, 3}, Status: store.AccessKeyActive, CreatedAt: now}))
	must(src.CreateAuthCode(ctx, id, store.AuthCode{Hash: hash("code-1"), ClientID: app.ID, UserID: p.alice.ID, SessionID: sess.ID,
		Scope: "openid", IssuedAt: now, ExpiresAt: now.Add(time.Minute)}))
	must(src.CreateDeviceCode(ctx, id, store.DeviceCode{Hash: hash("device-1"), UserCode: "ABCD-EFGH", ClientID: app.ID,
		Status: store.DevicePending, IssuedAt: now, ExpiresAt: now.Add(10 * time.Minute)}))
	must(src.RevokeAccessToken(ctx, id, "jti-1", now.Add(5*time.Minute)))
	must(src.ClaimNonce(ctx, id, "nonce-1", now.Add(5*time.Minute), now))
	return p
}

// targets are the stores a migration is proved against: PostgreSQL (the
// point of it; skipped without GATEHOUSE_TEST_POSTGRES) and bbolt.
var targets = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"postgres", func(t *testing.T) store.Store {
		st, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.Options{MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
	{"bolt", openBoltTarget},
}

func openBoltTarget(t *testing.T) store.Store {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "target.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// snapshot is everything listable in the demo realm, for comparison.
type snapshot struct {
	Realms            []store.Realm
	Keys              []store.SigningKey
	Clients           []store.Client
	Users             []store.User
	Roles             []store.Role
	Groups            [][]store.Group
	Scopes            []store.ClientScope
	AuthzScopes       []store.AuthzScope
	AuthzPolicies     []store.AuthzPolicy
	AuthzResources    []store.AuthzResource
	AuthzByKey        store.AuthzResource
	IDPs              []store.IdentityProvider
	APIKeys           []store.APIKey
	AccessKeys        []store.AccessKey
	Knox              []store.KnoxToken
	Failures          []store.LoginFailure
	AdminEvents       []store.AdminEvent
	LoginEvents       []store.LoginEvent
	Sessions          []store.Session
	RefreshTokens     []store.RefreshToken
	DeviceCode        store.DeviceCode
	Revoked           bool
	Topologies        []store.Topology
	ServiceAccountIDs []string
}

func snap(t *testing.T, st store.Store, realmID string) snapshot {
	t.Helper()
	ctx := context.Background()
	var s snapshot
	var err error
	check := func(e error) {
		t.Helper()
		if e != nil && err == nil {
			err = e
		}
	}
	var e error
	s.Realms, e = st.ListRealms(ctx)
	check(e)
	s.Keys, e = st.ListKeys(ctx, realmID)
	check(e)
	s.Clients, e = st.ListClients(ctx, realmID, store.ClientQuery{Page: store.Page{Max: 1000}})
	check(e)
	s.Users, e = st.ListUsers(ctx, realmID, store.UserQuery{Page: store.Page{Max: 1000}, ServiceAccounts: true})
	check(e)
	for _, owner := range append([]string{""}, clientIDs(s.Clients)...) {
		roles, e := st.ListRoles(ctx, realmID, owner, store.Page{Max: 1000})
		check(e)
		s.Roles = append(s.Roles, roles...)
	}
	top, e := st.ListGroups(ctx, realmID, "", store.Page{})
	check(e)
	s.Groups = append(s.Groups, top)
	for _, g := range top {
		children, e := st.ListGroups(ctx, realmID, g.ID, store.Page{})
		check(e)
		s.Groups = append(s.Groups, children)
	}
	s.Scopes, e = st.ListClientScopes(ctx, realmID)
	check(e)
	for _, c := range s.Clients {
		scopes, e := st.ListAuthzScopes(ctx, realmID, c.ID)
		check(e)
		s.AuthzScopes = append(s.AuthzScopes, scopes...)
		policies, e := st.ListAuthzPolicies(ctx, realmID, c.ID)
		check(e)
		s.AuthzPolicies = append(s.AuthzPolicies, policies...)
		resources, e := st.ListAuthzResources(ctx, realmID, c.ID, store.AuthzResourceQuery{})
		check(e)
		s.AuthzResources = append(s.AuthzResources, resources...)
	}
	s.AuthzByKey, e = st.GetAuthzResourceByAccessKey(ctx, realmID, hash("model-key"))
	check(e)
	s.IDPs, e = st.ListIdentityProviders(ctx, realmID)
	check(e)
	s.APIKeys, e = st.ListAPIKeys(ctx, realmID, "")
	check(e)
	s.AccessKeys, e = st.ListAccessKeys(ctx, realmID, "")
	check(e)
	s.Knox, e = st.ListKnoxTokens(ctx, realmID, store.KnoxTokenQuery{})
	check(e)
	s.Failures, e = st.ListLoginFailures(ctx, realmID, "")
	check(e)
	s.AdminEvents, e = st.ListAdminEvents(ctx, realmID, store.Page{})
	check(e)
	s.LoginEvents, e = st.ListLoginEvents(ctx, realmID, store.LoginEventQuery{})
	check(e)
	for _, u := range s.Users {
		sessions, e := st.ListSessions(ctx, realmID, store.SessionQuery{UserID: u.ID})
		check(e)
		for _, x := range sessions {
			if x.ID != "sess-old" {
				s.Sessions = append(s.Sessions, x)
			}
		}
	}
	for _, v := range []string{"refresh-one", "refresh-two"} {
		rt, e := st.GetRefreshToken(ctx, realmID, hash(v))
		check(e)
		s.RefreshTokens = append(s.RefreshTokens, rt)
	}
	s.DeviceCode, e = st.GetDeviceCodeByUserCode(ctx, realmID, "ABCD-EFGH")
	check(e)
	s.Revoked, e = st.IsAccessTokenRevoked(ctx, realmID, "jti-1")
	check(e)
	s.Topologies, e = st.ListTopologies(ctx)
	check(e)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func clientIDs(cs []store.Client) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

var sameRecords = cmp.Options{
	cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
	cmpopts.EquateEmpty(),
}

// A populated bbolt store migrated to an empty target lists the same
// records there, kind by kind, and the target serves the old credentials:
// the client secret, the password, the refresh token (which rotates, and
// whose rotated-out predecessor still trips reuse detection), the API key
// and the authorization code.
func TestMigrateCopiesPopulatedBoltStore(t *testing.T) {
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			ctx := context.Background()
			p := populate(t)
			dst := target.open(t)
			var progress strings.Builder
			rep, err := migrate.Copy(ctx, p.src, dst, migrate.Options{Progress: &progress, Now: func() time.Time { return p.now }})
			if err != nil {
				t.Fatalf("Copy: %v\nprogress:\n%s", err, progress.String())
			}
			if diff := cmp.Diff(snap(t, p.src, p.realm.ID), snap(t, dst, p.realm.ID), sameRecords); diff != "" {
				t.Errorf("target differs from source (-source +target):\n%s", diff)
			}
			if diff := cmp.Diff(rep.Source, rep.Target); diff != "" {
				t.Errorf("verification counts differ:\n%s", diff)
			}
			for kind, want := range map[string]int{"realms": 1, "users": 2, "groups": 2, "sessions": 2, "refreshTokens": 2,
				"knoxTokens": 1, "apiKeys": 1, "authCodes": 1, "nonces": 1, "topologies": 1, "loginEvents": 2} {
				if rep.Copied[kind] != want {
					t.Errorf("copied %d %s, want %d", rep.Copied[kind], kind, want)
				}
			}
			if rep.Skipped["sessions"] != 1 {
				t.Errorf("skipped sessions = %d, want the expired one", rep.Skipped["sessions"])
			}
			if !strings.Contains(progress.String(), "realm demo:") || !strings.Contains(progress.String(), "users 2") {
				t.Errorf("progress lacks the realm's counts:\n%s", progress.String())
			}

			now := p.now.Add(30 * time.Second)
			svc := realms.NewService(dst, p.sealer, func() time.Time { return now })
			rs, err := svc.Realm(ctx, "demo")
			if err != nil {
				t.Fatal(err)
			}
			r := rs.Realm
			if _, err := svc.AuthenticateClient(ctx, r, "app", "app-Secret-12345", "192.0.2.1"); err != nil {
				t.Errorf("client secret on the target: %v", err)
			}
			if _, err := svc.AuthenticateClient(ctx, r, "app", "wrong-Secret-1", "192.0.2.1"); err == nil {
				t.Error("a wrong client secret is accepted on the target")
			}
			if u, err := svc.AuthenticateUser(ctx, r, "alice", "pw-Alice-1", "192.0.2.1"); err != nil || u.ID != p.alice.ID {
				t.Errorf("password on the target: %v %v", u.ID, err)
			}
			if _, u, err := svc.AuthenticateAPIKey(ctx, r, p.apiKey, "192.0.2.1"); err != nil || u.ID != p.alice.ID {
				t.Errorf("API key on the target: %v %v", u.ID, err)
			}
			next := store.RefreshToken{Hash: hash("refresh-three"), SessionID: "sess-1", ClientID: p.alice.ID, UserID: p.alice.ID,
				IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
			if _, err := dst.RotateRefreshToken(ctx, r.ID, hash(p.rt2), next, store.RotationPolicy{}, now); err != nil {
				t.Errorf("rotating the current refresh token on the target: %v", err)
			}
			next.Hash = hash("refresh-four")
			if _, err := dst.RotateRefreshToken(ctx, r.ID, hash(p.rt1), next, store.RotationPolicy{}, now); !errors.Is(err, store.ErrTokenReused) {
				t.Errorf("the rotated-out refresh token on the target: %v, want reuse detected", err)
			}
			if _, err := dst.ConsumeAuthCode(ctx, r.ID, hash("code-1"), now); err != nil {
				t.Errorf("authorization code on the target: %v", err)
			}
			if err := dst.ClaimNonce(ctx, r.ID, "nonce-1", now.Add(time.Hour), now); !errors.Is(err, store.ErrAlreadyExists) {
				t.Errorf("a claimed nonce claimed again on the target: %v", err)
			}
		})
	}
}

// A target with records is refused unless forced; a forced re-run (an
// interrupted migration run again) keeps what is there and still verifies.
func TestMigrateRefusesNonEmptyTargetUnlessForced(t *testing.T) {
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			ctx := context.Background()
			p := populate(t)
			dst := target.open(t)
			opts := migrate.Options{Now: func() time.Time { return p.now }}
			first, err := migrate.Copy(ctx, p.src, dst, opts)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := migrate.Copy(ctx, p.src, dst, opts); !errors.Is(err, migrate.ErrTargetNotEmpty) {
				t.Fatalf("second copy without force: %v, want ErrTargetNotEmpty", err)
			}
			opts.Force = true
			again, err := migrate.Copy(ctx, p.src, dst, opts)
			if err != nil {
				t.Fatalf("forced re-run: %v", err)
			}
			for _, kind := range []string{"realms", "clients", "users", "roles", "groups", "keys", "apiKeys", "knoxTokens", "sessions", "refreshTokens"} {
				if again.Kept[kind] != first.Copied[kind] || again.Copied[kind] != 0 {
					t.Errorf("%s: re-run kept %d and copied %d, want %d kept", kind, again.Kept[kind], again.Copied[kind], first.Copied[kind])
				}
			}
		})
	}
}

// A realm with many records of one kind reports its progress while it is
// copied, not only when it is done.
func TestMigrateReportsProgressWithinALargeRealm(t *testing.T) {
	ctx := context.Background()
	p := populate(t)
	events := make([]store.LoginEvent, 10001)
	for i := range events {
		events[i] = store.LoginEvent{ID: "bulk-" + strings.Repeat("x", i%3) + time.Duration(i).String(),
			Time: p.now.Add(time.Duration(i) * time.Millisecond), Type: "LOGIN"}
	}
	if err := p.src.AppendLoginEvents(ctx, p.realm.ID, events); err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	rep, err := migrate.Copy(ctx, p.src, openBoltTarget(t), migrate.Options{Progress: &progress, Now: func() time.Time { return p.now }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Target["loginEvents"] != 10003 {
		t.Errorf("target holds %d login events, want 10003", rep.Target["loginEvents"])
	}
	if !strings.Contains(progress.String(), "realm demo: loginEvents 10000 so far\n") {
		t.Errorf("no progress line within the realm:\n%s", progress.String())
	}
}

// A forced copy into a target whose realm of the same name is another realm
// (a replica started there first bootstraps its own master) stops with an
// error naming it instead of mixing the two realms' records.
func TestMigrateForcedRefusesAnotherRealmOfTheSameName(t *testing.T) {
	ctx := context.Background()
	p := populate(t)
	dst := openBoltTarget(t)
	other := realms.NewService(dst, p.sealer, func() time.Time { return p.now })
	if _, err := other.CreateRealm(ctx, store.Realm{Name: "demo", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	_, err := migrate.Copy(ctx, p.src, dst, migrate.Options{Force: true, Now: func() time.Time { return p.now }})
	if !errors.Is(err, migrate.ErrRealmClash) || !strings.Contains(err.Error(), `"demo"`) {
		t.Errorf("forced copy onto another realm demo: %v, want ErrRealmClash naming it", err)
	}
}
