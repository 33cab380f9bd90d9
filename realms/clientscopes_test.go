package realms

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/bolt"
)

// TestRealmsFromBeforeClientScopesGetThemAtStart: a realm and client stored
// before client scopes existed (no scopes, no assignment) get the built-in
// scopes at the next start, once, and the client takes the realm's
// defaults until it is given its own.
func TestRealmsFromBeforeClientScopesGetThemAtStart(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "g.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sealer, _ := NewSealer(make([]byte, 32))
	svc := NewService(st, sealer, nil)
	ctx := context.Background()
	if _, err := svc.Bootstrap(ctx, "admin", "First-Password-1"); err != nil {
		t.Fatal(err)
	}
	r, err := svc.CreateRealm(ctx, store.Realm{Name: "old", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	// Make "old" look like a realm of the previous version.
	scopes, _ := st.ListClientScopes(ctx, r.ID)
	for _, cs := range scopes {
		if err := st.DeleteClientScope(ctx, r.ID, cs.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.UpdateRealm(ctx, r.ID, func(r *store.Realm) error {
		r.ScopesVersion, r.DefaultScopeIDs, r.OptionalScopeIDs = 0, nil, nil
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c := store.Client{ID: NewID(), ClientID: "legacy", Enabled: true}
	if err := st.CreateClient(ctx, r.ID, c); err != nil {
		t.Fatal(err)
	}

	// A new service, as after a restart.
	svc = NewService(st, sealer, nil)
	for range 2 { // the second start changes nothing
		if _, err := svc.Bootstrap(ctx, "admin", ""); err != nil {
			t.Fatal(err)
		}
	}
	scopes, err = st.ListClientScopes(ctx, r.ID)
	if err != nil || len(scopes) != 10 {
		t.Fatalf("scopes after upgrade: %d, %v", len(scopes), err)
	}
	rs, err := svc.Realm(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	def, opt, err := svc.ClientScopesOf(ctx, rs.Realm, c)
	if err != nil || len(def) != 6 || len(opt) != 4 {
		t.Fatalf("legacy client scopes: %d default, %d optional, %v", len(def), len(opt), err)
	}
	granted, _, err := svc.SelectScopes(ctx, rs.Realm, c, "openid phone")
	if err != nil || len(granted) != 4 || granted[0] != "openid" || granted[1] != "phone" {
		t.Errorf("granted = %v, %v", granted, err)
	}
	// The offline_access scope is scope-mapped to the realm's role.
	for _, cs := range scopes {
		if cs.Name == OfflineAccess && len(cs.ScopeRoleIDs) != 1 {
			t.Errorf("offline_access scope mappings = %v", cs.ScopeRoleIDs)
		}
	}
}

// Discovery advertises exactly the built-in scopes a realm starts with.
func TestSupportedScopesAreTheBuiltinScopes(t *testing.T) {
	scopes, _, _ := builtinClientScopes("r")
	var names []string
	for _, cs := range scopes {
		names = append(names, cs.Name)
	}
	slices.Sort(names)
	if got := SupportedScopes(); !slices.Equal(got[1:], names) || got[0] != "openid" {
		t.Errorf("SupportedScopes = %v, built-in scopes %v", got, names)
	}
}
