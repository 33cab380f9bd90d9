package realms

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	xargon2 "golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	xpbkdf2 "golang.org/x/crypto/pbkdf2"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/bolt"
)

func newImportService(t *testing.T) *Service {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "i.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sealer, _ := NewSealer(make([]byte, 32))
	return NewService(st, sealer, nil)
}

// keycloakCredential writes a password credential as a Keycloak export
// does, from a hash computed here with x/crypto, independently of the code
// under test.
func keycloakCredential(alg string, iterations int, salt, value []byte, params map[string]string) ImportCredential {
	add := map[string][]string{}
	for k, v := range params {
		add[k] = []string{v}
	}
	sd := fmt.Sprintf(`{"value":%q,"salt":%q,"additionalParameters":{}}`,
		base64.StdEncoding.EncodeToString(value), base64.StdEncoding.EncodeToString(salt))
	cd := fmt.Sprintf(`{"hashIterations":%d,"algorithm":%q,"additionalParameters":%s}`, iterations, alg, mustJSON(add))
	return ImportCredential{Type: "password", SecretData: sd, CredentialData: cd, CreatedDate: 1700000000000}
}

func mustJSON(v map[string][]string) string {
	out := "{"
	for _, k := range sortedKeys(v) {
		if len(out) > 1 {
			out += ","
		}
		out += fmt.Sprintf("%q:[%q]", k, v[k][0])
	}
	return out + "}"
}

func TestImportedKeycloakHashesLogInAndAreUpgraded(t *testing.T) {
	salt := []byte("0123456789abcdef")
	pbkdf := func(h func() hash.Hash, iter, n int) []byte {
		return xpbkdf2.Key([]byte("old secret"), salt, iter, n, h)
	}
	bc, err := bcrypt.GenerateFromPassword([]byte("old secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users := []struct {
		name string
		cred ImportCredential
	}{
		{"sha256", keycloakCredential("pbkdf2-sha256", 2750, salt, pbkdf(sha256.New, 2750, 64), nil)},
		{"sha256-32", keycloakCredential("pbkdf2-sha256", 1000, salt, pbkdf(sha256.New, 1000, 32), nil)},
		{"sha512", keycloakCredential("pbkdf2-sha512", 3000, salt, pbkdf(sha512.New, 3000, 64), nil)},
		{"sha1", keycloakCredential("pbkdf2", 2000, salt, pbkdf(sha1.New, 2000, 20), nil)},
		{"argon2id", keycloakCredential("argon2", 2, salt, xargon2.IDKey([]byte("old secret"), salt, 2, 1024, 1, 32),
			map[string]string{"type": "id", "version": "1.3", "memory": "1024", "parallelism": "1", "hashLength": "32"})},
		{"argon2i", keycloakCredential("argon2", 3, salt, xargon2.Key([]byte("old secret"), salt, 3, 512, 2, 16),
			map[string]string{"type": "i", "version": "1.3", "memory": "512", "parallelism": "2", "hashLength": "16"})},
		// Keycloak before 11 wrote the hash in the credential itself.
		{"legacy", ImportCredential{Type: "password", HashedSaltedValue: base64.StdEncoding.EncodeToString(pbkdf(sha256.New, 2000, 64)),
			Salt: base64.StdEncoding.EncodeToString(salt), HashIterations: 2000, Algorithm: "pbkdf2-sha256"}},
		{"bcrypt", ImportCredential{Type: "password", SecretData: fmt.Sprintf(`{"value":%q}`, bc),
			CredentialData: `{"hashIterations":-1,"algorithm":"bcrypt"}`}},
	}
	imp := RealmImport{}
	for _, u := range users {
		imp.Users = append(imp.Users, ImportUser{Username: u.name, Enabled: true, Credentials: []ImportCredential{u.cred}})
	}
	svc := newImportService(t)
	ctx := context.Background()
	r, err := svc.ImportRealm(ctx, store.Realm{Name: "moved", Enabled: true}, imp)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		t.Run(u.name, func(t *testing.T) {
			if _, err := svc.AuthenticateUser(ctx, r, u.name, "wrong", ""); !errors.Is(err, ErrBadPassword) {
				t.Fatalf("wrong password: %v", err)
			}
			got, err := svc.AuthenticateUser(ctx, r, u.name, "old secret", "")
			if err != nil {
				t.Fatalf("login with the exported hash: %v", err)
			}
			stored, err := svc.store.GetUser(ctx, r.ID, got.ID)
			if err != nil {
				t.Fatal(err)
			}
			c := stored.Credentials[passwordIndex(stored.Credentials)]
			if c.Algorithm != algArgon2 || !slices.Equal(c.Hash, xargon2.IDKey([]byte("old secret"), c.Salt, argonIterations, argonMemoryKiB, argonParallelism, argonHashLen)) {
				t.Fatalf("after login the hash is %s %v, want the current argon2id", c.Algorithm, c.Params)
			}
			if _, err := svc.AuthenticateUser(ctx, r, u.name, "old secret", ""); err != nil {
				t.Fatalf("login after the upgrade: %v", err)
			}
		})
	}
}

