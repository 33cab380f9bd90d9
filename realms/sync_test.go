package realms

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/postgres"
	"github.com/gatehouse/gatehouse/store/postgres/pgtest"
)

// replicaServices opens n services on one fresh PostgreSQL schema, as n
// replicas would.
func replicaServices(t *testing.T, n int) []*Service {
	t.Helper()
	u := pgtest.URL(t)
	var out []*Service
	for range n {
		st, err := postgres.Open(context.Background(), u, postgres.Options{MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		out = append(out, NewService(st, zeroSealer(), nil))
	}
	return out
}

// A change made through one replica's service holds on another's next
// request (a new request scope), although that replica had the realm, its
// keys and the user cached; within one request the realm is checked once.
func TestReplicaSeesAnotherReplicasWritesOnItsNextRequest(t *testing.T) {
	svc := replicaServices(t, 2)
	a, b := svc[0], svc[1]
	ctx := context.Background()
	r, err := a.CreateRealm(ctx, store.Realm{Name: "demo", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.CreateUser(ctx, "demo", NewUser{User: store.User{Username: "alice", Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	request := func() *RealmState {
		t.Helper()
		st, err := b.Realm(WithRequestScope(ctx), "demo")
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	req := WithRequestScope(ctx)
	before, err := b.Realm(req, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.TokenUser(req, r.ID, u.ID); err != nil || !got.Enabled {
		t.Fatalf("TokenUser = %+v, %v", got, err)
	}

	if _, err := a.RotateKey(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	if st, err := b.Realm(req, "demo"); err != nil || st != before {
		t.Errorf("the same request read the realm again: %v", err)
	}
	if after := request(); after.Keys.Signing.KeyID == before.Keys.Signing.KeyID {
		t.Error("the next request signs with the key rotated out on the other replica")
	}

	if _, err := a.UpdateUser(ctx, "demo", u.ID, func(x *store.User) error { x.Enabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	request()
	if got, err := b.TokenUser(ctx, r.ID, u.ID); err != nil || got.Enabled {
		t.Errorf("the next request sees the user disabled on the other replica as %+v, %v", got, err)
	}

	if err := a.DeleteRealm(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Realm(WithRequestScope(ctx), "demo"); !errors.Is(err, ErrRealmNotFound) {
		t.Errorf("the next request finds the realm deleted on the other replica: %v", err)
	}
}

// FollowReplicas drops a realm another replica changed as soon as the
// change is announced, with no request: the realm's listeners hear of it.
func TestFollowReplicasDropsChangedRealms(t *testing.T) {
	svc := replicaServices(t, 2)
	a, b := svc[0], svc[1]
	ctx := context.Background()
	if _, err := a.CreateRealm(ctx, store.Realm{Name: "demo", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Realm(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	dropped := make(chan string, 8)
	b.OnRealmChange(func(name string) { dropped <- name })
	follow, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.FollowReplicas(follow) }()
	defer func() {
		stop()
		<-done
	}()
	// Announced, or read when the listener connects after the rotation:
	// either way b hears of it.
	if _, err := a.RotateKey(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	select {
	case name := <-dropped:
		if name != "demo" {
			t.Errorf("dropped %q, want demo", name)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the rotation on the other replica was never heard of")
	}
}
