package storetest

import (
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

// idpTests are the conformance cases of this resource.
var idpTests = []conformanceTest{
	{"IdentityProvidersCRUD", testIDPs},
}

func testIDPs(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	p := store.IdentityProvider{Alias: "cp", ProviderID: "oidc", Enabled: true, Config: map[string]string{"issuer": "https://cp"}}
	must(t, s.CreateIdentityProvider(ctx, r.ID, p))
	wantConflict(t, s.CreateIdentityProvider(ctx, r.ID, p), "identity-provider", "alias")
	must(t, s.CreateIdentityProvider(ctx, r.ID, store.IdentityProvider{Alias: "b", ProviderID: "oidc"}))
	list, err := s.ListIdentityProviders(ctx, r.ID)
	must(t, err)
	if len(list) != 2 || list[0].Alias != "b" || list[1].Alias != "cp" {
		t.Fatalf("list = %v", list)
	}
	up, err := s.UpdateIdentityProvider(ctx, r.ID, "cp", func(x *store.IdentityProvider) error { x.Enabled = false; return nil })
	must(t, err)
	if up.Enabled {
		t.Fatal("update lost")
	}
	must(t, s.DeleteIdentityProvider(ctx, r.ID, "cp"))
	wantErr(t, errOf(s.GetIdentityProvider(ctx, r.ID, "cp")), store.ErrNotFound)
	wantErr(t, s.DeleteIdentityProvider(ctx, r.ID, "cp"), store.ErrNotFound)
}
