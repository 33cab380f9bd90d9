package storetest

import (
	"fmt"
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

// clientScopeTests are the conformance cases of this resource.
var clientScopeTests = []conformanceTest{
	{"ClientScopesCRUDAndUniqueName", testClientScopes},
	{"ClientScopeFieldsOfClientsAndRealms", testClientScopeFields},
}

func testClientScopes(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	other := mustRealm(t, s, "other")
	// A realm that never had a client scope lists none.
	wantEqual(t, "empty list", try(s.ListClientScopes(ctx, r.ID)).must(t), nil)
	_, err := s.GetClientScope(ctx, r.ID, "missing")
	wantErr(t, err, store.ErrNotFound)

	full := store.ClientScope{ID: id("scope"), Name: "profile", Description: "d", Protocol: "openid-connect",
		Attributes: map[string]string{"include.in.token.scope": "true"},
		ProtocolMappers: []store.ProtocolMapper{
			{ID: id("m"), Name: "b", Protocol: "openid-connect", ProtocolMapper: "oidc-full-name-mapper", Config: map[string]string{"id.token.claim": "true"}},
			{ID: id("m"), Name: "a", Protocol: "openid-connect", ProtocolMapper: "oidc-usermodel-attribute-mapper"},
		},
		ScopeRoleIDs: []string{"r2", "r1"}}
	must(t, s.CreateClientScope(ctx, r.ID, full))
	wantEqual(t, "scope", try(s.GetClientScope(ctx, r.ID, full.ID)).must(t), full)
	for _, name := range []string{"email", "Zeta"} {
		must(t, s.CreateClientScope(ctx, r.ID, store.ClientScope{ID: id("scope"), Name: name, Protocol: "openid-connect"}))
	}
	wantConflict(t, s.CreateClientScope(ctx, r.ID, store.ClientScope{ID: id("scope"), Name: "email"}), "clientScope", "name")
	wantConflict(t, s.CreateClientScope(ctx, r.ID, store.ClientScope{ID: full.ID, Name: "new"}), "clientScope", "id")
	// Names are per realm.
	must(t, s.CreateClientScope(ctx, other.ID, store.ClientScope{ID: id("scope"), Name: "email"}))

	names := func() string {
		var out []string
		for _, cs := range try(s.ListClientScopes(ctx, r.ID)).must(t) {
			out = append(out, cs.Name)
		}
		return fmt.Sprint(out)
	}
	if got := names(); got != "[Zeta email profile]" {
		t.Errorf("list = %s", got)
	}
	// Rename frees the old name and takes the new one; a taken name is a
	// conflict and writes nothing.
	_, err = s.UpdateClientScope(ctx, r.ID, full.ID, func(cs *store.ClientScope) error { cs.Name = "email"; return nil })
	wantConflict(t, err, "clientScope", "name")
	up, err := s.UpdateClientScope(ctx, r.ID, full.ID, func(cs *store.ClientScope) error {
		cs.Name = "profile2"
		cs.ProtocolMappers = cs.ProtocolMappers[:1]
		return nil
	})
	must(t, err)
	if up.Name != "profile2" || len(up.ProtocolMappers) != 1 {
		t.Errorf("updated = %+v", up)
	}
	if got := names(); got != "[Zeta email profile2]" {
		t.Errorf("list after rename = %s", got)
	}
	must(t, s.CreateClientScope(ctx, r.ID, store.ClientScope{ID: id("scope"), Name: "profile"}))
	must(t, s.DeleteClientScope(ctx, r.ID, full.ID))
	wantErr(t, s.DeleteClientScope(ctx, r.ID, full.ID), store.ErrNotFound)
	_, err = s.GetClientScope(ctx, r.ID, full.ID)
	wantErr(t, err, store.ErrNotFound)
	if got := names(); got != "[Zeta email profile]" {
		t.Errorf("list after delete = %s", got)
	}
	// Deleting the realm deletes its scopes.
	must(t, s.DeleteRealm(ctx, other.ID))
	_, err = s.ListClientScopes(ctx, other.ID)
	wantErr(t, err, store.ErrNotFound)
}

func testClientScopeFields(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	up, err := s.UpdateRealm(ctx, r.ID, func(r *store.Realm) error {
		r.DefaultScopeIDs = []string{"s1", "s2"}
		r.OptionalScopeIDs = []string{"s3"}
		return nil
	})
	must(t, err)
	wantEqual(t, "realm", try(s.GetRealmByID(ctx, r.ID)).must(t), up)
	c := store.Client{ID: id("client"), ClientID: "app", Enabled: true, ScopesAssigned: true,
		DefaultScopeIDs: []string{"s2", "s1"}, OptionalScopeIDs: []string{"s3"},
		ProtocolMappers: []store.ProtocolMapper{{ID: id("m"), Name: "aud", Protocol: "openid-connect",
			ProtocolMapper: "oidc-audience-mapper", Config: map[string]string{"included.custom.audience": "x"}}},
		ScopeRoleIDs: []string{"role-1"}, RestrictScope: true, CreatedAt: clock()}
	must(t, s.CreateClient(ctx, r.ID, c))
	wantEqual(t, "client", try(s.GetClient(ctx, r.ID, c.ID)).must(t), c)
}
