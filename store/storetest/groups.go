package storetest

import (
	"fmt"
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

// groupTests are the conformance cases of this resource.
var groupTests = []conformanceTest{
	{"GroupsTreeSiblingsMoveAndDelete", testGroups},
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