func TestImportRealmRolesGroupsClientsAndUsers(t *testing.T) {
	svc := newImportService(t)
	ctx := context.Background()
	imp := RealmImport{
		Roles: &ImportRoles{
			Realm: []ImportRole{
				// Refers forward to a role listed after it.
				{Name: "editor", Composite: true, Composites: &ImportComposites{Realm: []string{"reader"}, Client: map[string][]string{"api": {"write"}}}},
				{Name: "reader"},
				{Name: "default-roles-shop", Composite: true, Composites: &ImportComposites{Realm: []string{"offline_access", "reader"}}},
			},
			Client: map[string][]ImportRole{"api": {{Name: "write"}, {Name: "call"}}},
		},
		Clients: []ImportClient{
			{ID: "6a4f1a52-3ae6-4f4e-9a3b-3a3a3a3a3a3a", ClientID: "api", Secret: "api-old-secret", ServiceAccountsEnabled: true},
			{ClientID: "account", Name: "renamed"},
		},
		Groups: []ImportGroup{{Name: "staff", RealmRoles: []string{"editor"},
			SubGroups: []ImportGroup{{Name: "ops", ClientRoles: map[string][]string{"api": {"call"}}}}}},
		Users: []ImportUser{
			{ID: "0d7c59b5-1f67-4a35-9e62-1a2b3c4d5e6f", Username: "Ann", Email: "ann@example.com", Enabled: true,
				Attributes: map[string][]string{"dept": {"toys"}}, Groups: []string{"/staff/ops"},
				Credentials: []ImportCredential{{Type: "password", Value: "ann-pw"}}},
			{Username: "service-account-api", ServiceAccountClientID: "api", RealmRoles: []string{"reader"}},
		},
	}
	r, err := svc.ImportRealm(ctx, store.Realm{Name: "shop", Enabled: true}, imp)
	if err != nil {
		t.Fatal(err)
	}
	ann, err := svc.AuthenticateUser(ctx, r, "ann", "ann-pw", "")
	if err != nil {
		t.Fatal(err)
	}
	if ann.ID != "0d7c59b5-1f67-4a35-9e62-1a2b3c4d5e6f" || ann.Attributes["dept"][0] != "toys" {
		t.Fatalf("user = %+v: the exported ID (the token sub) and attributes must survive", ann)
	}
	groupRoles, err := svc.groupRoleIDs(ctx, r.ID, ann.GroupIDs)
	if err != nil {
		t.Fatal(err)
	}
	eff, err := svc.ExpandRoles(ctx, r.ID, append(slices.Clone(ann.RoleIDs), groupRoles...)...)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(eff.Realm)
	wantRealm := []string{"default-roles-shop", "editor", "offline_access", "reader", "uma_authorization"}
	if !slices.Equal(eff.Realm, wantRealm) {
		t.Fatalf("realm roles = %v, want %v", eff.Realm, wantRealm)
	}
	api := slices.Sorted(slices.Values(eff.Client["api"]))
	if !slices.Equal(api, []string{"call", "write"}) {
		t.Fatalf("api roles = %v (from the subgroup and the composite)", eff.Client)
	}
	c, err := svc.AuthenticateClient(ctx, r, "api", "api-old-secret", "")
	if err != nil {
		t.Fatalf("the client's exported secret: %v", err)
	}
	if c.ID != "6a4f1a52-3ae6-4f4e-9a3b-3a3a3a3a3a3a" {
		t.Fatalf("client ID = %s", c.ID)
	}
	sa, err := svc.ServiceAccount(ctx, r.ID, c)
	if err != nil {
		t.Fatal(err)
	}
	reader, err := svc.RoleByName(ctx, r.ID, "", "reader")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(sa.RoleIDs, reader.ID) {
		t.Fatalf("service account roles %v lack the exported reader", sa.RoleIDs)
	}
	account, err := svc.ClientByClientID(ctx, r.ID, "account")
	if err != nil || account.Name != "${client_account}" {
		t.Fatalf("built-in account client = %+v, %v: the new realm's own is kept", account, err)
	}
}

