package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// keyTests are the conformance cases of this resource.
var keyTests = []conformanceTest{
	{"KeysOrderedByCreation", testKeys},
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
