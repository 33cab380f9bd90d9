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
