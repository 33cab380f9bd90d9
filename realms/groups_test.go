package realms

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

// groupFixture is a service with realm "demo" and user "ann".
type groupFixture struct {
	t      *testing.T
	svc    *Service
	realm  store.Realm
	user   store.User
	writes *roleGroupWrites
}

// roleGroupWrites counts the role and group updates that reach the store.
type roleGroupWrites struct {
	store.Store
	n atomic.Int64
}

func (w *roleGroupWrites) UpdateRole(ctx context.Context, realmID, id string, fn func(*store.Role) error) (store.Role, error) {
	w.n.Add(1)
	return w.Store.UpdateRole(ctx, realmID, id, fn)
}

func (w *roleGroupWrites) UpdateGroup(ctx context.Context, realmID, id string, fn func(*store.Group) error) (store.Group, error) {
	w.n.Add(1)
	return w.Store.UpdateGroup(ctx, realmID, id, fn)
}

func newGroupFixture(t *testing.T) *groupFixture {
	t.Helper()
	writes := &roleGroupWrites{Store: openTestStore(t)}
	svc := NewService(writes, zeroSealer(), nil)
	ctx := context.Background()
	r, err := svc.CreateRealm(ctx, store.Realm{Name: "demo", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.CreateUser(ctx, "demo", NewUser{User: store.User{Username: "ann", Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	return &groupFixture{t: t, svc: svc, realm: r, user: u, writes: writes}
}

func (f *groupFixture) role(name string, composites ...string) string {
	f.t.Helper()
	r, err := f.svc.CreateRole(context.Background(), "demo", store.Role{Name: name, Composites: composites})
	if err != nil {
		f.t.Fatal(err)
	}
	return r.ID
}

func (f *groupFixture) group(name, parent string, roles ...string) string {
	f.t.Helper()
	g, err := f.svc.CreateGroup(context.Background(), "demo", store.Group{Name: name, ParentID: parent, RoleIDs: roles})
	if err != nil {
		f.t.Fatal(err)
	}
	return g.ID
}

// realmRoles resolves the user as a token grant does: the user re-read,
// the resolution possibly cached.
func (f *groupFixture) realmRoles() []string {
	f.t.Helper()
	ctx := context.Background()
	u, err := f.svc.TokenUser(ctx, f.realm.ID, f.user.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	eff, err := f.svc.ResolveRoles(ctx, f.realm.ID, u)
	if err != nil {
		f.t.Fatal(err)
	}
	return eff.Realm
}

// A member of /a/b holds the roles of b, of its ancestor a, and what their
// composites contain; the roles of b's subgroups are not inherited.
func TestGroupMembersInheritAncestorRolesAndComposites(t *testing.T) {
	f := newGroupFixture(t)
	ctx := context.Background()
	inner := f.role("inner")
	a := f.group("a", "", f.role("from-a"))
	b := f.group("b", a, f.role("from-b", inner))
	f.group("c", b, f.role("from-c"))
	if err := f.svc.JoinGroup(ctx, "demo", f.user.ID, b); err != nil {
		t.Fatal(err)
	}
	got := f.realmRoles()
	for _, want := range []string{"from-a", "from-b", "inner", OfflineAccess, "uma_authorization"} {
		if !slices.Contains(got, want) {
			t.Errorf("effective roles %v lack %s", got, want)
		}
	}
	if slices.Contains(got, "from-c") {
		t.Errorf("a subgroup's role was inherited upwards: %v", got)
	}
	// The paths the group-membership mapper reads follow renames and
	// membership at once, though they are served from caches.
	for _, step := range []struct {
		change func() error
		want   []string
	}{
		{func() error { return nil }, []string{"/a/b"}},
		{func() error {
			_, err := f.svc.UpdateGroup(ctx, "demo", a, func(g *store.Group) error { g.Name = "renamed"; return nil })
			return err
		}, []string{"/renamed/b"}},
		{func() error { return f.svc.JoinGroup(ctx, "demo", f.user.ID, a) }, []string{"/renamed", "/renamed/b"}},
		{func() error { return f.svc.LeaveGroup(ctx, "demo", f.user.ID, b) }, []string{"/renamed"}},
	} {
		if err := step.change(); err != nil {
			t.Fatal(err)
		}
		paths, err := f.svc.UserGroupPaths(ctx, f.realm.ID, f.user.ID)
		if err != nil || !slices.Equal(paths, step.want) {
			t.Errorf("UserGroupPaths = %v, %v; want %v", paths, err, step.want)
		}
	}
}

// Every change that moves a user's effective roles (group role mappings,
// membership, group deletion, composites) takes effect on the next
// resolution, though the previous one was cached.
func TestGroupAndCompositeChangesReachTheNextResolution(t *testing.T) {
	f := newGroupFixture(t)
	ctx := context.Background()
	viaGroup := f.role("via-group")
	viaComposite := f.role("via-composite")
	holder := f.role("holder")
	g := f.group("g", "", viaGroup)
	if err := f.svc.JoinGroup(ctx, "demo", f.user.ID, g); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.GrantRoles(ctx, "demo", f.user.ID, holder); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		change func() error
		has    string
		hasNot string
	}{
		{"group role present", func() error { return nil }, "via-group", ""},
		{"group role removed", func() error { return f.svc.RevokeGroupRoles(ctx, "demo", g, viaGroup) }, "", "via-group"},
		{"group role added back", func() error { return f.svc.GrantGroupRoles(ctx, "demo", g, viaGroup) }, "via-group", ""},
		{"left the group", func() error { return f.svc.LeaveGroup(ctx, "demo", f.user.ID, g) }, "", "via-group"},
		{"joined again", func() error { return f.svc.JoinGroup(ctx, "demo", f.user.ID, g) }, "via-group", ""},
		{"group deleted", func() error { return f.svc.DeleteGroup(ctx, "demo", g) }, "", "via-group"},
		{"composite added", func() error { return f.svc.AddComposites(ctx, "demo", holder, viaComposite) }, "via-composite", ""},
		{"composite removed", func() error { return f.svc.RemoveComposites(ctx, "demo", holder, viaComposite) }, "", "via-composite"},
	}
	for _, s := range steps {
		if err := s.change(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got := f.realmRoles()
		if s.has != "" && !slices.Contains(got, s.has) {
			t.Errorf("%s: roles %v lack %s", s.name, got, s.has)
		}
		if s.hasNot != "" && slices.Contains(got, s.hasNot) {
			t.Errorf("%s: roles %v still hold %s", s.name, got, s.hasNot)
		}
	}
}

func TestCompositeCyclesAreRefused(t *testing.T) {
	f := newGroupFixture(t)
	ctx := context.Background()
	c := f.role("c")
	b := f.role("b", c)
	a := f.role("a", b)
	for _, tc := range []struct {
		name          string
		parent, child string
	}{
		{"self", a, a},
		{"direct", c, b},
		{"transitive", c, a},
	} {
		var ve *ValidationError
		if err := f.svc.AddComposites(ctx, "demo", tc.parent, tc.child); !errors.As(err, &ve) {
			t.Errorf("%s cycle: got %v, want a ValidationError", tc.name, err)
		}
	}
	if err := f.svc.AddComposites(ctx, "demo", a, c); err != nil {
		t.Errorf("a diamond is no cycle: %v", err)
	}
}

// The built-in admin roles contain what they were created with: adding
// manage-clients to view-clients would make every view-clients holder a
// client manager, and realm-admin stays the sum of all rights.
func TestBuiltinAdminCompositesAreFixed(t *testing.T) {
	f := newGroupFixture(t)
	ctx := context.Background()
	ids := f.realm.AdminRoleIDs
	var ve *ValidationError
	if err := f.svc.AddComposites(ctx, "demo", ids["view-clients"], ids["manage-clients"]); !errors.As(err, &ve) {
		t.Errorf("adding to view-clients: %v, want a ValidationError", err)
	}
	if err := f.svc.RemoveComposites(ctx, "demo", ids[RealmAdminRole], ids["manage-users"]); !errors.As(err, &ve) {
		t.Errorf("removing from realm-admin: %v, want a ValidationError", err)
	}
	if err := f.svc.AddComposites(ctx, "demo", f.realm.DefaultRoleID, f.role("member")); err != nil {
		t.Errorf("the default role stays editable: %v", err)
	}
}

// Admin rights follow role IDs through composites and groups: a composite
// that contains realm-management's manage-users grants it, and so does a
// group mapped to it; realm-admin grants every right.
func TestRightsThroughCompositesAndGroups(t *testing.T) {
	manage := func(f *groupFixture) string { return f.realm.AdminRoleIDs["manage-users"] }
	for _, tc := range []struct {
		name  string
		setup func(f *groupFixture) error
		want  bool
	}{
		{"nothing", func(f *groupFixture) error { return nil }, false},
		{"composite holding manage-users", func(f *groupFixture) error {
			return f.svc.GrantRoles(context.Background(), "demo", f.user.ID, f.role("helpdesk", manage(f)))
		}, true},
		{"group mapped to manage-users", func(f *groupFixture) error {
			g := f.group("admins", "", manage(f))
			return f.svc.JoinGroup(context.Background(), "demo", f.user.ID, g)
		}, true},
		{"subgroup of a group mapped to realm-admin", func(f *groupFixture) error {
			top := f.group("admins", "", f.realm.AdminRoleIDs[RealmAdminRole])
			return f.svc.JoinGroup(context.Background(), "demo", f.user.ID, f.group("sub", top))
		}, true},
		{"group mapped to a similarly named realm role", func(f *groupFixture) error {
			g := f.group("fake", "", f.role("manage-users"))
			return f.svc.JoinGroup(context.Background(), "demo", f.user.ID, g)
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newGroupFixture(t)
			if err := tc.setup(f); err != nil {
				t.Fatal(err)
			}
			u, err := f.svc.TokenUser(context.Background(), f.realm.ID, f.user.ID)
			if err != nil {
				t.Fatal(err)
			}
			rights, err := f.svc.AdminRights(context.Background(), f.realm, u)
			if err != nil {
				t.Fatal(err)
			}
			if rights.Has("manage-users") != tc.want {
				t.Errorf("manage-users = %v, want %v (rights %v)", !tc.want, tc.want, rights.Keys())
			}
		})
	}
}

func TestGroupSiblingNamesAreUnique(t *testing.T) {
	f := newGroupFixture(t)
	ctx := context.Background()
	a := f.group("a", "")
	f.group("b", a)
	for _, tc := range []struct {
		parent, name, want string
	}{
		{"", "a", "Top level group named 'a' already exists."},
		{a, "b", "Sibling group named 'b' already exists."},
	} {
		_, err := f.svc.CreateGroup(ctx, "demo", store.Group{Name: tc.name, ParentID: tc.parent})
		var se *StateError
		if !errors.As(err, &se) || se.Message != tc.want {
			t.Errorf("CreateGroup(%q under %q) = %v, want %q", tc.name, tc.parent, err, tc.want)
		}
	}
	if _, err := f.svc.CreateGroup(ctx, "demo", store.Group{Name: "x/y"}); err == nil {
		t.Error("a slash in a group name was accepted")
	}
}

// Master keeps an enabled admin when master admin comes through a group or
// a composite: the changes that would take it from its last holder are
// refused whatever path the right takes, before any role or group is
// written (nothing to undo).
func TestMasterAdminThroughGroupsAndCompositesKeepsItsLastHolder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		remove func(f *groupFixture, group, composite string) error
	}{
		{"group role mapping revoked", func(f *groupFixture, g, _ string) error {
			return f.svc.RevokeGroupRoles(context.Background(), MasterRealm, g, f.realm.AdminRoleIDs[AdminRole])
		}},
		{"group deleted", func(f *groupFixture, g, _ string) error {
			return f.svc.DeleteGroup(context.Background(), MasterRealm, g)
		}},
		{"group left", func(f *groupFixture, g, _ string) error {
			return f.svc.LeaveGroup(context.Background(), MasterRealm, f.user.ID, g)
		}},
		{"composite emptied", func(f *groupFixture, _, c string) error {
			return f.svc.RemoveComposites(context.Background(), MasterRealm, c, f.realm.AdminRoleIDs[AdminRole])
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newGroupFixture(t)
			ctx := context.Background()
			if _, err := f.svc.Bootstrap(ctx, "admin", "admin-Pass-1"); err != nil {
				t.Fatal(err)
			}
			st, err := f.svc.Realm(ctx, MasterRealm)
			if err != nil {
				t.Fatal(err)
			}
			f.realm = st.Realm
			admin := f.realm.AdminRoleIDs[AdminRole]
			// The sole admin holds the right through a group (a subgroup of
			// the mapped one) and a composite, not directly.
			u, err := f.svc.CreateUser(ctx, MasterRealm, NewUser{User: store.User{Username: "root", Enabled: true}})
			if err != nil {
				t.Fatal(err)
			}
			f.user = u
			top, err := f.svc.CreateGroup(ctx, MasterRealm, store.Group{Name: "admins", RoleIDs: []string{admin}})
			if err != nil {
				t.Fatal(err)
			}
			sub, err := f.svc.CreateGroup(ctx, MasterRealm, store.Group{Name: "sub", ParentID: top.ID})
			if err != nil {
				t.Fatal(err)
			}
			comp, err := f.svc.CreateRole(ctx, MasterRealm, store.Role{Name: "super", Composites: []string{admin}})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.svc.JoinGroup(ctx, MasterRealm, u.ID, sub.ID); err != nil {
				t.Fatal(err)
			}
			boot, err := f.svc.store.GetUserByUsername(ctx, f.realm.ID, "admin")
			if err != nil {
				t.Fatal(err)
			}
			if err := f.svc.DeleteUser(ctx, MasterRealm, boot.ID); err != nil {
				t.Fatal(err)
			}
			// Only one path at a time: the test removes the other one.
			path := sub.ID
			if tc.name == "composite emptied" {
				if err := f.svc.GrantRoles(ctx, MasterRealm, u.ID, comp.ID); err != nil {
					t.Fatal(err)
				}
				if err := f.svc.LeaveGroup(ctx, MasterRealm, u.ID, sub.ID); err != nil {
					t.Fatal(err)
				}
			}
			if tc.name == "group role mapping revoked" || tc.name == "group deleted" {
				path = top.ID
			}
			var se *StateError
			writes := f.writes.n.Load()
			if err := tc.remove(f, path, comp.ID); !errors.As(err, &se) {
				t.Fatalf("removing the last admin's right: %v, want a StateError", err)
			}
			if n := f.writes.n.Load() - writes; n != 0 {
				t.Errorf("the refused change wrote %d role or group updates", n)
			}
			u, _ = f.svc.TokenUser(ctx, f.realm.ID, u.ID)
			if r, err := f.svc.AdminRights(ctx, f.realm, u); err != nil || !r.MasterAdmin() {
				t.Errorf("the last admin lost the right: %v %v", r.Keys(), err)
			}
		})
	}
}