func TestImportRealmIsAllOrNothing(t *testing.T) {
	ok := func() RealmImport {
		return RealmImport{
			Roles:   &ImportRoles{Realm: []ImportRole{{Name: "reader"}}},
			Clients: []ImportClient{{ClientID: "app", Secret: "s"}},
			Groups:  []ImportGroup{{Name: "staff"}},
			Users:   []ImportUser{{Username: "ann", Enabled: true, Groups: []string{"staff"}}},
		}
	}
	hostile := keycloakCredential("pbkdf2-sha256", 1_000_000_000, []byte("0123456789abcdef"), make([]byte, 32), nil)
	hugeArgon := keycloakCredential("argon2", 5, []byte("0123456789abcdef"), make([]byte, 32), map[string]string{"memory": "100000000"})
	cases := []struct {
		name  string
		edit  func(*RealmImport)
		field string
	}{
		{"hostile pbkdf2 iterations", func(i *RealmImport) { i.Users[0].Credentials = []ImportCredential{hostile} }, "users[0].credentials[0]"},
		{"hostile argon2 memory", func(i *RealmImport) { i.Users[0].Credentials = []ImportCredential{hugeArgon} }, "users[0].credentials[0]"},
		{"legacy hash of an unknown algorithm", func(i *RealmImport) {
			i.Users[0].Credentials = []ImportCredential{{Type: "password", HashedSaltedValue: "AAAA", Salt: "AAAA", HashIterations: 1, Algorithm: "md5"}}
		}, "users[0].credentials[0]"},
		{"Keycloak 1.x application duplicating a client", func(i *RealmImport) {
			i.Applications = []legacyApplication{{Name: "app"}}
		}, "clients[1]"},
		{"scope mapping of an unknown client", func(i *RealmImport) {
			i.ScopeMappings = []ImportScopeMapping{{Client: "nope", Roles: []string{"reader"}}}
		}, "scopeMappings[0].client"},
		{"client scope mapping of an unknown role", func(i *RealmImport) {
			i.ClientScopeMappings = map[string][]ImportScopeMapping{"app": {{ClientScope: "profile", Roles: []string{"nope"}}}}
		}, "clientScopeMappings.app[0].roles"},
		{"saml client", func(i *RealmImport) { i.Clients[0].Protocol = "saml" }, "clients[0]"},
		{"jwt-authenticated client", func(i *RealmImport) { i.Clients[0].ClientAuthenticatorType = "client-jwt" }, "clients[0]"},
		{"otp credential", func(i *RealmImport) { i.Users[0].Credentials = []ImportCredential{{Type: "otp", Value: "x"}} }, "users[0].credentials[0]"},
		{"duplicate username", func(i *RealmImport) { i.Users = append(i.Users, ImportUser{Username: "ANN"}) }, "users[1]"},
		{"unknown group", func(i *RealmImport) { i.Users[0].Groups = []string{"/nope"} }, "users[0].groups"},
		{"client roles of unknown client", func(i *RealmImport) { i.Roles.Client = map[string][]ImportRole{"nope": {{Name: "x"}}} }, "roles.client.nope"},
		// Found only while writing: the realm made so far is removed.
		{"unknown realm role", func(i *RealmImport) { i.Users[0].RealmRoles = []string{"writer"} }, "users[0]"},
		{"unknown composite", func(i *RealmImport) {
			i.Roles.Realm[0].Composites = &ImportComposites{Client: map[string][]string{"app": {"nope"}}}
		}, "roles.realm[0].composites"},
		{"service account of a client without one", func(i *RealmImport) {
			i.Users = append(i.Users, ImportUser{Username: "service-account-admin-cli", ServiceAccountClientID: "admin-cli", RealmRoles: []string{"reader"}})
		}, "users[1]"},
		{"invalid email", func(i *RealmImport) { i.Users[0].Email = "not an email" }, "users[0].email"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc := newImportService(t)
			ctx := context.Background()
			imp := ok()
			tc.edit(&imp)
			_, err := svc.ImportRealm(ctx, store.Realm{Name: "half", Enabled: true}, imp)
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field {
				t.Fatalf("err = %v, want a validation error of %s", err, tc.field)
			}
			if _, err := svc.Realm(ctx, "half"); !errors.Is(err, ErrRealmNotFound) {
				t.Fatalf("after a failed import the realm lookup = %v, want ErrRealmNotFound", err)
			}
			// The representation without the fault imports.
			if _, err := svc.ImportRealm(ctx, store.Realm{Name: "half", Enabled: true}, ok()); err != nil {
				t.Fatalf("clean import after the failed one: %v", err)
			}
		})
	}
}

