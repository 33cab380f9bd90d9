package realms

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/bolt"
)

// A realm stored before built-in role IDs were recorded gets them on its
// first load, found by name once and written back; from then on a rename
// moves no right.
func TestLegacyRealmAdoptsAdminRoleIDs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.db")
	st, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sealer, _ := NewSealer(make([]byte, 32))
	ctx := context.Background()
	svc := NewService(st, sealer, nil)
	if _, err := svc.Bootstrap(ctx, "admin", "admin-Pass-1"); err != nil {
		t.Fatal(err)
	}
	master, err := st.GetRealm(ctx, MasterRealm)
	if err != nil {
		t.Fatal(err)
	}
	want := master.AdminRoleIDs
	if len(want) != len(RealmManagementRoles)+3 {
		t.Fatalf("new master records %d admin roles: %v", len(want), want)
	}
	// Forget the IDs, as an older version stored the realm.
	if _, err := st.UpdateRealm(ctx, master.ID, func(r *store.Realm) error { r.AdminRoleIDs = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	fresh := NewService(st, sealer, nil)
	rs, err := fresh.Realm(ctx, MasterRealm)
	if err != nil {
		t.Fatal(err)
	}
	for k, id := range want {
		if rs.Realm.AdminRoleIDs[k] != id {
			t.Errorf("adopted %s = %q, want %q", k, rs.Realm.AdminRoleIDs[k], id)
		}
	}
	stored, _ := st.GetRealm(ctx, MasterRealm)
	if stored.AdminRoleIDs[AdminRole] != want[AdminRole] {
		t.Errorf("adopted IDs not written back: %v", stored.AdminRoleIDs)
	}

	admin, err := st.GetUserByUsername(ctx, master.ID, "admin")
	if err != nil {
		t.Fatal(err)
	}
	rights, err := fresh.AdminRights(ctx, rs.Realm, admin)
	if err != nil {
		t.Fatal(err)
	}
	if !rights.MasterAdmin() || !rights.Has(CreateRealmRole) || rights.Has(RealmAdminRole) {
		t.Errorf("bootstrap admin rights: %v", rights.Keys())
	}
	// realm-admin's composites carry every realm-management right.
	ra, err := fresh.RoleRights(ctx, rs.Realm, want[RealmAdminRole])
	if err != nil {
		t.Fatal(err)
	}
	if got := ra.Keys(); !slices.Contains(got, "manage-users") || len(got) != len(RealmManagementRoles)+1 || ra.MasterAdmin() {
		t.Errorf("realm-admin rights: %v", got)
	}
}
