package knox_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/knox"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/bolt"
)

// env is a running Gatehouse (the protocol router with the Knox API
// mounted, a real bbolt store) with one realm "demo" holding a confidential
// client "app" (for introspection) and a user alice.
type env struct {
	t       testing.TB
	svc     *realms.Service
	knoxSvc *realms.KnoxService
	store   store.Store
	base    string
	secret  string // of client "app"
	alice   store.User
}

const alicePassword = "alice-Secret-1"

func newEnv(t testing.TB) *env {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "gatehouse.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sealer, err := realms.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	svc := realms.NewService(st, sealer, nil)
	ctx := context.Background()
	if _, err := svc.CreateRealm(ctx, store.Realm{Name: "demo", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	_, secret, err := svc.CreateClient(ctx, "demo", realms.NewClient{Client: store.Client{ClientID: "app", Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	alice, err := svc.CreateUser(ctx, "demo", realms.NewUser{User: store.User{Username: "alice", Enabled: true}, Password: alicePassword})
	if err != nil {
		t.Fatal(err)
	}
	knoxSvc := realms.NewKnoxService(svc)
	srv := oidc.NewServer(oidc.Config{Service: svc, Knox: knoxSvc})
	knox.Mount(srv, knoxSvc, svc, nil)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &env{t: t, svc: svc, knoxSvc: knoxSvc, store: st, base: hs.URL, secret: secret, alice: alice}
}

func (e *env) issuer() string { return e.base + "/realms/demo" }

func (e *env) realmID() string {
	e.t.Helper()
	st, err := e.svc.Realm(context.Background(), "demo")
	if err != nil {
		e.t.Fatal(err)
	}
	return st.Realm.ID
}

// putTopology saves a topology through the Knox service, with the admin
// API's defaults.
func (e *env) putTopology(t store.Topology) {
	e.t.Helper()
	realms.ApplyTopologyDefaults(&t)
	if t.LimitPerUser == 0 {
		t.LimitPerUser = realms.DefaultKnoxLimitPerUser
	}
	ctx := context.Background()
	if err := e.knoxSvc.ValidateTopology(ctx, &t); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.knoxSvc.PutTopology(ctx, t); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) gateway(topology, path string) string {
	return e.base + "/gateway/" + topology + "/knoxtoken/api/v1/" + path
}

// response is a decoded JSON answer.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r response) str(k string) string {
	s, _ := r.body[k].(string)
	return s
}

func (e *env) do(req *http.Request) response {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if len(b) > 0 {
		_ = json.Unmarshal(b, &out.body)
	}
	return out
}

// knox sends a Knox request with Basic (user != "") or Bearer (bearer != "").
func (e *env) knox(method, rawURL, user, pass, bearer, body string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return e.do(req)
}

// introspect asks the realm's introspection endpoint, as client app, about
// a token: Knox tokens are presented to the realm's other endpoints too.
func (e *env) introspect(token string) response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.issuer()+"/protocol/openid-connect/token/introspect",
		strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app", url.QueryEscape(e.secret))
	return e.do(req)
}

func (e *env) introspectActive(token string) bool {
	e.t.Helper()
	return e.introspect(token).body["active"] == true
}

func (e *env) addUser(name, password string) store.User {
	e.t.Helper()
	u, err := e.svc.CreateUser(context.Background(), "demo", realms.NewUser{User: store.User{Username: name, Enabled: true}, Password: password})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// grantRealmManagement gives a user a role of the realm-management client.
func (e *env) grantRealmManagement(userID, role string) {
	e.t.Helper()
	ctx := context.Background()
	rm, err := e.store.GetClientByClientID(ctx, e.realmID(), realms.RealmManagementClientID)
	if err != nil {
		e.t.Fatal(err)
	}
	r, err := e.store.GetRoleByName(ctx, e.realmID(), rm.ID, role)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.svc.GrantRoles(ctx, "demo", userID, r.ID); err != nil {
		e.t.Fatal(err)
	}
}

// issueKnox gets a Knox token at a Basic topology with a password.
func (e *env) issueKnox(topology, user, password string) response {
	e.t.Helper()
	r := e.knox(http.MethodPost, e.gateway(topology, "token"), user, password, "", "")
	if r.status != 200 {
		e.t.Fatalf("issue at %s for %s: %d %s", topology, user, r.status, r.raw)
	}
	return r
}

// jwtPart decodes part i (0 header, 1 claims) of a compact JWT without
// verifying it.
func jwtPart(t *testing.T, jwt string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func claims(t *testing.T, jwt string) map[string]any { t.Helper(); return jwtPart(t, jwt, 1) }
func header(t *testing.T, jwt string) map[string]any { t.Helper(); return jwtPart(t, jwt, 0) }
