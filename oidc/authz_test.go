package oidc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

const umaGrant = "urn:ietf:params:oauth:grant-type:uma-ticket"

// authzEnv is env plus a resource server "models" (its own credentials,
// remote resource management on, scopes read and predict) and users who
// hold backend roles: bob the realm role ml-team, carol ops, dave none;
// alice (env's user) holds ml-team too.
type authzEnv struct {
	*env
	rs       store.Client
	rsSecret string
	users    map[string]store.User
	roles    map[string]store.Role
}

const authzPassword = "Authz-pass-1"

func newAuthzEnv(t testing.TB, opts ...envOption) *authzEnv {
	t.Helper()
	e := newEnv(t, opts...)
	ctx := context.Background()
	rs, secret, err := e.svc.CreateClient(ctx, "demo", realms.NewClient{Client: store.Client{
		ClientID: "models", Enabled: true, ServiceAccountsEnabled: true, StandardFlowEnabled: false,
		Authorization: &store.AuthzSettings{PolicyEnforcementMode: "ENFORCING", DecisionStrategy: "UNANIMOUS", AllowRemoteResourceManagement: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	a := &authzEnv{env: e, rs: rs, rsSecret: secret, users: map[string]store.User{"alice": e.alice}, roles: map[string]store.Role{}}
	for _, name := range []string{"ml-team", "ops"} {
		r, err := e.svc.CreateRole(ctx, "demo", store.Role{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		a.roles[name] = r
	}
	for _, name := range []string{"bob", "carol", "dave"} {
		u, err := e.svc.CreateUser(ctx, "demo", realms.NewUser{User: store.User{Username: name, Enabled: true}, Password: authzPassword})
		if err != nil {
			t.Fatal(err)
		}
		a.users[name] = u
	}
	a.grant("alice", "ml-team")
	a.grant("bob", "ml-team")
	a.grant("carol", "ops")
	return a
}

func (a *authzEnv) grant(user, role string) {
	a.t.Helper()
	if err := a.svc.GrantRoles(context.Background(), "demo", a.users[user].ID, a.roles[role].ID); err != nil {
		a.t.Fatal(err)
	}
}

func (a *authzEnv) revoke(user, role string) {
	a.t.Helper()
	if err := a.svc.RevokeRoles(context.Background(), "demo", a.users[user].ID, a.roles[role].ID); err != nil {
		a.t.Fatal(err)
	}
}

// rsToken is the resource server's own token (client credentials).
func (a *authzEnv) rsToken() string {
	a.t.Helper()
	r := a.post("token", url.Values{"grant_type": {"client_credentials"}}, "models", a.rsSecret)
	if r.status != 200 {
		a.t.Fatalf("client_credentials for models: %d %s", r.status, r.raw)
	}
	return r.str("access_token")
}

// userToken logs a user in through client app.
func (a *authzEnv) userToken(name string) string {
	a.t.Helper()
	pw := authzPassword
	if name == "alice" {
		pw = alicePassword
	}
	r := a.post("token", url.Values{"grant_type": {"password"}, "username": {name}, "password": {pw}}, "app", a.secret)
	if r.status != 200 {
		a.t.Fatalf("password grant for %s: %d %s", name, r.status, r.raw)
	}
	return r.str("access_token")
}

// protection calls the protection API with a bearer token ("" = none).
func (a *authzEnv) protection(method, path, token, body string) response {
	a.t.Helper()
	return a.jsonCall(method, a.issuer()+"/authz/protection/resource_set"+path, token, body)
}

// register creates a resource through the protection API and returns its ID.
func (a *authzEnv) register(token, body string) string {
	a.t.Helper()
	r := a.protection(http.MethodPost, "", token, body)
	if r.status != http.StatusCreated || r.str("_id") == "" {
		a.t.Fatalf("register %s: %d %s", body, r.status, r.raw)
	}
	return r.str("_id")
}

// uma asks the token endpoint for a decision with a bearer credential
// ("" = none; then basic, when set, authenticates the client).
func (a *authzEnv) uma(bearer string, form url.Values, basic ...string) response {
	a.t.Helper()
	form.Set("grant_type", umaGrant)
	req, err := http.NewRequest(http.MethodPost, a.endpoint("token"), strings.NewReader(form.Encode()))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if len(basic) == 2 {
		req.SetBasicAuth(basic[0], basic[1])
	}
	return a.do(req)
}

// permissions is the granted list of a response_mode=permissions answer,
// as "name:scope1,scope2" sorted (scopes sorted).
func permissionsOf(t *testing.T, r response) []string {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("permissions: %d %s", r.status, r.raw)
	}
	var perms []struct {
		RSID   string   `json:"rsid"`
		RSName string   `json:"rsname"`
		Scopes []string `json:"scopes"`
	}
	if err := json.Unmarshal([]byte(r.raw), &perms); err != nil {
		t.Fatalf("permissions answer %s: %v", r.raw, err)
	}
	var out []string
	for _, p := range perms {
		if p.RSID == "" {
			t.Fatalf("permission without rsid: %s", r.raw)
		}
		sort.Strings(p.Scopes)
		out = append(out, p.RSName+":"+strings.Join(p.Scopes, ","))
	}
	sort.Strings(out)
	return out
}

// The issue's "done when": a resource server registers model groups for
// users in the three access modes through the protection API alone, lists
// what each user may see with one response_mode=permissions call, gets
// yes/no decisions that follow a role change at once, and rotates a
// model's access key, the old key answering like an unknown resource.
func TestResourceServerDrivesModelGroupsThroughProtectionAPI(t *testing.T) {
	a := newAuthzEnv(t)
	rs := a.rsToken()
	scopes := `"resource_scopes":["read","predict"]`
	public := a.register(rs, `{"name":"public-models","type":"model-group","owner":"alice","access_mode":"public",`+scopes+`}`)
	private := a.register(rs, `{"name":"alice-private","type":"model-group","owner":{"name":"alice"},`+scopes+`}`)
	restricted := a.register(rs, `{"name":"ml-models","type":"model-group","owner":"`+a.alice.ID+`","access_mode":"restricted","backend_roles":["ml-team"],`+scopes+`}`)
	all := a.register(rs, `{"name":"alice-all-roles","type":"model-group","owner":"alice","access_mode":"restricted","add_all_backend_roles":true,`+scopes+`}`)
	model := a.register(rs, `{"name":"ml-models/resnet","type":"model","owner":"alice","access_mode":"restricted","backend_roles":["ml-team"],"parent":"`+restricted+`",`+scopes+`}`)

	got := a.protection(http.MethodGet, "/"+private, rs, "")
	if got.status != 200 || got.str("access_mode") != "private" || !strings.Contains(got.raw, `"owner":{"id":"`+a.alice.ID+`","name":"alice"}`) {
		t.Fatalf("no access_mode must mean private, owned by alice: %d %s", got.status, got.raw)
	}
	got = a.protection(http.MethodGet, "/"+all, rs, "")
	if !strings.Contains(got.raw, `"backend_roles":["ml-team"]`) {
		t.Fatalf("add_all_backend_roles must attach alice's own backend roles: %s", got.raw)
	}

	want := map[string][]string{
		"alice": {"alice-all-roles:predict,read", "alice-private:predict,read", "ml-models/resnet:predict,read", "ml-models:predict,read", "public-models:predict,read"},
		"bob":   {"alice-all-roles:predict,read", "ml-models/resnet:predict,read", "ml-models:predict,read", "public-models:predict,read"},
		"carol": {"public-models:predict,read"},
		"dave":  {"public-models:predict,read"},
	}
	tokens := map[string]string{}
	for user, w := range want {
		tokens[user] = a.userToken(user)
		r := a.uma(tokens[user], url.Values{"audience": {"models"}, "response_mode": {"permissions"}})
		if g := permissionsOf(t, r); !slices.Equal(g, w) {
			t.Errorf("%s may see %v, want %v", user, g, w)
		}
	}

	decide := func(user, permission string) int {
		t.Helper()
		return a.uma(tokens[user], url.Values{"audience": {"models"}, "permission": {permission}, "response_mode": {"decision"}}).status
	}
	if s := decide("bob", restricted+"#predict"); s != 200 {
		t.Fatalf("bob shares ml-team: decision %d", s)
	}
	if s := decide("carol", restricted+"#predict"); s != 403 {
		t.Fatalf("carol shares no role: decision %d", s)
	}
	// The role goes; the next decision with the same token says no.
	a.revoke("bob", "ml-team")
	if s := decide("bob", restricted+"#predict"); s != 403 {
		t.Fatalf("bob lost ml-team: decision %d, want 403", s)
	}
	a.grant("carol", "ml-team")
	if s := decide("carol", restricted+"#predict"); s != 200 {
		t.Fatalf("carol gained ml-team: decision %d, want 200", s)
	}
	if s := decide("dave", public+"#read"); s != 200 {
		t.Fatalf("public is everyone's: decision %d", s)
	}

	// The model's access key names it in a decision; rotating it retires
	// the old one at once.
	k1 := a.protection(http.MethodPost, "/"+model+"/access-key", rs, "")
	key1 := k1.str("accessKey")
	if k1.status != http.StatusOK || key1 == "" {
		t.Fatalf("access key: %d %s", k1.status, k1.raw)
	}
	info := a.protection(http.MethodGet, "/"+model+"/access-key", rs, "")
	if info.status != 200 || info.body["exists"] != true || info.body["createdTimestamp"] == nil || strings.Contains(info.raw, key1) {
		t.Fatalf("access key info must tell existence and time only: %d %s", info.status, info.raw)
	}
	if s := decide("carol", key1+"#predict"); s != 200 {
		t.Fatalf("decision by access key: %d", s)
	}
	if s := decide("dave", key1+"#predict"); s != 403 {
		t.Fatalf("the key names the model, it grants nothing: dave got %d", s)
	}
	key2 := a.protection(http.MethodPost, "/"+model+"/access-key", rs, "").str("accessKey")
	if key2 == "" || key2 == key1 {
		t.Fatal("rotation must make a new key")
	}
	old := a.uma(tokens["carol"], url.Values{"audience": {"models"}, "permission": {key1 + "#predict"}, "response_mode": {"decision"}})
	unknown := a.uma(tokens["carol"], url.Values{"audience": {"models"}, "permission": {"no-such-model#predict"}, "response_mode": {"decision"}})
	if old.status != 400 || old.str("error") != "invalid_resource" || unknown.str("error") != "invalid_resource" ||
		old.str("error_description") != "Resource with id ["+key1+"] does not exist." {
		t.Fatalf("old key must answer like an unknown resource: %d %s / %s", old.status, old.raw, unknown.raw)
	}
	if s := decide("carol", key2+"#predict"); s != 200 {
		t.Fatalf("new key: %d", s)
	}

	// A model group with models cannot go; the model can, then the group.
	if r := a.protection(http.MethodDelete, "/"+restricted, rs, ""); r.status != http.StatusConflict {
		t.Fatalf("delete a group with a model: %d %s", r.status, r.raw)
	}
	for _, id := range []string{model, restricted} {
		if r := a.protection(http.MethodDelete, "/"+id, rs, ""); r.status != http.StatusNoContent {
			t.Fatalf("delete %s: %d %s", id, r.status, r.raw)
		}
	}
	if r := a.protection(http.MethodGet, "/"+restricted, rs, ""); r.status != 404 || r.str("error") != "not_found" {
		t.Fatalf("deleted resource: %d %s", r.status, r.raw)
	}
}

// The protection API's list: IDs unless deep=true, Keycloak's filters,
// first/max paging.
func TestProtectionAPIListsWithKeycloakFilters(t *testing.T) {
	a := newAuthzEnv(t)
	rs := a.rsToken()
	ids := map[string]string{}
	for _, body := range []string{
		`{"name":"g1","type":"model-group","owner":"alice","uris":["/groups/g1"],"resource_scopes":["read"]}`,
		`{"name":"g2","type":"model-group","owner":"bob","uri":"/groups/g2","resource_scopes":[{"name":"predict"}]}`,
		`{"name":"m1","type":"model","owner":"alice","resource_scopes":["read","predict"]}`,
	} {
		var m map[string]any
		_ = json.Unmarshal([]byte(body), &m)
		ids[m["name"].(string)] = a.register(rs, body)
	}
	list := func(q string) []string {
		t.Helper()
		r := a.protection(http.MethodGet, "?"+q, rs, "")
		if r.status != 200 {
			t.Fatalf("list ?%s: %d %s", q, r.status, r.raw)
		}
		var got []string
		if err := json.Unmarshal([]byte(r.raw), &got); err != nil {
			t.Fatalf("list ?%s must be IDs: %s", q, r.raw)
		}
		var names []string
		for _, id := range got {
			for n, v := range ids {
				if v == id {
					names = append(names, n)
				}
			}
		}
		sort.Strings(names)
		return names
	}
	for _, tc := range []struct{ q, want string }{
		{"", "g1,g2,m1"},
		{"uri=/groups", "g1,g2"},
		{"name=g", "g1,g2"},
		{"name=g1&exactName=true", "g1"},
		{"owner=alice", "g1,m1"},
		{"owner=" + a.users["bob"].ID, "g2"},
		{"type=model-group", "g1,g2"},
		{"scope=predict", "g2,m1"},
		{"uri=/groups/g2", "g2"},
		{"first=1&max=1", "g2"},
		{"first=-1&max=-1", "g1,g2,m1"},
		{"owner=nobody", ""},
	} {
		if got := strings.Join(list(tc.q), ","); got != tc.want {
			t.Errorf("?%s: %s, want %s", tc.q, got, tc.want)
		}
	}
	// matchingUri: exact URIs first, else the server's own resource whose
	// URI pattern fits best, as a policy enforcer looks a path up.
	for _, body := range []string{
		`{"name":"api","uris":["/api/*"]}`,
		`{"name":"model","uris":["/api/models/{id}"]}`,
		`{"name":"predict","uris":["/api/models/{id}/predict"]}`,
		`{"name":"pages","uris":["*.html"]}`,
	} {
		var m map[string]any
		_ = json.Unmarshal([]byte(body), &m)
		ids[m["name"].(string)] = a.register(rs, body)
	}
	for _, tc := range []struct{ uri, want string }{
		{"/groups/g2", "g2"},
		{"/api/models/7", "model"},
		{"/api/models/7/predict", "predict"},
		{"/api/other/x", "api"},
		{"/api", "api"},
		{"/index.html", "pages"},
		{"/elsewhere", ""},
	} {
		if got := strings.Join(list("matchingUri=true&uri="+url.QueryEscape(tc.uri)), ","); got != tc.want {
			t.Errorf("matchingUri %s: %s, want %s", tc.uri, got, tc.want)
		}
	}

	deep := a.protection(http.MethodGet, "?deep=true&name=g2&exactName=true", rs, "")
	var reps []map[string]any
	if err := json.Unmarshal([]byte(deep.raw), &reps); err != nil || len(reps) != 1 || reps[0]["_id"] != ids["g2"] ||
		!strings.Contains(deep.raw, `"resource_scopes":[{"id":`) || !strings.Contains(deep.raw, `"uris":["/groups/g2"]`) {
		t.Fatalf("deep list: %s", deep.raw)
	}

	// PUT replaces the descriptive fields and answers 204.
	upd := a.protection(http.MethodPut, "/"+ids["g1"], rs, `{"_id":"`+ids["g1"]+`","name":"g1-renamed","type":"model-group","owner":"alice","resource_scopes":["read"],"description":"first group"}`)
	if upd.status != http.StatusNoContent {
		t.Fatalf("update: %d %s", upd.status, upd.raw)
	}
	if r := a.protection(http.MethodGet, "/"+ids["g1"], rs, ""); r.str("name") != "g1-renamed" || r.str("description") != "first group" {
		t.Fatalf("after update: %s", r.raw)
	}
}

// Who may call the protection API, and its refusals in Keycloak's shape.
func TestProtectionAPIRefusals(t *testing.T) {
	a := newAuthzEnv(t)
	rs := a.rsToken()
	ctx := context.Background()
	// A user's token issued to the resource server is not the server's own.
	if _, err := a.svc.UpdateClient(ctx, "demo", a.rs.ID, func(c *store.Client) error {
		c.DirectAccessGrantsEnabled = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	userOfRS := a.post("token", url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {authzPassword}}, "models", a.rsSecret).str("access_token")
	appToken := a.post("token", url.Values{"grant_type": {"client_credentials"}}, "app", a.secret).str("access_token")
	id := a.register(rs, `{"name":"g","owner":"alice"}`)

	for _, tc := range []struct {
		name, method, path, token, body string
		status                          int
		err, desc                       string
	}{
		{"no token", "GET", "", "", "", 403, "invalid_bearer_token", "Could not obtain bearer access_token from request."},
		{"garbage token", "GET", "", "not-a-token", "", 403, "invalid_bearer_token", ""},
		{"user token of the resource server", "GET", "", userOfRS, "", 403, "invalid_scope", "Requires uma_protection scope."},
		{"client without authorization services", "GET", "", appToken, "", 403, "invalid_clientId", "Client application [app] is not registered as a resource server."},
		{"unknown field", "POST", "", rs, `{"name":"x","colour":"red"}`, 400, "invalid_request", `Unrecognized field "colour"`},
		{"unknown field in owner", "POST", "", rs, `{"name":"x","owner":{"id":"alice","email":"a@b"}}`, 400, "invalid_request", ""},
		{"not JSON", "POST", "", rs, `name=x`, 400, "invalid_request", ""},
		{"wrongly typed field", "POST", "", rs, `{"name":"x","uris":"/a"}`, 400, "invalid_request", "uris: expected []string, got string"},
		{"empty body", "POST", "", rs, ``, 400, "invalid_request", ""},
		{"server-chosen ID", "POST", "", rs, `{"_id":"mine","name":"x"}`, 400, "invalid_request", ""},
		{"same name", "POST", "", rs, `{"name":"g","owner":"bob"}`, 409, "invalid_request", "Resource with name [g] already exists."},
		{"bad access mode", "POST", "", rs, `{"name":"x","access_mode":"secret"}`, 400, "invalid_request", ""},
		{"backend roles without restricted", "POST", "", rs, `{"name":"x","owner":"alice","access_mode":"public","backend_roles":["ml-team"]}`, 400, "invalid_request", ""},
		{"restricted without roles", "POST", "", rs, `{"name":"x","owner":"alice","access_mode":"restricted"}`, 400, "invalid_request", ""},
		{"both role fields", "POST", "", rs, `{"name":"x","owner":"alice","access_mode":"restricted","backend_roles":["ml-team"],"add_all_backend_roles":true}`, 400, "invalid_request", ""},
		{"role the owner lacks", "POST", "", rs, `{"name":"x","owner":"alice","access_mode":"restricted","backend_roles":["ops"]}`, 400, "invalid_request", ""},
		{"unknown owner", "POST", "", rs, `{"name":"x","owner":"nobody"}`, 400, "invalid_request", ""},
		{"unknown resource", "GET", "/00000000-0000-0000-0000-000000000000", rs, "", 404, "not_found", ""},
		{"path and body disagree", "PUT", "/" + id, rs, `{"_id":"other","name":"g"}`, 400, "invalid_request", ""},
		{"unknown query parameter", "GET", "?colour=red", rs, "", 400, "invalid_request", ""},
		{"bad deep", "GET", "?deep=maybe", rs, "", 400, "invalid_request", ""},
		{"negative first", "GET", "?first=-2", rs, "", 400, "invalid_request", ""},
		{"matchingUri without uri", "GET", "?matchingUri=true", rs, "", 400, "invalid_request", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.protection(tc.method, tc.path, tc.token, tc.body)
			if r.status != tc.status || r.str("error") != tc.err || (tc.desc != "" && r.str("error_description") != tc.desc) {
				t.Fatalf("%d %s, want %d %s %q", r.status, r.raw, tc.status, tc.err, tc.desc)
			}
		})
	}

	// Remote management off: writes refused, reads still answered.
	if _, err := a.svc.UpdateClient(ctx, "demo", a.rs.ID, func(c *store.Client) error {
		c.Authorization.AllowRemoteResourceManagement = false
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		path := "/" + id
		if m == "POST" {
			path = ""
		}
		r := a.protection(m, path, rs, `{"name":"y"}`)
		if r.status != 400 || r.str("error") != "not_supported" || r.str("error_description") != "Remote management is disabled." {
			t.Fatalf("%s with remote management off: %d %s", m, r.status, r.raw)
		}
	}
	if r := a.protection("GET", "/"+id, rs, ""); r.status != 200 {
		t.Fatalf("read with remote management off: %d %s", r.status, r.raw)
	}
}

// An RPT is an access token of the caller's client for the caller, with
// the resource server added to aud and the granted permissions in
// authorization.permissions; it is a live token of the realm.
func TestUMAGrantIssuesRPT(t *testing.T) {
	a := newAuthzEnv(t)
	rs := a.rsToken()
	id := a.register(rs, `{"name":"ml-models","owner":"alice","access_mode":"restricted","backend_roles":["ml-team"],"resource_scopes":["read","predict"]}`)
	a.register(rs, `{"name":"private-models","owner":"alice","resource_scopes":["read"]}`)
	bob := a.userToken("bob")
	r := a.uma(bob, url.Values{"audience": {"models"}, "permission": {"ml-models#predict"}})
	if r.status != 200 || r.str("token_type") != "Bearer" || r.body["upgraded"] != false || r.body["refresh_token"] != nil {
		t.Fatalf("RPT answer: %d %s", r.status, r.raw)
	}
	c := claims(t, r.str("access_token"))
	bobClaims := claims(t, bob)
	aud, _ := c["aud"].([]any)
	if s, ok := c["aud"].(string); ok {
		aud = []any{s}
	}
	if c["azp"] != "app" || c["sub"] != a.users["bob"].ID || c["typ"] != "Bearer" || c["sid"] != bobClaims["sid"] ||
		!slices.Contains(aud, any("models")) {
		t.Fatalf("RPT claims: %v", c)
	}
	if exp, bexp := c["exp"].(float64), bobClaims["exp"].(float64); exp > bexp {
		t.Fatalf("RPT outlives the token it was asked with: %v > %v", exp, bexp)
	}
	authz, _ := c["authorization"].(map[string]any)
	perms, _ := json.Marshal(authz["permissions"])
	if string(perms) != `[{"rsid":"`+id+`","rsname":"ml-models","scopes":["predict"]}]` {
		t.Fatalf("authorization.permissions = %s", perms)
	}
	if in := a.introspect(r.str("access_token")); in.body["active"] != true {
		t.Fatalf("RPT must be an active token of the realm: %s", in.raw)
	}
	// A resource server introspects it as an RPT: the permissions at the
	// top level.
	in := a.post("token/introspect", url.Values{"token": {r.str("access_token")}, "token_type_hint": {"requesting_party_token"}}, "models", a.rsSecret)
	got, _ := json.Marshal(in.body["permissions"])
	if in.body["active"] != true || string(got) != string(perms) {
		t.Fatalf("RPT introspection: %s", in.raw)
	}

	// #SCOPE asks about every resource that has the scope.
	byScope := a.uma(bob, url.Values{"audience": {"models"}, "permission": {"#predict"}, "response_mode": {"permissions"}})
	if got := permissionsOf(t, byScope); !slices.Equal(got, []string{"ml-models:predict"}) {
		t.Fatalf("permission #predict: %v", got)
	}

	a.register(rs, `{"name":"public-models","owner":"alice","access_mode":"public","resource_scopes":["read"]}`)
	all := permissionsOf(t, a.uma(bob, url.Values{"audience": {"models"}, "response_mode": {"permissions"}}))
	limited := permissionsOf(t, a.uma(bob, url.Values{"audience": {"models"}, "response_mode": {"permissions"}, "response_permissions_limit": {"1"}}))
	if len(all) != 2 || len(limited) != 1 {
		t.Fatalf("response_permissions_limit=1: %v of %v", limited, all)
	}

	// No permission asks for everything the user may see; names can be
	// left out.
	r = a.uma(bob, url.Values{"audience": {"models"}, "response_include_resource_name": {"false"}})
	authz, _ = claims(t, r.str("access_token"))["authorization"].(map[string]any)
	perms, _ = json.Marshal(authz["permissions"])
	if r.status != 200 || strings.Contains(string(perms), "rsname") || !strings.Contains(string(perms), id) || strings.Count(string(perms), "rsid") != 2 {
		t.Fatalf("RPT for everything: %d %s", r.status, perms)
	}
}

// Who may ask: a user's bearer token, an API key as bearer, or an
// authenticated client for itself or for a subject token.
func TestUMAGrantCallers(t *testing.T) {
	a := newAuthzEnv(t)
	rs := a.rsToken()
	a.register(rs, `{"name":"ml-models","owner":"alice","access_mode":"restricted","backend_roles":["ml-team"],"resource_scopes":["read"]}`)
	a.register(rs, `{"name":"rs-own","resource_scopes":["read"]}`)
	bob := a.userToken("bob")
	key := a.newAPIKey(bob, `{}`).str("apiKey")
	decision := url.Values{"audience": {"models"}, "permission": {"ml-models#read"}, "response_mode": {"decision"}}
	for _, tc := range []struct {
		name   string
		bearer string
		form   url.Values
		basic  []string
		status int
	}{
		{"user bearer token", bob, url.Values{}, nil, 200},
		{"submit_request without a ticket, as client libraries send", bob, url.Values{"submit_request": {"false"}}, nil, 200},
		{"user bearer token and its client_id, as browser adapters send", bob, url.Values{"client_id": {"app"}}, nil, 200},
		{"API key as bearer", key, url.Values{}, nil, 200},
		{"client with the user's token as subject_token", "", url.Values{"subject_token": {bob}}, []string{"app", a.secret}, 200},
		{"client with an API key as subject_token", "", url.Values{"subject_token": {key}, "subject_token_type": {"urn:gatehouse:params:oauth:token-type:api_key"}}, []string{"app", a.secret}, 200},
		{"client for itself: app shares nothing", "", url.Values{}, []string{"app", a.secret}, 403},
		{"the resource server for itself: admin of its resources", "", url.Values{}, []string{"models", a.rsSecret}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range decision {
				f[k] = v
			}
			for k, v := range tc.form {
				f[k] = v
			}
			r := a.uma(tc.bearer, f, tc.basic...)
			if r.status != tc.status || (tc.status == 200 && r.raw != "{\"result\":true}\n") {
				t.Fatalf("%d %s, want %d", r.status, r.raw, tc.status)
			}
		})
	}
	// An RPT asked with an API key is bound to the key: deleting the key
	// ends it.
	r := a.uma(key, url.Values{"audience": {"models"}})
	rpt := r.str("access_token")
	if r.status != 200 || claims(t, rpt)["api_key_id"] == nil || claims(t, rpt)["azp"] != "models" {
		t.Fatalf("RPT for an API key: %d %s", r.status, r.raw)
	}
	keyID := claims(t, rpt)["api_key_id"].(string)
	if d := a.account(http.MethodDelete, "/api-keys/"+keyID, bob, ""); d.status != http.StatusNoContent {
		t.Fatalf("delete key: %d %s", d.status, d.raw)
	}
	if in := a.introspect(rpt); in.body["active"] != false {
		t.Fatalf("RPT of a deleted key: %s", in.raw)
	}
}

// Bad input to the UMA grant gets Keycloak's error for it.
func TestUMAGrantRefusals(t *testing.T) {
	a := newAuthzEnv(t)
	rs := a.rsToken()
	id := a.register(rs, `{"name":"g","owner":"alice","resource_scopes":["read"]}`)
	bob := a.userToken("bob")
	for _, tc := range []struct {
		name   string
		bearer string
		form   url.Values
		status int
		err    string
		desc   string
	}{
		{"bad bearer", "nope", url.Values{"audience": {"models"}}, 401, "invalid_grant", "Invalid bearer token"},
		{"bearer and another client_id", bob, url.Values{"audience": {"models"}, "client_id": {"cli"}}, 400, "invalid_request", "client_id does not name the client of the bearer token"},
		{"bearer and a client secret", bob, url.Values{"audience": {"models"}, "client_id": {"app"}, "client_secret": {"x"}}, 400, "invalid_request", ""},
		{"no audience", bob, url.Values{}, 400, "invalid_request", "You must provide the issuedFor"},
		{"unknown audience", bob, url.Values{"audience": {"nope"}}, 400, "invalid_request", "Unknown resource server id: [nope]"},
		{"audience not a resource server", bob, url.Values{"audience": {"app"}}, 400, "invalid_request", "Client does not support permissions"},
		{"two audiences", bob, url.Values{"audience": {"models", "app"}}, 400, "invalid_request", "duplicated parameter"},
		{"bad response_mode", bob, url.Values{"audience": {"models"}, "response_mode": {"ticket"}}, 400, "invalid_request", "Invalid response_mode"},
		{"ticket", bob, url.Values{"audience": {"models"}, "ticket": {"t"}}, 400, "invalid_request", "Parameter 'ticket' is not supported"},
		{"bad submit_request", bob, url.Values{"audience": {"models"}, "submit_request": {"maybe"}}, 400, "invalid_request", ""},
		{"claim_token", bob, url.Values{"audience": {"models"}, "claim_token": {"e30"}}, 400, "invalid_request", "Parameter 'claim_token' is not supported"},
		{"duplicated response_mode", bob, url.Values{"audience": {"models"}, "response_mode": {"decision", "decision"}}, 400, "invalid_request", "duplicated parameter"},
		{"empty permission", bob, url.Values{"audience": {"models"}, "permission": {"#"}}, 400, "invalid_request", ""},
		{"unknown resource", bob, url.Values{"audience": {"models"}, "permission": {"nope#read"}}, 400, "invalid_resource", "Resource with id [nope] does not exist."},
		{"unknown scope", bob, url.Values{"audience": {"models"}, "permission": {id + "#fly,swim"}}, 400, "invalid_scope", "One of the given scopes [fly, swim] is invalid"},
		{"bad limit", bob, url.Values{"audience": {"models"}, "response_permissions_limit": {"0"}}, 400, "invalid_request", ""},
		{"bad include name", bob, url.Values{"audience": {"models"}, "response_include_resource_name": {"perhaps"}}, 400, "invalid_request", ""},
		{"not granted", bob, url.Values{"audience": {"models"}, "permission": {id + "#read"}, "response_mode": {"decision"}}, 403, "access_denied", "not_authorized"},
		{"nothing granted", a.userToken("dave"), url.Values{"audience": {"models"}, "response_mode": {"permissions"}}, 403, "access_denied", "not_authorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.uma(tc.bearer, tc.form)
			if r.status != tc.status || r.str("error") != tc.err || (tc.desc != "" && r.str("error_description") != tc.desc) {
				t.Fatalf("%d %s, want %d %s %q", r.status, r.raw, tc.status, tc.err, tc.desc)
			}
		})
	}
	// Without a bearer the client must authenticate.
	if r := a.uma("", url.Values{"audience": {"models"}}, "app", "wrong"); r.status != 401 {
		t.Fatalf("bad client secret: %d %s", r.status, r.raw)
	}
	if r := a.uma("", url.Values{"audience": {"models"}, "subject_token": {"nope"}}, "app", a.secret); r.status != 400 || r.str("error") != "unauthorized_client" {
		t.Fatalf("bad subject token: %d %s", r.status, r.raw)
	}
}

// The UMA discovery document names the token and resource registration
// endpoints, and discovery lists the grant.
func TestUMAConfiguration(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest(http.MethodGet, e.issuer()+"/.well-known/uma2-configuration", nil)
	r := e.do(req)
	if r.status != 200 || r.str("issuer") != e.issuer() || r.str("token_endpoint") != e.endpoint("token") ||
		r.str("resource_registration_endpoint") != e.issuer()+"/authz/protection/resource_set" ||
		!strings.Contains(r.raw, umaGrant) || r.body["permission_endpoint"] != nil {
		t.Fatalf("uma2-configuration: %d %s", r.status, r.raw)
	}
	req, _ = http.NewRequest(http.MethodGet, e.issuer()+"/.well-known/openid-configuration", nil)
	if d := e.do(req); !strings.Contains(d.raw, umaGrant) {
		t.Fatalf("discovery must list the UMA grant: %s", d.raw)
	}
}

// Every UMA request is a PERMISSION_TOKEN login event (or its _ERROR with
// Keycloak's error), naming the user and client, never the token.
func TestUMAGrantRecordsPermissionTokenEvents(t *testing.T) {
	a := newAuthzEnv(t, withRealm(func(r *store.Realm) { r.Events.Enabled = true }))
	rs := a.rsToken()
	id := a.register(rs, `{"name":"g","owner":"alice","resource_scopes":["read"]}`)
	bob := a.userToken("bob")
	alice := a.userToken("alice")
	if r := a.uma(alice, url.Values{"audience": {"models"}, "permission": {id}, "response_mode": {"decision"}}); r.status != 200 {
		t.Fatalf("owner decision: %d %s", r.status, r.raw)
	}
	if r := a.uma(bob, url.Values{"audience": {"models"}, "permission": {id}, "response_mode": {"decision"}}); r.status != 403 {
		t.Fatalf("private decision: %d %s", r.status, r.raw)
	}
	st, err := a.svc.Realm(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	events, err := a.svc.LoginEvents(context.Background(), st.Realm, store.LoginEventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var ok, denied bool
	for _, ev := range events {
		switch {
		case ev.Type == "PERMISSION_TOKEN" && ev.UserID == a.alice.ID && ev.ClientID == "app" && ev.Details["grant_type"] == umaGrant:
			ok = true
		case ev.Type == "PERMISSION_TOKEN_ERROR" && ev.UserID == a.users["bob"].ID && ev.Error == "access_denied":
			denied = true
		}
		for _, v := range ev.Details {
			if strings.Count(v, ".") == 2 && len(v) > 100 {
				t.Fatalf("an event holds a token: %v", ev)
			}
		}
	}
	if !ok || !denied {
		t.Fatalf("events: %+v", events)
	}
}

// A resource's access key names it, so it is a secret of sorts: a wrong
// or old one is answered like an unknown resource and the request log
// keeps the cause, never the key.
func TestUMAGrantLogsNoAccessKey(t *testing.T) {
	var buf syncBuffer
	a := newAuthzEnv(t, withLogger(slogText(&buf)))
	rs := a.rsToken()
	id := a.register(rs, `{"name":"g","owner":"alice","access_mode":"public","resource_scopes":["read"]}`)
	key := a.protection(http.MethodPost, "/"+id+"/access-key", rs, "").str("accessKey")
	a.protection(http.MethodPost, "/"+id+"/access-key", rs, "")
	r := a.uma(a.userToken("bob"), url.Values{"audience": {"models"}, "permission": {key + "#read"}, "response_mode": {"decision"}})
	if r.status != 400 || r.str("error") != "invalid_resource" {
		t.Fatalf("old key: %d %s", r.status, r.raw)
	}
	if log := buf.String(); strings.Contains(log, key) || !strings.Contains(log, "no such resource") {
		t.Fatalf("request log: %s", log)
	}
}

// Resource servers are apart: one never reads, changes, deletes or
// decides about another's resources, whatever ID or key it sends.
func TestResourceServersAreIsolated(t *testing.T) {
	a := newAuthzEnv(t)
	ctx := context.Background()
	_, jobsSecret, err := a.svc.CreateClient(ctx, "demo", realms.NewClient{Client: store.Client{
		ClientID: "jobs", Enabled: true, ServiceAccountsEnabled: true,
		Authorization: &store.AuthzSettings{PolicyEnforcementMode: "ENFORCING", DecisionStrategy: "UNANIMOUS", AllowRemoteResourceManagement: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	jobs := a.post("token", url.Values{"grant_type": {"client_credentials"}}, "jobs", jobsSecret).str("access_token")
	job := a.register(jobs, `{"name":"nightly","owner":"alice","access_mode":"public","resource_scopes":["run"]}`)
	key := a.protection(http.MethodPost, "/"+job+"/access-key", jobs, "").str("accessKey")
	rs := a.rsToken()
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		if r := a.protection(m, "/"+job, rs, `{"name":"taken"}`); r.status != 404 {
			t.Fatalf("%s of another server's resource: %d %s", m, r.status, r.raw)
		}
	}
	if r := a.protection(http.MethodPost, "/"+job+"/access-key", rs, ""); r.status != 404 {
		t.Fatalf("rotating another server's key: %d %s", r.status, r.raw)
	}
	var ids []string
	if r := a.protection(http.MethodGet, "?name=nightly", rs, ""); json.Unmarshal([]byte(r.raw), &ids) != nil || len(ids) != 0 {
		t.Fatalf("another server's resource listed: %s", r.raw)
	}
	bob := a.userToken("bob")
	for _, p := range []string{job, key, "nightly"} {
		if r := a.uma(bob, url.Values{"audience": {"models"}, "permission": {p}, "response_mode": {"decision"}}); r.status != 400 || r.str("error") != "invalid_resource" {
			t.Fatalf("deciding %s at the wrong server: %d %s", p, r.status, r.raw)
		}
	}
	if r := a.uma(bob, url.Values{"audience": {"jobs"}, "permission": {key + "#run"}, "response_mode": {"decision"}}); r.status != 200 {
		t.Fatalf("at its own server: %d %s", r.status, r.raw)
	}
}

// A group is a backend role too: membership of it or of a subgroup
// shares a restricted resource, and leaving answers no on the next
// decision.
func TestGroupBackendRoleFollowsMembership(t *testing.T) {
	a := newAuthzEnv(t)
	ctx := context.Background()
	team, err := a.svc.CreateGroup(ctx, "demo", store.Group{Name: "team"})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := a.svc.CreateGroup(ctx, "demo", store.Group{Name: "vision", ParentID: team.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.svc.JoinGroup(ctx, "demo", a.alice.ID, team.ID); err != nil {
		t.Fatal(err)
	}
	rs := a.rsToken()
	id := a.register(rs, `{"name":"team-models","owner":"alice","access_mode":"restricted","backend_roles":["/team"],"resource_scopes":["read"]}`)
	dave := a.userToken("dave")
	decide := func() int {
		return a.uma(dave, url.Values{"audience": {"models"}, "permission": {id + "#read"}, "response_mode": {"decision"}}).status
	}
	if s := decide(); s != 403 {
		t.Fatalf("outside the group: %d", s)
	}
	if err := a.svc.JoinGroup(ctx, "demo", a.users["dave"].ID, sub.ID); err != nil {
		t.Fatal(err)
	}
	if s := decide(); s != 200 {
		t.Fatalf("member of a subgroup: %d", s)
	}
	if err := a.svc.LeaveGroup(ctx, "demo", a.users["dave"].ID, sub.ID); err != nil {
		t.Fatal(err)
	}
	if s := decide(); s != 403 {
		t.Fatalf("after leaving: %d", s)
	}
}
