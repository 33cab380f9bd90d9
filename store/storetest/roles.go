package storetest

import (
	"errors"
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

// roleTests are the conformance cases of this resource.
var roleTests = []conformanceTest{
	{"RolesNamespacesAndRename", testRoles},
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
