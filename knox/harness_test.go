package knox_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
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

// response is a decoded answer.
type response = apitest.Response

func (e *env) putTopology(t store.Topology) { e.t.Helper(); apitest.PutTopology(e.t, e.knoxSvc, t) }

func (e *env) gateway(topology, path string) string { return apitest.KnoxURL(e.base, topology, path) }

func (e *env) do(req *http.Request) response { e.t.Helper(); return apitest.Do(e.t, req) }

// knox sends a Knox request with Basic (user != "") or Bearer (bearer != "").
func (e *env) knox(method, rawURL, user, pass, bearer, body string) response {
	e.t.Helper()
	return apitest.Knox(e.t, method, rawURL, user, pass, bearer, body)
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
	return e.introspect(token).Body["active"] == true
}

func (e *env) addUser(name, password string) store.User {
	e.t.Helper()
	return apitest.AddUser(e.t, e.svc, "demo", name, password)
}

// grantRealmManagement gives a user a role of the realm-management client.
func (e *env) grantRealmManagement(userID, role string) {
	e.t.Helper()
	apitest.GrantRealmManagement(e.t, e.svc, e.store, "demo", userID, role)
}

// issueKnox gets a Knox token at a Basic topology with a password.
func (e *env) issueKnox(topology, user, password string) response {
	e.t.Helper()
	return apitest.IssueKnox(e.t, e.base, topology, user, password)
}

func claims(t *testing.T, jwt string) map[string]any { t.Helper(); return apitest.Claims(t, jwt) }
func header(t *testing.T, jwt string) map[string]any { t.Helper(); return apitest.Header(t, jwt) }
