package realms

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

func testInput() MapperInput {
	return MapperInput{
		User: store.User{ID: "u1", Username: "alice", Email: "a@x", FirstName: "Alice", LastName: "Liddell", EmailVerified: true,
			Enabled: true, CreatedAt: time.UnixMilli(1700000000123),
			Attributes: map[string][]string{"dept": {"eng", "ops"}, "age": {"42"}, "flag": {"true"}, "doc": {`{"k":[1,2]}`},
				"street": {"1 Main St"}, "country": {"NL"}}},
		Client: store.Client{ClientID: "app", WebOrigins: []string{"+", "https://other"}, RedirectURIs: []string{"https://app.example/cb", "https://*.wild/x"}},
		Roles:  EffectiveRoles{Realm: []string{"admin", "user"}, Client: map[string][]string{"api": {"read", "write"}, "app": {"own"}, "a.b": {"x"}}},
		Groups: []string{"/eng/backend", "/ops"},
	}
}

func at(kv ...string) map[string]string {
	m := map[string]string{"access.token.claim": "true"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func otherJSON(t *testing.T, c *Claims) string {
	t.Helper()
	var parts []string
	for _, o := range c.Other {
		b, err := json.Marshal(o.Value)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, o.Name+"="+string(b))
	}
	return strings.Join(parts, " ")
}

// TestMapperTypesAndConfigKeys runs each mapper type with its config keys
// into the access token and checks the claims it makes.
func TestMapperTypesAndConfigKeys(t *testing.T) {
	m := func(typ string, cfg map[string]string) []store.ProtocolMapper {
		return []store.ProtocolMapper{{Name: "m", ProtocolMapper: typ, Config: cfg}}
	}
	for _, tc := range []struct {
		name    string
		mappers []store.ProtocolMapper
		want    string
	}{
		{"attribute string", m(MapperUserAttribute, at("user.attribute", "dept", "claim.name", "dept")), `dept="eng"`},
		{"attribute multivalued", m(MapperUserAttribute, at("user.attribute", "dept", "claim.name", "dept", "multivalued", "true")), `dept=["eng","ops"]`},
		{"attribute long", m(MapperUserAttribute, at("user.attribute", "age", "claim.name", "age", "jsonType.label", "long")), `age=42`},
		{"attribute int", m(MapperUserAttribute, at("user.attribute", "age", "claim.name", "age", "jsonType.label", "int")), `age=42`},
		{"attribute boolean", m(MapperUserAttribute, at("user.attribute", "flag", "claim.name", "f", "jsonType.label", "boolean")), `f=true`},
		{"attribute boolean not true", m(MapperUserAttribute, at("user.attribute", "dept", "claim.name", "f", "jsonType.label", "boolean")), `f=false`},
		{"attribute JSON", m(MapperUserAttribute, at("user.attribute", "doc", "claim.name", "doc", "jsonType.label", "JSON")), `doc={"k":[1,2]}`},
		{"attribute missing", m(MapperUserAttribute, at("user.attribute", "nope", "claim.name", "nope")), ``},
		{"attribute profile field", m(MapperUserAttribute, at("user.attribute", "username", "claim.name", "preferred_username")), `preferred_username="alice"`},
		{"nested claim name", m(MapperUserAttribute, at("user.attribute", "dept", "claim.name", "org.unit.name")), `org={"unit":{"name":"eng"}}`},
		{"escaped dot", m(MapperUserAttribute, at("user.attribute", "dept", "claim.name", `org\.unit`)), `org.unit="eng"`},
		{"property emailVerified", m(MapperUserProperty, at("user.attribute", "emailVerified", "claim.name", "ev", "jsonType.label", "boolean")), `ev=true`},
		{"property createdTimestamp", m(MapperUserProperty, at("user.attribute", "createdTimestamp", "claim.name", "ct", "jsonType.label", "long")), `ct=1700000000123`},
		{"hardcoded claim", m(MapperHardcodedClaim, at("claim.name", "tenant", "claim.value", "acme")), `tenant="acme"`},
		{"hardcoded claim JSON", m(MapperHardcodedClaim, at("claim.name", "obj", "claim.value", `{"a":1}`, "jsonType.label", "JSON")), `obj={"a":1}`},
		{"full name", m(MapperFullName, at()), `name="Alice Liddell"`},
		{"realm roles custom claim", m(MapperRealmRole, at("claim.name", "roles", "multivalued", "true")), `roles=["admin","user"]`},
		{"realm roles prefix", m(MapperRealmRole, at("claim.name", "roles", "multivalued", "true", "usermodel.realmRoleMapping.rolePrefix", "r_")), `roles=["r_admin","r_user"]`},
		{"realm roles single", m(MapperRealmRole, at("claim.name", "role")), `role="admin"`},
		{"client roles of one client", m(MapperClientRole, at("claim.name", "perms", "multivalued", "true", "usermodel.clientRoleMapping.clientId", "api")), `perms=["read","write"]`},
		{"client roles per client", m(MapperClientRole, at("claim.name", "ra.${client_id}.roles", "multivalued", "true")), `ra={"a.b":{"roles":["x"]},"api":{"roles":["read","write"]},"app":{"roles":["own"]}}`},
		{"groups names", m(MapperGroupMembership, at("claim.name", "groups")), `groups=["backend","ops"]`},
		{"groups full path", m(MapperGroupMembership, at("claim.name", "groups", "full.path", "true")), `groups=["/eng/backend","/ops"]`},
		{"address", m(MapperAddress, at()), `address={"country":"NL","street_address":"1 Main St"}`},
		{"two mappers merge multivalued", append(m(MapperHardcodedClaim, at("claim.name", "dept", "claim.value", "sales")),
			m(MapperUserAttribute, at("user.attribute", "dept", "claim.name", "dept", "multivalued", "true"))...), `dept=["sales","eng","ops"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := RunMappers(tc.mappers, testInput(), AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if got := otherJSON(t, c); got != tc.want {
				t.Errorf("claims = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestMapperTargets checks the four target flags and their defaults: a
// missing userinfo flag follows the ID-token flag, a missing introspection
// flag the access-token flag, and only "true" enables.
func TestMapperTargets(t *testing.T) {
	for _, tc := range []struct {
		cfg  map[string]string
		want [4]bool // access, id, userinfo, introspection
	}{
		{map[string]string{"access.token.claim": "true"}, [4]bool{true, false, false, true}},
		{map[string]string{"id.token.claim": "true"}, [4]bool{false, true, true, false}},
		{map[string]string{"id.token.claim": "true", "userinfo.token.claim": "false"}, [4]bool{false, true, false, false}},
		{map[string]string{"access.token.claim": "true", "introspection.token.claim": "false"}, [4]bool{true, false, false, false}},
		{map[string]string{"access.token.claim": "TRUE", "userinfo.token.claim": "true"}, [4]bool{false, false, true, false}},
	} {
		for target, want := range tc.want {
			cfg := map[string]string{"claim.name": "c", "claim.value": "v"}
			for k, v := range tc.cfg {
				cfg[k] = v
			}
			c, err := RunMappers([]store.ProtocolMapper{{ProtocolMapper: MapperHardcodedClaim, Config: cfg}}, testInput(), Target(target))
			if err != nil {
				t.Fatal(err)
			}
			if _, got := c.Get("c"); got != want {
				t.Errorf("%v target %d: emitted %v, want %v", tc.cfg, target, got, want)
			}
		}
	}
}

// TestRoleEditingMappers: hardcoded-role and role-name mappers edit the
// role set before the role and audience mappers read it.
func TestRoleEditingMappers(t *testing.T) {
	roles := []store.ProtocolMapper{
		{ProtocolMapper: MapperRealmRole, Config: at("claim.name", "realm_access.roles", "multivalued", "true")},
		{ProtocolMapper: MapperClientRole, Config: at("claim.name", "resource_access.${client_id}.roles", "multivalued", "true")},
		{ProtocolMapper: MapperAudienceResolve, Config: at()},
	}
	for _, tc := range []struct {
		name  string
		edit  store.ProtocolMapper
		realm string
		cl    string
		aud   string
	}{
		{"hardcoded realm role", store.ProtocolMapper{ProtocolMapper: MapperHardcodedRole, Config: map[string]string{"role": "extra"}},
			"[admin extra user]", "map[a.b:[x] api:[read write] app:[own]]", "[a.b api]"},
		{"hardcoded client role splits at the last dot", store.ProtocolMapper{ProtocolMapper: MapperHardcodedRole, Config: map[string]string{"role": "my.svc.run"}},
			"[admin user]", "map[a.b:[x] api:[read write] app:[own] my.svc:[run]]", "[a.b api my.svc]"},
		{"rename realm role", store.ProtocolMapper{ProtocolMapper: MapperRoleName, Config: map[string]string{"role": "admin", "new.role.name": "boss"}},
			"[boss user]", "map[a.b:[x] api:[read write] app:[own]]", "[a.b api]"},
		{"rename client role to realm role", store.ProtocolMapper{ProtocolMapper: MapperRoleName, Config: map[string]string{"role": "a.b.x", "new.role.name": "ex"}},
			"[admin ex user]", "map[api:[read write] app:[own]]", "[api]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms := append([]store.ProtocolMapper{tc.edit}, roles...)
			in := testInput()
			c, err := RunMappers(ms, in, AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if got := sprint(c.RealmRoles); got != tc.realm {
				t.Errorf("realm roles %s, want %s", got, tc.realm)
			}
			if got := sprint(c.ClientRoles); got != tc.cl {
				t.Errorf("client roles %s, want %s", got, tc.cl)
			}
			if got := sprint(c.Aud); got != tc.aud {
				t.Errorf("aud %s, want %s", got, tc.aud)
			}
			if sprint(in.Roles.Realm) != "[admin user]" || len(in.Roles.Client["a.b"]) != 1 {
				t.Errorf("the input roles changed: %v", in.Roles)
			}
		})
	}
}

func TestAudienceAndOriginsMappers(t *testing.T) {
	c, err := RunMappers([]store.ProtocolMapper{
		{ProtocolMapper: MapperAudience, Config: at("included.client.audience", "api")},
		{ProtocolMapper: MapperAudience, Config: at("included.custom.audience", "https://x")},
		{ProtocolMapper: MapperAllowedOrigins, Config: at()},
	}, testInput(), AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if got := sprint(c.Aud); got != "[api https://x]" {
		t.Errorf("aud = %s", got)
	}
	if got := sprint(c.AllowedOrigins); got != "[https://app.example https://other]" {
		t.Errorf("allowed-origins = %s", got)
	}
}

func TestMapperJSONTypeErrors(t *testing.T) {
	_, err := RunMappers([]store.ProtocolMapper{{Name: "bad", ProtocolMapper: MapperUserAttribute,
		Config: at("user.attribute", "dept", "claim.name", "n", "jsonType.label", "long")}}, testInput(), AccessToken)
	if err == nil || !strings.Contains(err.Error(), "cannot map type for token claim") {
		t.Errorf("err = %v", err)
	}
}

func TestValidateMapperRefusesWhatItCannotRun(t *testing.T) {
	for _, tc := range []struct {
		m    store.ProtocolMapper
		want string
	}{
		{store.ProtocolMapper{Name: "x", ProtocolMapper: "oidc-script-mapper"}, `Unsupported protocol mapper type "oidc-script-mapper"`},
		{store.ProtocolMapper{Name: "x", ProtocolMapper: MapperFullName, Config: map[string]string{"claim.name": "n"}}, `Config key "claim.name" is not supported`},
		{store.ProtocolMapper{Name: "x", ProtocolMapper: MapperUserAttribute, Config: map[string]string{"jsonType.label": "float"}}, `Unsupported jsonType.label "float"`},
		{store.ProtocolMapper{Name: "x", ProtocolMapper: MapperHardcodedRole}, `needs config role`},
		{store.ProtocolMapper{Name: "x", ProtocolMapper: MapperUserAttribute, Config: map[string]string{"aggregate.attrs": "true"}}, `aggregate.attrs=true is not supported`},
		{store.ProtocolMapper{Name: "x", ProtocolMapper: MapperAudience, Config: map[string]string{"lightweight.claim": "true"}}, `lightweight.claim=true is not supported`},
		{store.ProtocolMapper{Name: "x", Protocol: "saml", ProtocolMapper: MapperFullName}, `Protocol saml is not supported`},
		{store.ProtocolMapper{Name: "", ProtocolMapper: MapperFullName}, `name is required`},
	} {
		err := ValidateMapper(&tc.m)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.m, err, tc.want)
		}
	}
}

func sprint(v any) string {
	b := strings.Builder{}
	switch x := v.(type) {
	case []string:
		b.WriteString("[" + strings.Join(x, " ") + "]")
	case map[string][]string:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sortStrings(keys)
		b.WriteString("map[")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString(k + ":[" + strings.Join(x[k], " ") + "]")
		}
		b.WriteString("]")
	}
	return b.String()
}

func sortStrings(s []string) { slices.Sort(s) }

// Keycloak's service_account scope maps the client_id session note, which
// only a service account's session has: the token of a client's own
// service account carries its clientId, a user's token nothing.
func TestClientIDSessionNoteMapsOnlyTheClientsServiceAccount(t *testing.T) {
	note := store.ProtocolMapper{Name: "Client ID", Protocol: ProtocolOIDC, ProtocolMapper: MapperSessionNote,
		Config: map[string]string{"user.session.note": "client_id", "claim.name": "client_id", "jsonType.label": "String", cfgAccess: "true"}}
	if err := ValidateMapper(&note); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		serviceAcctOf string
		want          any
	}{
		{"the client's service account", "c1", "app"},
		{"a user", "", nil},
		{"another client's service account", "c2", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := testInput()
			in.Client.ID = "c1"
			in.User.ServiceAccountClientID = tc.serviceAcctOf
			c, err := RunMappers([]store.ProtocolMapper{note}, in, AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := c.Get("client_id"); got != tc.want || c.AuthTime {
				t.Errorf("client_id = %v, auth_time %v; want %v and no auth_time", got, c.AuthTime, tc.want)
			}
		})
	}
	other := note
	other.Config = map[string]string{"user.session.note": "clientAddress"}
	if err := ValidateMapper(&other); err == nil {
		t.Error("a session note Gatehouse does not keep was accepted")
	}
}
