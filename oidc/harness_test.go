package oidc_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/metrics"
	"github.com/gatehouse/gatehouse/knox"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/bolt"
	"github.com/gatehouse/gatehouse/store/memory"
)

// env is a running Gatehouse (real router, in-memory store; bbolt when the
// test observes store metrics) with one realm "demo" holding a confidential
// client, a public client and a user.
type env struct {
	t   testing.TB
	svc *realms.Service
	// knoxSvc is the Knox service the server and the Knox API share.
	knoxSvc *realms.KnoxService
	store   store.Store
	srv     *httptest.Server
	base    string // server URL including the relative path
	realm   string
	secret  string // of client "app"
	app     store.Client
	alice   store.User
	clock   *clock // the service clock: advance it instead of sleeping
}

// clock is the service clock of a test env: the wall clock plus an offset
// that a test advances to age tokens and sessions without waiting.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

const alicePassword = "alice-Secret-1"

type envOption func(*envConfig)

type envConfig struct {
	relativePath string
	alg          string
	realm        store.Realm
	metrics      metrics.Recorder
	log          *slog.Logger
	now          func() time.Time
	iamRealm     string
}

func withRelativePath(p string) envOption { return func(c *envConfig) { c.relativePath = p } }
func withAlgorithm(a string) envOption    { return func(c *envConfig) { c.alg = a } }

func withMetrics(m metrics.Recorder) envOption { return func(c *envConfig) { c.metrics = m } }
func withLogger(l *slog.Logger) envOption      { return func(c *envConfig) { c.log = l } }
func withClock(now func() time.Time) envOption { return func(c *envConfig) { c.now = now } }
func withRealm(fn func(*store.Realm)) envOption {
	return func(c *envConfig) { fn(&c.realm) }
}

// withIAMRealm names the realm of the unprefixed IAM path.
func withIAMRealm(r string) envOption { return func(c *envConfig) { c.iamRealm = r } }

// openStore is the env's store: in memory, so a test costs no file and no
// fsync, except where the test observes the store commits that only the
// bbolt store measures.
func openStore(t testing.TB, m metrics.Recorder) store.Store {
	t.Helper()
	if m == nil {
		return memory.New()
	}
	st, err := bolt.Open(filepath.Join(t.TempDir(), "gatehouse.db"), bolt.Options{Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newEnv takes testing.TB so benchmarks get the same clean-up as tests (the
// store's temporary directory is removed when the benchmark ends).
func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	cfg := envConfig{realm: store.Realm{Name: "demo", Enabled: true}}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.alg != "" {
		cfg.realm.DefaultSignatureAlgorithm = cfg.alg
	}
	st := openStore(t, cfg.metrics)
	sealer, err := realms.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{}
	now := clk.now
	if cfg.now != nil {
		now = cfg.now
	}
	svc := realms.NewService(st, sealer, now)
	svc.SetMetrics(cfg.metrics)
	ctx := context.Background()
	if _, err := svc.CreateRealm(ctx, cfg.realm); err != nil {
		t.Fatal(err)
	}
	app, secret, err := svc.CreateClient(ctx, "demo", realms.NewClient{Client: store.Client{
		ClientID: "app", Enabled: true, DirectAccessGrantsEnabled: true, ServiceAccountsEnabled: true,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.CreateClient(ctx, "demo", realms.NewClient{Client: store.Client{
		ClientID: "cli", Enabled: true, PublicClient: true, DirectAccessGrantsEnabled: true,
	}}); err != nil {
		t.Fatal(err)
	}
	alice, err := svc.CreateUser(ctx, "demo", realms.NewUser{User: store.User{
		Username: "alice", Email: "alice@example.com", FirstName: "Alice", LastName: "Liddell",
		Enabled: true, EmailVerified: true,
	}, Password: alicePassword})
	if err != nil {
		t.Fatal(err)
	}
	knoxSvc := realms.NewKnoxService(svc)
	h := oidc.NewServer(oidc.Config{Service: svc, Knox: knoxSvc, RelativePath: cfg.relativePath, Logger: cfg.log, IAMRealm: cfg.iamRealm})
	// Knox tokens are presented to this package's endpoints too.
	knox.Mount(h, knoxSvc, svc, cfg.log)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, svc: svc, knoxSvc: knoxSvc, store: st, srv: srv, base: srv.URL + cfg.relativePath, realm: "demo",
		secret: secret, app: app, alice: alice, clock: clk}
}

func (e *env) issuer() string { return e.base + "/realms/" + e.realm }
func (e *env) endpoint(p string) string {
	return e.issuer() + "/protocol/openid-connect/" + p
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

// post sends a form with optional Basic credentials ("" user = none).
func (e *env) post(path string, form url.Values, user, pass string) response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.endpoint(path), strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	return e.do(req)
}

func (e *env) do(req *http.Request) response {
	e.t.Helper()
	return fromAPI(apitest.Do(e.t, req))
}

// fromAPI is the shared test answer under this package's field names.
func fromAPI(r apitest.Response) response {
	return response{status: r.Status, header: r.Header, body: r.Body, raw: r.Raw}
}

// passwordLogin runs the password grant for alice through client app.
func (e *env) passwordLogin(extra url.Values) response {
	e.t.Helper()
	f := url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {alicePassword}}
	for k, v := range extra {
		f[k] = v
	}
	r := e.post("token", f, "app", e.secret)
	if r.status != 200 {
		e.t.Fatalf("password grant: %d %s", r.status, r.raw)
	}
	return r
}

// claims decodes a JWT's payload without verifying it.
func claims(t *testing.T, jwt string) map[string]any { t.Helper(); return apitest.Claims(t, jwt) }

func header(t *testing.T, jwt string) map[string]any { t.Helper(); return apitest.Header(t, jwt) }
