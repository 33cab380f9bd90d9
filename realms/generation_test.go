package realms

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// TokenUser serves users without their credentials and shows every change
// made through the service at once, however often it was read before.
func TestTokenUserFollowsServiceWrites(t *testing.T) {
	svc, r, _ := benchService(t)
	ctx := context.Background()
	u, err := svc.CreateUser(ctx, r.Name, NewUser{User: store.User{Username: "alice", Enabled: true}, Password: "alice-Secret-1"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		got, err := svc.TokenUser(ctx, r.ID, u.ID)
		if err != nil || got.Username != "alice" || !got.Enabled || got.Credentials != nil {
			t.Fatalf("TokenUser = %+v, %v: want alice, enabled, no credentials", got, err)
		}
	}
	if _, err := svc.UpdateUser(ctx, r.Name, u.ID, func(x *store.User) error { x.Enabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, err := svc.TokenUser(ctx, r.ID, u.ID); err != nil || got.Enabled {
		t.Fatalf("after disabling: %+v, %v", got, err)
	}
	if err := svc.DeleteUser(ctx, r.Name, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.TokenUser(ctx, r.ID, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after deleting: %v, want ErrNotFound", err)
	}
}

// Resolved roles are cached per user, yet only served for the mappings they
// were resolved from, and a role change through the service shows at once.
func TestResolveRolesFollowsMappings(t *testing.T) {
	svc, r, _ := benchService(t)
	ctx := context.Background()
	reader, err := svc.CreateRole(ctx, r.Name, store.Role{Name: "reader"})
	if err != nil {
		t.Fatal(err)
	}
	writer, err := svc.CreateRole(ctx, r.Name, store.Role{Name: "writer"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.CreateUser(ctx, r.Name, NewUser{User: store.User{Username: "bob", Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	must := func(want ...string) {
		t.Helper()
		u, err := svc.TokenUser(ctx, r.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // fill, then hit the cache
			got, err := svc.ResolveRoles(ctx, r.ID, u)
			if err != nil || !slices.Equal(ours(got.Realm), want) {
				t.Fatalf("roles = %v, %v; want %v", got.Realm, err, want)
			}
		}
	}
	must()
	if err := svc.GrantRoles(ctx, r.Name, u.ID, reader.ID); err != nil {
		t.Fatal(err)
	}
	must("reader")
	// A user value with other mappings (as read before or after a change)
	// never gets the cached answer for the current ones.
	other := u
	other.RoleIDs = []string{writer.ID}
	if got, err := svc.ResolveRoles(ctx, r.ID, other); err != nil || !slices.Equal(ours(got.Realm), []string{"writer"}) {
		t.Fatalf("roles for other mappings = %v, %v", got.Realm, err)
	}
	if _, err := svc.UpdateRole(ctx, r.Name, reader.ID, func(x *store.Role) error { x.Name = "viewer"; return nil }); err != nil {
		t.Fatal(err)
	}
	must("viewer")
}

// ours drops the default roles every user has.
func ours(roles []string) []string {
	var out []string
	for _, r := range roles {
		if r == "reader" || r == "writer" || r == "viewer" {
			out = append(out, r)
		}
	}
	return out
}

// Topology writes move the realm's write generation, which other replicas'
// caches follow; starting a session, rotating its refresh token, revoking an
// access token and Knox token writes deliberately do not: no cache holds
// them (they are read from the store on every use), and issuing tokens must
// not drop the realm's caches.
func TestTokenWritesAndTheWriteGeneration(t *testing.T) {
	svc, r, _ := benchService(t)
	ctx := context.Background()
	c, err := svc.ClientByClientID(ctx, r.ID, "app")
	if err != nil {
		t.Fatal(err)
	}
	now := svc.now()
	exp := now.Add(time.Hour)
	sess := store.Session{ID: NewID(), ClientID: c.ID, Scope: "openid", AuthTime: now, LastRefresh: now, ExpiresAt: exp}
	first := store.RefreshToken{Hash: "h1", SessionID: sess.ID, ClientID: c.ID, IssuedAt: now, ExpiresAt: exp}
	next := first
	next.Hash = "h2"
	alice := store.User{ID: NewID(), Username: "alice"}
	kt := store.KnoxToken{ID: NewID(), UserID: alice.ID, Username: "alice", CreatedByID: alice.ID, CreatedBy: "alice", IssuedAt: now, ExpiresAt: exp, Enabled: true}
	owner := KnoxCaller{Principal: "alice", User: &alice}
	sessions, knox := NewSessionService(svc), NewKnoxService(svc)
	topo := store.Topology{Name: "sandbox", Realm: r.Name, Authentication: AuthBearer}
	ApplyTopologyDefaults(&topo)
	if err := knox.ValidateTopology(ctx, &topo); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name  string
		write func() error
		moves bool
	}{
		{"start session", func() error { return sessions.StartSession(ctx, r.ID, sess, first) }, false},
		{"rotate refresh token", func() error {
			_, err := sessions.RotateRefreshToken(ctx, r.ID, first.Hash, next, store.RotationPolicy{}, now)
			return err
		}, false},
		{"revoke access token", func() error { return sessions.RevokeAccessToken(ctx, r.ID, "jti-1", exp) }, false},
		{"create knox token", func() error {
			_, err := knox.IssueManaged(ctx, r.ID, topo, kt)
			return err
		}, false},
		{"disable knox token", func() error { return knox.SetTokenEnabled(ctx, r, owner, kt.ID, false) }, false},
		{"revoke knox token", func() error { return knox.RevokeToken(ctx, r.ID, topo, owner, kt.ID) }, false},
		{"put topology", func() error {
			_, err := knox.PutTopology(ctx, topo)
			return err
		}, true},
		{"delete topology", func() error { return knox.DeleteTopology(ctx, "sandbox") }, true},
	}
	for _, step := range steps {
		before := svc.DataGeneration(r.ID)
		if err := step.write(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if moved := svc.DataGeneration(r.ID) != before; moved != step.moves {
			t.Errorf("%s: generation moved = %v, want %v", step.name, moved, step.moves)
		}
	}
	if revoked, err := sessions.AccessTokenRevoked(ctx, r.ID, "jti-1"); err != nil || !revoked {
		t.Errorf("AccessTokenRevoked = %v, %v; want true", revoked, err)
	}
	if _, err := knox.Token(ctx, r.ID, kt.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted knox token: %v, want ErrNotFound", err)
	}
	if err := knox.DeleteTopology(ctx, "sandbox"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting a missing topology: %v, want ErrNotFound", err)
	}
}