// stripBuiltinIDs blanks the IDs an import does not carry over: those of
// what every new realm makes for itself (roles, scopes and their mappers,
// built-in clients, service-account users).
func stripBuiltinIDs(x *RealmImport) {
	for i := range x.Roles.Realm {
		x.Roles.Realm[i].ID = ""
	}
	for _, rs := range x.Roles.Client {
		for i := range rs {
			rs[i].ID = ""
		}
	}
	for i := range x.ClientScopes {
		x.ClientScopes[i].ID = ""
		for j := range x.ClientScopes[i].ProtocolMappers {
			x.ClientScopes[i].ProtocolMappers[j].ID = ""
		}
	}
	for i := range x.Clients {
		if builtinClientID(x.Clients[i].ClientID) {
			x.Clients[i].ID = ""
		}
	}
	for i := range x.Users {
		if x.Users[i].ServiceAccountClientID != "" {
			x.Users[i].ID = ""
		}
	}
}

func TestExportImportExportIsLossless(t *testing.T) {
	ctx := context.Background()
	src := newImportService(t)
	salt := []byte("0123456789abcdef")
	imp := RealmImport{
		Roles: &ImportRoles{
			Realm:  []ImportRole{{Name: "editor", Composites: &ImportComposites{Realm: []string{"reader"}, Client: map[string][]string{"api": {"write"}}}}, {Name: "reader", Attributes: map[string][]string{"k": {"v"}}}},
			Client: map[string][]ImportRole{"api": {{Name: "write", Description: "writes"}}},
		},
		Clients: []ImportClient{{ClientID: "api", Secret: "api-secret", ServiceAccountsEnabled: true, RedirectURIs: []string{"https://api.example/*"},
			ProtocolMappers: []store.ProtocolMapper{{Name: "tier", Protocol: "openid-connect", ProtocolMapper: MapperHardcodedClaim,
				Config: map[string]string{"claim.name": "tier", "claim.value": "gold", "access.token.claim": "true"}}}}},
		ClientScopes: []ImportClientScope{{Name: "extra", Protocol: "openid-connect"}},
		IdentityProviders: []ImportIdentityProvider{{Alias: "ext", ProviderID: "oidc",
			Config: map[string]string{"issuer": "https://idp.example", "jwksUrl": "https://idp.example/jwks", "clientSecret": "idp-secret"}}},
		Groups: []ImportGroup{{Name: "staff", RealmRoles: []string{"editor"}, SubGroups: []ImportGroup{{Name: "ops", ClientRoles: map[string][]string{"api": {"write"}}}}}},
		Users: []ImportUser{
			{Username: "ann", Enabled: true, Email: "ann@example.com", Groups: []string{"/staff/ops"}, Attributes: map[string][]string{"a": {"1", "2"}},
				FederatedIdentities: []store.FederatedIdentity{{IdentityProvider: "ext", UserID: "ext-ann", UserName: "ann"}},
				Credentials:         []ImportCredential{keycloakCredential("pbkdf2-sha256", 1000, salt, xpbkdf2.Key([]byte("pw"), salt, 1000, 32, sha256.New), nil)}},
			{Username: "bob", RealmRoles: []string{"reader"}, Credentials: []ImportCredential{{Type: "password", Value: "bob-pw", Temporary: true}}},
			{Username: "service-account-api", ServiceAccountClientID: "api", RealmRoles: []string{"reader"}},
		},
	}
	if _, err := src.ImportRealm(ctx, store.Realm{Name: "trip", Enabled: true}, imp); err != nil {
		t.Fatal(err)
	}
	full := ExportOptions{Clients: true, GroupsAndRoles: true, Users: true, Secrets: true}
	first, err := src.ExportRealm(ctx, "trip", full)
	if err != nil {
		t.Fatal(err)
	}
	dst := newImportService(t)
	r2, err := dst.ImportRealm(ctx, store.Realm{Name: "trip", Enabled: true}, first)
	if err != nil {
		t.Fatalf("importing the export: %v", err)
	}
	second, err := dst.ExportRealm(ctx, "trip", full)
	if err != nil {
		t.Fatal(err)
	}
	stripBuiltinIDs(&first)
	stripBuiltinIDs(&second)
	if diff := cmp.Diff(first, second); diff != "" {
		t.Fatalf("export -> import -> export changed (-first +second):\n%s", diff)
	}
	// What the export carried works in the new place.
	if _, err := dst.AuthenticateUser(ctx, r2, "ann", "pw", ""); err != nil {
		t.Fatalf("ann after the round trip: %v", err)
	}
	if _, err := dst.AuthenticateClient(ctx, r2, "api", "api-secret", ""); err != nil {
		t.Fatalf("api secret after the round trip: %v", err)
	}
	p, err := dst.IdentityProvider(ctx, r2.ID, "ext")
	if err != nil {
		t.Fatal(err)
	}
	if sec, err := dst.IdentityProviderSecret(r2.ID, p); err != nil || sec != "idp-secret" {
		t.Fatalf("idp secret = %q, %v", sec, err)
	}
}

