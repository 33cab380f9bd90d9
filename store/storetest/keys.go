package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// keyTests are the conformance cases of this resource.
var keyTests = []conformanceTest{
	{"KeysOrderedByCreation", testKeys},
	{"RotateKeyDemotesTheOthersInOneTransaction", testRotateKey},
	{"ConcurrentRotationsLeaveOneActiveKey", testConcurrentKeyRotations},
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

// keyStatuses lists a realm's keys as kid:status, by creation.
func keyStatuses(t *testing.T, s store.Store, realmID string) string {
	t.Helper()
	keys, err := s.ListKeys(ctx, realmID)
	must(t, err)
	return listed(keys, func(k store.SigningKey) string { return k.KID + ":" + k.Status })
}

func signingKey(kid string, at time.Time) store.SigningKey {
	return store.SigningKey{KID: kid, Algorithm: "ES256", Status: store.KeyActive, CreatedAt: at,
		SealedPrivate: []byte("sealed-" + kid), PublicJWK: []byte(`{"kid":"` + kid + `"}`)}
}

// RotateKey stores the new key and demotes every other active key (only
// active ones: passive and disabled keys keep their status) in one
// transaction; a conflicting kid changes nothing, another realm's keys
// are untouched.
func testRotateKey(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	other := mustRealm(t, s, "other")
	base := clock()
	must(t, s.CreateKey(ctx, r.ID, signingKey("k1", base)))
	old := signingKey("k2", base.Add(time.Second))
	old.Status = store.KeyPassive
	must(t, s.CreateKey(ctx, r.ID, old))
	off := signingKey("k3", base.Add(2*time.Second))
	off.Status = store.KeyDisabled
	must(t, s.CreateKey(ctx, r.ID, off))
	must(t, s.CreateKey(ctx, other.ID, signingKey("o1", base)))

	next := signingKey("k4", base.Add(3*time.Second))
	must(t, s.RotateKey(ctx, r.ID, next))
	if got := keyStatuses(t, s, r.ID); got != "[k1:passive k2:passive k3:disabled k4:active]" {
		t.Fatalf("after rotation: %s", got)
	}
	keys, err := s.ListKeys(ctx, r.ID)
	must(t, err)
	wantEqual(t, "rotated-to key", keys[3], next)
	if got := keyStatuses(t, s, other.ID); got != "[o1:active]" {
		t.Errorf("other realm's keys: %s", got)
	}

	// A kid that is taken fails the whole rotation: the active key stays.
	wantConflict(t, s.RotateKey(ctx, r.ID, signingKey("k1", base.Add(4*time.Second))), "key", "kid")
	if got := keyStatuses(t, s, r.ID); got != "[k1:passive k2:passive k3:disabled k4:active]" {
		t.Fatalf("after a failed rotation: %s", got)
	}
	wantErr(t, s.RotateKey(ctx, "no-such-realm", signingKey("k9", base)), store.ErrNotFound)
}

// Rotations racing on one realm (replicas rotating at once) leave exactly
// one active key: the last one to commit demotes all others.
func testConcurrentKeyRotations(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	base := clock()
	must(t, s.CreateKey(ctx, r.ID, signingKey("k00", base)))
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.RotateKey(ctx, r.ID, signingKey(fmt.Sprintf("k%02d", i+1), base.Add(time.Duration(i+1)*time.Second))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	keys, err := s.ListKeys(ctx, r.ID)
	must(t, err)
	active := 0
	for _, k := range keys {
		if k.Status == store.KeyActive {
			active++
		}
	}
	if len(keys) != n+1 || active != 1 {
		t.Fatalf("%d keys, %d active: %s", len(keys), active, keyStatuses(t, s, r.ID))
	}
}
