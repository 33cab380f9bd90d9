package oidc_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/cdpsign"
	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

const iamPath = "/api/v1/iam/generateWorkloadAuthToken"

// testClock is a clock the test moves; the server reads it concurrently.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *testClock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// signedCall is one signed request: what is signed, and what is sent.
type signedCall struct {
	signMethod, signType, signPath string
	date                           time.Time
	method, contentType, url, body string
	// edit changes the headers after signing.
	edit func(h http.Header)
}

func (e *env) signed(s *cdpsign.Signer, c signedCall) response {
	e.t.Helper()
	date, auth, err := s.Headers(c.signMethod, c.signType, c.signPath, c.date)
	if err != nil {
		e.t.Fatal(err)
	}
	req, err := http.NewRequest(c.method, c.url, strings.NewReader(c.body))
	if err != nil {
		e.t.Fatal(err)
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	req.Header.Set("x-altus-date", date)
	req.Header.Set("x-altus-auth", auth)
	if c.edit != nil {
		c.edit(req.Header)
	}
	return e.do(req)
}

// workloadCall is a well-formed request for realm demo at now.
func (e *env) workloadCall(now time.Time) signedCall {
	p := "/realms/demo" + iamPath
	return signedCall{signMethod: "POST", signType: "application/json", signPath: p, date: now,
		method: "POST", contentType: "application/json", url: e.base + p, body: `{"workloadName":"DE"}`}
}

// newAccessKey creates an access key of alice's through the account API.
func (e *env) newAccessKey(access, body string) (id string, private string) {
	e.t.Helper()
	r := e.account(http.MethodPost, "/access-keys", access, body)
	if r.status != http.StatusCreated {
		e.t.Fatalf("create access key: %d %s", r.status, r.raw)
	}
	return r.str("accessKeyId"), r.str("privateKey")
}

func mustSigner(t *testing.T, id, private string) *cdpsign.Signer {
	t.Helper()
	s, err := cdpsign.New(id, private)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var cdpTimestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$`)

// The seed flow for both key types: create a key, sign
// generateWorkloadAuthToken, present the token to a cdptkn topology and get
// a Knox token; disabling the key ends the workload token at once.
func TestWorkloadTokenSeedFlow(t *testing.T) {
	for _, typ := range []string{"ed25519v1", "rsav1"} {
		t.Run(typ, func(t *testing.T) {
			clk := newTestClock()
			e := newEnv(t, withClock(clk.now))
			e.putTopology(store.Topology{Name: "cdptkn", Realm: "demo", Authentication: "bearer", TTL: "PT1H"})
			access := e.passwordLogin(nil).str("access_token")
			id, private := e.newAccessKey(access, `{"type":"`+typ+`"}`)
			if typ == "ed25519v1" {
				if seed, err := base64.StdEncoding.DecodeString(private); err != nil || len(seed) != 32 {
					t.Fatalf("ed25519v1 private key %q is not a base64 32-byte seed", private)
				}
			} else if !strings.HasPrefix(private, "-----BEGIN PRIVATE KEY-----") {
				t.Fatalf("rsav1 private key is not PKCS#8 PEM: %q", private)
			}
			s := mustSigner(t, id, private)
			r := e.signed(s, e.workloadCall(clk.now()))
			if r.status != 200 {
				t.Fatalf("generateWorkloadAuthToken: %d %s", r.status, r.raw)
			}
			if want := clk.now().Add(time.Hour).Format("2006-01-02T15:04:05") + ".000000+00:00"; r.str("expireAt") != want || !cdpTimestamp.MatchString(want) {
				t.Fatalf("expireAt %q, want %q", r.str("expireAt"), want)
			}
			c := claims(t, r.str("token"))
			if c["sub"] != e.alice.ID || c["aud"] != "DE" || c["iss"] != e.issuer() || c["preferred_username"] != "alice" {
				t.Fatalf("workload token claims %v", c)
			}
			workload := r.str("token")
			knox := e.knox(http.MethodGet, e.gateway("cdptkn", "token"), "", "", workload, "")
			if knox.status != 200 || knox.str("access_token") == "" {
				t.Fatalf("cdptkn with the workload token: %d %s", knox.status, knox.raw)
			}
			if kc := claims(t, knox.str("access_token")); kc["sub"] != "alice" {
				t.Fatalf("Knox token claims %v", kc)
			}
			// A workload token is no access token of the realm.
			if ui := e.userinfoWith(workload); ui.status != http.StatusUnauthorized {
				t.Fatalf("userinfo with a workload token: %d", ui.status)
			}
			if r := e.account(http.MethodPut, "/access-keys/"+id, access, `{"status":"INACTIVE"}`); r.status != 200 || r.str("status") != "INACTIVE" {
				t.Fatalf("disable key: %d %s", r.status, r.raw)
			}
			if knox := e.knox(http.MethodGet, e.gateway("cdptkn", "token"), "", "", workload, ""); knox.status != http.StatusUnauthorized {
				t.Fatalf("cdptkn with the token of a disabled key: %d %s", knox.status, knox.raw)
			}
		})
	}
}

// Every refusal of a signed request, with CDP's error shape.
func TestWorkloadTokenSignatureRefusals(t *testing.T) {
	for _, typ := range []string{"ed25519v1", "rsav1"} {
		t.Run(typ, func(t *testing.T) { testSignatureRefusals(t, typ) })
	}
}

func testSignatureRefusals(t *testing.T, typ string) {
	clk := newTestClock()
	e := newEnv(t, withClock(clk.now), withIAMRealm("demo"))
	ctx := context.Background()
	access := e.passwordLogin(nil).str("access_token")
	id, private := e.newAccessKey(access, `{"type":"`+typ+`"}`)
	s := mustSigner(t, id, private)
	otherID, otherPriv := e.newAccessKey(access, `{"type":"`+typ+`"}`)
	otherType := map[string]string{"ed25519v1": "rsav1", "rsav1": "ed25519v1"}[typ]
	base := func() signedCall { return e.workloadCall(clk.now()) }
	// relabeled keeps the signature but names another key or method in the
	// x-altus-auth header.
	relabeled := func(keyID, method string) func() signedCall {
		return func() signedCall {
			c := base()
			c.edit = func(h http.Header) {
				head, _ := json.Marshal(map[string]string{"access_key_id": keyID, "auth_method": method})
				_, sig, _ := strings.Cut(h.Get("x-altus-auth"), ".")
				h.Set("x-altus-auth", base64.URLEncoding.EncodeToString(head)+"."+sig)
			}
			return c
		}
	}
	for _, tc := range []struct {
		name   string
		call   func() signedCall
		status int
		code   string
	}{
		{"valid", base, 200, ""},
		{"unprefixed path, configured realm", func() signedCall {
			c := base()
			c.signPath, c.url = iamPath, e.base+iamPath
			return c
		}, 200, ""},
		{"query string signed (cdpcurl)", func() signedCall {
			c := base()
			c.url += "?trace=1"
			c.signPath += "?trace=1"
			return c
		}, 200, ""},
		{"query string not signed (cdpcli)", func() signedCall {
			c := base()
			c.url += "?trace=2"
			return c
		}, 200, ""},
		{"date 4 minutes behind", func() signedCall { c := base(); c.date = clk.now().Add(-4 * time.Minute); return c }, 200, ""},
		{"date 6 minutes behind", func() signedCall { c := base(); c.date = clk.now().Add(-6 * time.Minute); return c }, 401, "UNAUTHENTICATED"},
		{"date 6 minutes ahead", func() signedCall { c := base(); c.date = clk.now().Add(6 * time.Minute); return c }, 401, "UNAUTHENTICATED"},
		{"signed as GET", func() signedCall { c := base(); c.signMethod = "GET"; return c }, 401, "UNAUTHENTICATED"},
		{"signed for another path", func() signedCall { c := base(); c.signPath = "/realms/other" + iamPath; return c }, 401, "UNAUTHENTICATED"},
		{"sent with another content type", func() signedCall { c := base(); c.contentType = "text/plain"; return c }, 401, "UNAUTHENTICATED"},
		{"date header changed after signing", func() signedCall {
			c := base()
			c.edit = func(h http.Header) { h.Set("x-altus-date", clk.now().Add(time.Second).Format(http.TimeFormat)) }
			return c
		}, 401, "UNAUTHENTICATED"},
		{"signature moved to another key", relabeled(otherID, typ), 401, "UNAUTHENTICATED"},
		{"auth method mismatch", relabeled(id, otherType), 401, "UNAUTHENTICATED"},
		{"no auth header", func() signedCall {
			c := base()
			c.edit = func(h http.Header) { h.Del("x-altus-auth") }
			return c
		}, 401, "UNAUTHENTICATED"},
		{"no date header", func() signedCall {
			c := base()
			c.edit = func(h http.Header) { h.Del("x-altus-date") }
			return c
		}, 401, "UNAUTHENTICATED"},
		{"unknown workload", func() signedCall { c := base(); c.body = `{"workloadName":"XX"}`; return c }, 400, "INVALID_ARGUMENT"},
		{"body not JSON", func() signedCall { c := base(); c.body = `workloadName=DE`; return c }, 400, "INVALID_ARGUMENT"},
	} {
		clk.advance(time.Second) // a fresh date, so no case replays another
		r := e.signed(s, tc.call())
		if r.status != tc.status || (tc.code != "" && (r.str("code") != tc.code || r.str("message") == "")) {
			t.Errorf("%s: %d %s, want %d %s", tc.name, r.status, r.raw, tc.status, tc.code)
		}
	}

	// Replay: the same signed request again, within the window, refused;
	// also once the clock moved on but the date is still inside it.
	clk.advance(time.Second)
	call := base()
	date, auth, _ := s.Headers(call.signMethod, call.signType, call.signPath, call.date)
	send := func() response {
		req, _ := http.NewRequest("POST", call.url, strings.NewReader(call.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("x-altus-date", date)
		req.Header.Set("x-altus-auth", auth)
		return e.do(req)
	}
	if r := send(); r.status != 200 {
		t.Fatalf("first use: %d %s", r.status, r.raw)
	}
	for _, after := range []time.Duration{0, 4 * time.Minute} {
		clk.advance(after)
		if r := send(); r.status != 401 || r.str("code") != "UNAUTHENTICATED" || !strings.Contains(r.str("message"), "already used") {
			t.Fatalf("replay %v later: %d %s", after, r.status, r.raw)
		}
	}

	// Key and user state: inactive key 403, deleted key 401, disabled user 403.
	other := mustSigner(t, otherID, otherPriv)
	state := func(name string, want int, code string) {
		t.Helper()
		clk.advance(time.Second)
		if r := e.signed(other, e.workloadCall(clk.now())); r.status != want || r.str("code") != code {
			t.Errorf("%s: %d %s, want %d %s", name, r.status, r.raw, want, code)
		}
	}
	e.account(http.MethodPut, "/access-keys/"+otherID, access, `{"status":"INACTIVE"}`)
	state("inactive key", 403, "PERMISSION_DENIED")
	e.account(http.MethodPut, "/access-keys/"+otherID, access, `{"status":"ACTIVE"}`)
	state("reactivated key", 200, "")
	if _, err := e.svc.UpdateUser(ctx, "demo", e.alice.ID, func(u *store.User) error { u.Enabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	state("disabled user", 403, "PERMISSION_DENIED")
	if _, err := e.svc.UpdateUser(ctx, "demo", e.alice.ID, func(u *store.User) error { u.Enabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if r := e.account(http.MethodDelete, "/access-keys/"+otherID, access, ""); r.status != http.StatusNoContent {
		t.Fatalf("delete key: %d %s", r.status, r.raw)
	}
	state("deleted key", 401, "UNAUTHENTICATED")
}

// A user may register a public key made elsewhere; the server never sees
// the private half.
func TestAccessKeyUploadedPublicKey(t *testing.T) {
	clk := newTestClock()
	e := newEnv(t, withClock(clk.now))
	access := e.passwordLogin(nil).str("access_token")
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(pub)
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	body, _ := json.Marshal(map[string]string{"publicKey": pemText})
	id, private := e.newAccessKey(access, string(body))
	if private != "" {
		t.Fatalf("an uploaded key came back with a private key %q", private)
	}
	s := mustSigner(t, id, base64.StdEncoding.EncodeToString(priv.Seed()))
	if r := e.signed(s, e.workloadCall(clk.now())); r.status != 200 {
		t.Fatalf("signed with the uploaded key's pair: %d %s", r.status, r.raw)
	}
	list := e.account(http.MethodGet, "/access-keys", access, "")
	if list.status != 200 || !strings.Contains(list.raw, id) || !strings.Contains(list.raw, `"ACTIVE"`) {
		t.Fatalf("list: %d %s", list.status, list.raw)
	}
	mismatched, _ := json.Marshal(map[string]string{"type": "rsav1", "publicKey": pemText})
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weakDER, _ := x509.MarshalPKIXPublicKey(&weak.PublicKey)
	weakBody, _ := json.Marshal(map[string]string{"publicKey": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: weakDER}))})
	for name, body := range map[string]string{
		"unknown type":        `{"type":"dsav1"}`,
		"not a PEM":           `{"publicKey":"AAAA"}`,
		"type and key differ": string(mismatched),
		"RSA below 2048 bits": string(weakBody),
	} {
		if r := e.account(http.MethodPost, "/access-keys", access, body); r.status != 400 || r.str("error") != "invalid_request" {
			t.Errorf("%s: %d %s", name, r.status, r.raw)
		}
	}
	if r := e.account(http.MethodPut, "/access-keys/"+id, access, `{"status":"PAUSED"}`); r.status != 400 {
		t.Errorf("unknown status: %d %s", r.status, r.raw)
	}
}

// The same signed request sent 8 times at once: one token, 7 replays.
func TestWorkloadTokenConcurrentReplayOneWinner(t *testing.T) {
	clk := newTestClock()
	e := newEnv(t, withClock(clk.now))
	access := e.passwordLogin(nil).str("access_token")
	id, private := e.newAccessKey(access, `{"type":"ed25519v1"}`)
	s := mustSigner(t, id, private)
	call := e.workloadCall(clk.now())
	date, auth, err := s.Headers(call.signMethod, call.signType, call.signPath, call.date)
	if err != nil {
		t.Fatal(err)
	}
	statuses := make(chan int, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", call.url, strings.NewReader(call.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("x-altus-date", date)
			req.Header.Set("x-altus-auth", auth)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			res.Body.Close()
			statuses <- res.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	got := map[int]int{}
	for st := range statuses {
		got[st]++
	}
	if got[200] != 1 || got[401] != 7 {
		t.Fatalf("statuses %v, want one 200 and seven 401", got)
	}
}

// Keys and the tokens they mint are worth nothing in another realm.
func TestUserKeysStayInTheirRealm(t *testing.T) {
	clk := newTestClock()
	e := newEnv(t, withClock(clk.now))
	ctx := context.Background()
	if _, err := e.svc.CreateRealm(ctx, store.Realm{Name: "other", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	_, otherSecret, err := e.svc.CreateClient(ctx, "other", realms.NewClient{Client: store.Client{ClientID: "app", Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	e.putTopology(store.Topology{Name: "othertkn", Realm: "other", Authentication: "bearer", TTL: "PT1H"})
	access := e.passwordLogin(nil).str("access_token")
	apiKey := e.newAPIKey(access, "").str("apiKey")
	id, private := e.newAccessKey(access, `{"type":"ed25519v1"}`)
	s := mustSigner(t, id, private)
	wl := e.signed(s, e.workloadCall(clk.now()))
	if wl.status != 200 {
		t.Fatalf("workload token in its realm: %d %s", wl.status, wl.raw)
	}
	otherBase := e.base + "/realms/other/protocol/openid-connect/"
	req, _ := http.NewRequest("POST", otherBase+"token/introspect", strings.NewReader("token="+apiKey))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app", otherSecret)
	if r := e.do(req); r.status != 200 || r.body["active"] != false {
		t.Errorf("demo's API key introspected at other: %d %s", r.status, r.raw)
	}
	req, _ = http.NewRequest("GET", otherBase+"userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	if r := e.do(req); r.status != 401 {
		t.Errorf("demo's API key at other's userinfo: %d", r.status)
	}
	clk.advance(time.Second)
	call := e.workloadCall(clk.now())
	call.signPath = "/realms/other" + iamPath
	call.url = e.base + call.signPath
	if r := e.signed(s, call); r.status != 401 || r.str("code") != "UNAUTHENTICATED" {
		t.Errorf("demo's access key signing for other: %d %s", r.status, r.raw)
	}
	if r := e.knox(http.MethodGet, e.gateway("othertkn", "token"), "", "", wl.str("token"), ""); r.status != 401 {
		t.Errorf("demo's workload token at other's bearer topology: %d %s", r.status, r.raw)
	}
}

// The realm's workloadTokenLifespan sets the token's life and expireAt.
func TestWorkloadTokenLifespanIsARealmSetting(t *testing.T) {
	clk := newTestClock()
	e := newEnv(t, withClock(clk.now), withRealm(func(r *store.Realm) { r.WorkloadTokenLifespan = 600 }))
	access := e.passwordLogin(nil).str("access_token")
	id, private := e.newAccessKey(access, `{"type":"ed25519v1"}`)
	r := e.signed(mustSigner(t, id, private), e.workloadCall(clk.now()))
	exp := clk.now().Add(10 * time.Minute)
	if r.status != 200 || r.str("expireAt") != exp.Format("2006-01-02T15:04:05")+".000000+00:00" ||
		claims(t, r.str("token"))["exp"] != float64(exp.Unix()) {
		t.Fatalf("workload token with a 10-minute realm lifespan: %d %s", r.status, r.raw)
	}
}