func TestPartialExportMasksSecretsAndLeavesUsersOut(t *testing.T) {
	ctx := context.Background()
	svc := newImportService(t)
	imp := RealmImport{
		Clients: []ImportClient{{ClientID: "api", Secret: "api-secret"}},
		IdentityProviders: []ImportIdentityProvider{{Alias: "ext", ProviderID: "oidc",
			Config: map[string]string{"issuer": "https://idp.example", "jwksUrl": "https://idp.example/jwks", "clientSecret": "idp-secret"}}},
		Users: []ImportUser{{Username: "ann", Credentials: []ImportCredential{{Type: "password", Value: "pw"}}}},
	}
	if _, err := svc.ImportRealm(ctx, store.Realm{Name: "p", Enabled: true}, imp); err != nil {
		t.Fatal(err)
	}
	out, err := svc.ExportRealm(ctx, "p", ExportOptions{Clients: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Users) != 0 || out.Roles != nil || out.Groups != nil {
		t.Fatalf("partial export carries users %v roles %v groups %v", out.Users, out.Roles, out.Groups)
	}
	i := slices.IndexFunc(out.Clients, func(c ImportClient) bool { return c.ClientID == "api" })
	if i < 0 || out.Clients[i].Secret != MaskedSecret {
		t.Fatalf("clients = %+v, want api's secret masked", out.Clients)
	}
	if got := out.IdentityProviders[0].Config["clientSecret"]; got != MaskedSecret {
		t.Fatalf("idp clientSecret = %q, want masked", got)
	}
	none, err := svc.ExportRealm(ctx, "p", ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(none.Clients) != 0 {
		t.Fatalf("exportClients=false exported %d clients", len(none.Clients))
	}
}

// A large realm file's users arrive in batches after the rest of the
// realm: each batch is checked whole before its one write, faults are
// numbered by the user's place in the file, and a failed batch writes
// nothing.
func TestImportUsersInBatches(t *testing.T) {
	svc := newImportService(t)
	ctx := context.Background()
	r, err := svc.ImportRealm(ctx, store.Realm{Name: "big", Enabled: true}, RealmImport{
		Roles:  &ImportRoles{Realm: []ImportRole{{Name: "reader"}}},
		Groups: []ImportGroup{{Name: "staff"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	salt := []byte("0123456789abcdef")
	cred := keycloakCredential("pbkdf2-sha256", 2, salt, xpbkdf2.Key([]byte("pw"), salt, 2, 32, sha256.New), nil)
	user := func(name string) ImportUser {
		return ImportUser{Username: name, Enabled: true, RealmRoles: []string{"reader"}, Groups: []string{"/staff"},
			Credentials: []ImportCredential{cred}}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(svc.ImportUsers(ctx, "big", 0, []ImportUser{user("u0"), user("u1")}))
	must(svc.ImportUsers(ctx, "big", 2, []ImportUser{user("u2")}))
	for _, tc := range []struct {
		name  string
		users []ImportUser
		field string
	}{
		{"bad credential", []ImportUser{user("v3"), {Username: "v4", Credentials: []ImportCredential{{Type: "otp", Value: "1"}}}}, "users[4].credentials[0]"},
		{"unknown group", []ImportUser{user("v3"), {Username: "v4", Groups: []string{"/nope"}}}, "users[4].groups"},
		{"username taken by an earlier batch", []ImportUser{user("v3"), user("U0")}, "users[3:5]"},
		{"unknown role", []ImportUser{user("v3"), {Username: "v4", RealmRoles: []string{"nope"}}}, "users[4]"},
	} {
		err := svc.ImportUsers(ctx, "big", 3, tc.users)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field {
			t.Errorf("%s: err = %v, want a validation error of %s", tc.name, err, tc.field)
		}
		if _, err := svc.store.GetUserByUsername(ctx, r.ID, "v3"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: a failed batch wrote its first user: %v", tc.name, err)
		}
	}
	for _, name := range []string{"u0", "u1", "u2"} {
		u, err := svc.AuthenticateUser(ctx, r, name, "pw", "")
		if err != nil || len(u.GroupIDs) != 1 || len(u.RoleIDs) != 2 {
			t.Errorf("%s: %+v %v", name, u, err)
		}
	}
}

// A Keycloak export's parts that Gatehouse does not run are left out of
// the import and named, with every reference to them; the rest imports.
// Wrong settings of parts it does run are still refused.
func TestImportLeavesOutAndNamesWhatGatehouseDoesNotRun(t *testing.T) {
	note := func(name, n string) store.ProtocolMapper {
		return store.ProtocolMapper{Name: name, Protocol: ProtocolOIDC, ProtocolMapper: MapperSessionNote,
			Config: map[string]string{"user.session.note": n, "claim.name": name, cfgAccess: "true"}}
	}
	upn := store.ProtocolMapper{Name: "upn", Protocol: ProtocolOIDC, ProtocolMapper: MapperUserAttribute,
		Config: map[string]string{"user.attribute": "username", "claim.name": "upn", cfgAccess: "true"}}
	for _, tc := range []struct {
		name string
		imp  RealmImport
		// left is what the import names; err, if set, the field that
		// ImportRealm refuses.
		left []string
		err  string
		// check inspects the imported realm.
		check func(t *testing.T, svc *Service, r store.Realm)
	}{
		{name: "a SAML scope and every reference to it",
			imp: RealmImport{
				ClientScopes:               []ImportClientScope{{Name: "role_list", Protocol: "saml"}, {Name: "extra", Protocol: ProtocolOIDC}},
				DefaultDefaultClientScopes: []string{"role_list", "profile", "extra"},
				Clients:                    []ImportClient{{ClientID: "app", Secret: "s", DefaultClientScopes: []string{"role_list", "extra"}}},
				Roles:                      &ImportRoles{Realm: []ImportRole{{Name: "r"}}},
				ScopeMappings:              []ImportScopeMapping{{ClientScope: "role_list", Roles: []string{"r"}}, {ClientScope: "extra", Roles: []string{"r"}}},
			},
			left: []string{"clientScopes[role_list] (protocol saml)"},
			check: func(t *testing.T, svc *Service, r store.Realm) {
				scopes, err := svc.store.ListClientScopes(context.Background(), r.ID)
				if err != nil {
					t.Fatal(err)
				}
				if slices.ContainsFunc(scopes, func(cs store.ClientScope) bool { return cs.Name == "role_list" }) ||
					!slices.ContainsFunc(scopes, func(cs store.ClientScope) bool { return cs.Name == "extra" && len(cs.ScopeRoleIDs) == 1 }) {
					t.Errorf("scopes: %+v", scopes)
				}
			}},
		{name: "mappers of a type or session note not run, in scopes and clients",
			imp: RealmImport{
				ClientScopes: []ImportClientScope{{Name: "service_account", ProtocolMappers: []store.ProtocolMapper{
					note("Client Host", "clientHost"), note("Client ID", "client_id"), note("auth_time", "AUTH_TIME"), upn}}},
				Clients: []ImportClient{{ClientID: "app", Secret: "s", ProtocolMappers: []store.ProtocolMapper{
					{Name: "org", Protocol: ProtocolOIDC, ProtocolMapper: "oidc-organization-membership-mapper"}, upn}}},
			},
			left: []string{
				`clientScopes[service_account].protocolMappers[Client Host] (Session note "clientHost" is not supported (only AUTH_TIME and client_id))`,
				`clients[app].protocolMappers[org] (Unsupported protocol mapper type "oidc-organization-membership-mapper")`,
			},
			check: func(t *testing.T, svc *Service, r store.Realm) {
				c, err := svc.ClientByClientID(context.Background(), r.ID, "app")
				if err != nil || len(c.ProtocolMappers) != 1 || c.ProtocolMappers[0].Name != "upn" {
					t.Errorf("client mappers: %+v %v", c.ProtocolMappers, err)
				}
				scopes, _ := svc.store.ListClientScopes(context.Background(), r.ID)
				i := slices.IndexFunc(scopes, func(cs store.ClientScope) bool { return cs.Name == "service_account" })
				if i < 0 || len(scopes[i].ProtocolMappers) != 3 {
					t.Errorf("service_account scope: %+v", scopes)
				}
			}},
		{name: "composites of built-in admin roles",
			imp: RealmImport{Roles: &ImportRoles{Client: map[string][]ImportRole{RealmManagementClientID: {
				{Name: "view-users", Composite: true, Composites: &ImportComposites{Client: map[string][]string{RealmManagementClientID: {"query-users", "query-groups"}}}},
				{Name: "realm-admin", Composite: true, Composites: &ImportComposites{Client: map[string][]string{RealmManagementClientID: {"view-users", "impersonation"}}}},
				{Name: "impersonation"},
			}}}},
			left: []string{
				"roles.client.realm-management[realm-admin].composites (realm-management/impersonation: the composites of built-in admin roles are fixed)",
				"roles.client.realm-management[view-users].composites (realm-management/query-groups, realm-management/query-users: the composites of built-in admin roles are fixed)",
			},
			check: func(t *testing.T, svc *Service, r store.Realm) {
				rm, err := svc.ClientByClientID(context.Background(), r.ID, RealmManagementClientID)
				if err == nil {
					_, err = svc.RoleByName(context.Background(), r.ID, rm.ID, "impersonation")
				}
				if err != nil {
					t.Errorf("the role itself is imported: %v", err)
				}
			}},
		{name: "a SAML client with its roles, their grants and its scope mappings",
			imp: RealmImport{
				Clients: []ImportClient{{ClientID: "saml-app", Protocol: "saml"}, {ClientID: "app", Secret: "s"}},
				Roles: &ImportRoles{
					Realm:  []ImportRole{{Name: "r", Composite: true, Composites: &ImportComposites{Client: map[string][]string{"saml-app": {"x"}, "app": {"y"}}}}},
					Client: map[string][]ImportRole{"saml-app": {{Name: "x"}}, "app": {{Name: "y"}}},
				},
				Groups: []ImportGroup{{Name: "g", SubGroups: []ImportGroup{{Name: "h", ClientRoles: map[string][]string{"saml-app": {"x"}, "app": {"y"}}}}}},
				Users: []ImportUser{{Username: "u", RealmRoles: []string{"r"}, ClientRoles: map[string][]string{"saml-app": {"x"}}, Groups: []string{"/g/h"}},
					{Username: "service-account-saml-app", ServiceAccountClientID: "saml-app"}},
				ScopeMappings: []ImportScopeMapping{{Client: "saml-app", Roles: []string{"r"}}, {Client: "app", Roles: []string{"r"}}},
				ClientScopeMappings: map[string][]ImportScopeMapping{"saml-app": {{Client: "app", Roles: []string{"x"}}},
					"app": {{Client: "saml-app", Roles: []string{"y"}}}},
			},
			left: []string{"clients[saml-app] (protocol saml, with its roles and every grant and mapping of them)"},
			check: func(t *testing.T, svc *Service, r store.Realm) {
				ctx := context.Background()
				if _, err := svc.ClientByClientID(ctx, r.ID, "saml-app"); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("the SAML client: %v", err)
				}
				u, err := svc.store.GetUserByUsername(ctx, r.ID, "u")
				role, _ := svc.RoleByName(ctx, r.ID, "", "r")
				if err != nil || !slices.Contains(u.RoleIDs, role.ID) || len(u.GroupIDs) != 1 {
					t.Errorf("user u: %+v %v", u, err)
				}
				app, _ := svc.ClientByClientID(ctx, r.ID, "app")
				if len(app.ScopeRoleIDs) != 1 {
					t.Errorf("app's scope mappings: %v", app.ScopeRoleIDs)
				}
			}},
		{name: "a mapper Gatehouse runs, set wrong, is refused",
			imp: RealmImport{ClientScopes: []ImportClientScope{{Name: "extra", ProtocolMappers: []store.ProtocolMapper{
				{Name: "bad", Protocol: ProtocolOIDC, ProtocolMapper: MapperUserAttribute, Config: map[string]string{"jsonType.label": "Bogus"}}}}}},
			err: "clientScopes[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			imp, left := tc.imp.WithoutUnsupported()
			if diff := cmp.Diff(tc.left, left.Names); diff != "" {
				t.Errorf("left out (-want +got):\n%s", diff)
			}
			svc := newImportService(t)
			r, err := svc.ImportRealm(context.Background(), store.Realm{Name: "kc", Enabled: true}, imp)
			var ve *ValidationError
			switch {
			case tc.err != "":
				if !errors.As(err, &ve) || !strings.HasPrefix(ve.Field, tc.err) {
					t.Fatalf("err = %v, want a validation error at %s", err, tc.err)
				}
			case err != nil:
				t.Fatal(err)
			default:
				tc.check(t, svc, r)
			}
		})
	}
}
