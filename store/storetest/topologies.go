package storetest

import (
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

// topologyTests are the conformance cases of this resource.
var topologyTests = []conformanceTest{
	{"TopologiesCRUD", testTopologies},
}

func testTopologies(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	must(t, s.PutTopology(ctx, store.Topology{Name: "b", RealmID: r.ID, Authentication: "basic"}))
	must(t, s.PutTopology(ctx, store.Topology{Name: "a", RealmID: r.ID, Authentication: "bearer"}))
	must(t, s.PutTopology(ctx, store.Topology{Name: "b", RealmID: r.ID, Authentication: "bearer"})) // replace
	list, err := s.ListTopologies(ctx)
	must(t, err)
	if len(list) != 2 || list[0].Name != "a" || list[1].Authentication != "bearer" || list[1].RealmID != r.ID {
		t.Fatalf("list = %v", list)
	}
	// The binding is by ID: renaming the realm changes nothing stored.
	_, err = s.UpdateRealm(ctx, r.ID, func(x *store.Realm) error { x.Name = "renamed"; return nil })
	must(t, err)
	if got, err := s.GetTopology(ctx, "b"); err != nil || got.RealmID != r.ID {
		t.Fatalf("topology after the realm's rename = %+v, %v", got, err)
	}
	must(t, s.DeleteTopology(ctx, "a"))
	wantErr(t, errOf(s.GetTopology(ctx, "a")), store.ErrNotFound)
	wantErr(t, s.DeleteTopology(ctx, "a"), store.ErrNotFound)
}
