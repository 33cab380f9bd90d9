package oidc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

func (e *env) putTopology(t store.Topology) {
	e.t.Helper()
	realms.ApplyTopologyDefaults(&t)
	if t.LimitPerUser == 0 {
		t.LimitPerUser = realms.DefaultKnoxLimitPerUser
	}
	if err := e.svc.ValidateTopology(context.Background(), &t); err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.PutTopology(context.Background(), t); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) addIDP(realm string, p store.IdentityProvider) {
	e.t.Helper()
	if _, err := e.svc.CreateIdentityProvider(context.Background(), realm, p); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) gateway(topology, path string) string {
	return e.base + "/gateway/" + topology + "/knoxtoken/api/v1/" + path
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

// The authtkn flow verbatim: curl -u user …/gateway/authtkn/knoxtoken/api/v1/token | jq -r .access_token.
func TestKnoxBasicTopology(t *testing.T) {
	e := newEnv(t)
	e.putTopology(store.Topology{Name: "authtkn", Realm: "demo", Authentication: "basic", TTL: "PT1H",
		Audiences: []string{"cde"}, TargetURL: "https://cde.example/api", ClientData: map[string]string{"homepage_url": "https://cde.example"}})
	before := time.Now()
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		r := e.knox(method, e.gateway("authtkn", "token"), "alice", alicePassword, "", "")
		if r.status != 200 {
			t.Fatalf("%s: %d %s", method, r.status, r.raw)
		}
		tok := r.str("access_token")
		c := claims(t, tok)
		if r.str("token_id") == "" || c["knox.id"] != r.str("token_id") || r.str("managed") != "false" || r.str("token_type") != "Bearer" ||
			r.str("target_url") != "https://cde.example/api" || r.str("homepage_url") != "https://cde.example" {
			t.Errorf("response: %s", r.raw)
		}
		exp, _ := r.body["expires_in"].(float64)
		if ms := int64(exp); ms < before.Add(59*time.Minute).UnixMilli() || ms > time.Now().Add(61*time.Minute).UnixMilli() {
			t.Errorf("expires_in = %v, want epoch ms about an hour ahead", ms)
		}
		if c["sub"] != "alice" || c["iss"] != e.issuer() || c["aud"] != "cde" || c["managed.token"] != "false" || c["preferred_username"] != "alice" {
			t.Errorf("claims: %v", c)
		}
		if header(t, tok)["kid"] == nil {
			t.Error("no kid")
		}
		// Any JWKS-based library verifies it against jwks.json.
		keySet := gooidc.NewRemoteKeySet(context.Background(), e.gateway("authtkn", "jwks.json"))
		if _, err := keySet.VerifySignature(context.Background(), tok); err != nil {
			t.Errorf("jwks.json does not verify the token: %v", err)
		}
		if in := e.post("token/introspect", url.Values{"token": {tok}}, "app", e.secret); in.body["active"] != true || in.str("username") != "alice" {
			t.Errorf("introspection: %s", in.raw)
		}
	}
	for name, creds := range map[string][2]string{"wrong password": {"alice", "nope"}, "unknown user": {"mallory", "x"}, "none": {"", ""}} {
		if r := e.knox(http.MethodGet, e.gateway("authtkn", "token"), creds[0], creds[1], "", ""); r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %s", name, r.status, r.raw)
		}
	}
	if r := e.knox(http.MethodGet, e.gateway("nope", "token"), "alice", alicePassword, "", ""); r.status != 404 {
		t.Errorf("unknown topology: %d", r.status)
	}
}

func TestKnoxLifespan(t *testing.T) {
	e := newEnv(t)
	e.putTopology(store.Topology{Name: "authtkn", Realm: "demo", Authentication: "basic", TTL: "PT1H"})
	expiry := func(q string) (time.Duration, response) {
		r := e.knox(http.MethodGet, e.gateway("authtkn", "token")+q, "alice", alicePassword, "", "")
		ms, _ := r.body["expires_in"].(float64)
		return time.Until(time.UnixMilli(int64(ms))), r
	}
	if d, r := expiry("?lifespan=PT5M"); d < 4*time.Minute || d > 5*time.Minute {
		t.Errorf("lifespan PT5M: %v %s", d, r.raw)
	}
	if d, _ := expiry("?lifespan=P7D"); d < 59*time.Minute || d > time.Hour {
		t.Errorf("lifespan beyond ttl not capped: %v", d)
	}
	if _, r := expiry("?lifespan=forever"); r.status != 400 {
		t.Errorf("bad lifespan: %d %s", r.status, r.raw)
	}
}

// Managed tokens: passcode, revoke, renew rules, enable/disable and listing.
func TestKnoxManagedLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.CreateUser(ctx, "demo", realms.NewUser{User: store.User{Username: "bob", Enabled: true}, Password: "bob-Pass-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateUser(ctx, "demo", realms.NewUser{User: store.User{Username: "renewer", Enabled: true}, Password: "renew-Pass-1"}); err != nil {
		t.Fatal(err)
	}
	e.putTopology(store.Topology{Name: "authtkn", Realm: "demo", Authentication: "basic", TTL: "PT1H", Managed: true,
		Renewers: []string{"renewer"}, RenewInterval: "PT2H", MaxLifetime: "PT3H"})
	issue := func() response {
		r := e.knox(http.MethodPost, e.gateway("authtkn", "token")+"?comment=ci&md_job=nightly", "alice", alicePassword, "", "")
		if r.status != 200 || r.str("managed") != "true" || r.str("passcode") == "" {
			t.Fatalf("issue: %d %s", r.status, r.raw)
		}
		return r
	}
	tok := issue()
	jwt, id, passcode := tok.str("access_token"), tok.str("token_id"), tok.str("passcode")

	// The passcode authenticates as alice.
	if r := e.knox(http.MethodGet, e.gateway("authtkn", "token"), "Passcode", passcode, "", ""); r.status != 200 || claims(t, r.str("access_token"))["sub"] != "alice" {
		t.Fatalf("passcode: %d %s", r.status, r.raw)
	}
	if r := e.knox(http.MethodGet, e.gateway("authtkn", "token"), "Passcode", passcode+"x", "", ""); r.status != 401 {
		t.Errorf("bad passcode: %d", r.status)
	}

	// Renew: the owner and renewers may; others may not.
	renew := func(user, pass string) response {
		return e.knox(http.MethodPost, e.gateway("authtkn", "token/renew"), user, pass, "", jwt)
	}
	if r := renew("bob", "bob-Pass-1"); r.status != 403 || r.str("renewed") != "false" || r.body["code"] != float64(20) {
		t.Errorf("stranger renews: %d %s", r.status, r.raw)
	}
	r := renew("renewer", "renew-Pass-1")
	if r.status != 200 || r.str("renewed") != "true" {
		t.Fatalf("renewer: %d %s", r.status, r.raw)
	}
	exp, _ := json.Number(r.str("expires")).Int64()
	if d := time.Until(time.UnixMilli(exp)); d < 110*time.Minute || d > 2*time.Hour {
		t.Errorf("renewed expiry in %v, want the 2h renew interval", d)
	}
	if in := e.post("token/introspect", url.Values{"token": {jwt}}, "app", e.secret); in.body["active"] != true || int64(in.body["exp"].(float64)) != exp/1000 {
		t.Errorf("introspection after renew: %s", in.raw)
	}

	// Listing and enable/disable: owners yes, strangers no.
	list := e.knox(http.MethodGet, e.gateway("authtkn", "getUserTokens")+"?userName=alice", "alice", alicePassword, "", "")
	var listed struct {
		Tokens []struct {
			TokenID  string `json:"tokenId"`
			Metadata struct {
				Comment string            `json:"comment"`
				Custom  map[string]string `json:"customMetadataMap"`
			} `json:"metadata"`
		} `json:"tokens"`
	}
	_ = json.Unmarshal([]byte(list.raw), &listed)
	// Two tokens: the first, and the one the passcode login issued.
	if list.status != 200 || len(listed.Tokens) != 2 || listed.Tokens[0].TokenID != id || listed.Tokens[0].Metadata.Comment != "ci" ||
		listed.Tokens[0].Metadata.Custom["job"] != "nightly" {
		t.Errorf("getUserTokens: %d %s", list.status, list.raw)
	}
	if r := e.knox(http.MethodGet, e.gateway("authtkn", "getUserTokens")+"?userName=alice", "bob", "bob-Pass-1", "", ""); r.status != 403 {
		t.Errorf("bob lists alice's tokens: %d", r.status)
	}
	if r := e.knox(http.MethodPut, e.gateway("authtkn", "token/disable"), "bob", "bob-Pass-1", "", id); r.status != 403 {
		t.Errorf("bob disables alice's token: %d %s", r.status, r.raw)
	}
	if r := e.knox(http.MethodPut, e.gateway("authtkn", "token/disable"), "alice", alicePassword, "", id); r.status != 200 || r.str("isEnabled") != "false" {
		t.Fatalf("disable: %d %s", r.status, r.raw)
	}
	if in := e.post("token/introspect", url.Values{"token": {jwt}}, "app", e.secret); in.body["active"] != false {
		t.Errorf("disabled token active: %s", in.raw)
	}
	if r := e.knox(http.MethodPut, e.gateway("authtkn", "token/disable"), "alice", alicePassword, "", id); r.status != 400 || r.body["code"] != float64(60) {
		t.Errorf("second disable: %d %s", r.status, r.raw)
	}
	if r := e.knox(http.MethodPut, e.gateway("authtkn", "token/enable"), "alice", alicePassword, "", id); r.status != 200 || r.str("isEnabled") != "true" {
		t.Fatalf("enable: %d %s", r.status, r.raw)
	}

	// Revoke: immediately inactive everywhere.
	if r := e.knox(http.MethodPost, e.gateway("authtkn", "token/revoke"), "bob", "bob-Pass-1", "", id); r.status != 403 {
		t.Errorf("stranger revokes: %d", r.status)
	}
	if r := e.knox(http.MethodPost, e.gateway("authtkn", "token/revoke"), "alice", alicePassword, "", id); r.status != 200 || r.str("revoked") != "true" {
		t.Fatalf("revoke: %d %s", r.status, r.raw)
	}
	if in := e.post("token/introspect", url.Values{"token": {jwt}}, "app", e.secret); in.body["active"] != false {
		t.Errorf("revoked token active at introspection: %s", in.raw)
	}
	if r := e.knox(http.MethodGet, e.gateway("authtkn", "token"), "Passcode", passcode, "", ""); r.status != 401 {
		t.Errorf("revoked token's passcode still works: %d", r.status)
	}
	if r := renew("alice", alicePassword); r.status != 400 || r.body["code"] != float64(50) {
		t.Errorf("renew after revoke: %d %s", r.status, r.raw)
	}
}

func TestKnoxPerUserLimit(t *testing.T) {
	for _, action := range []string{"RETURN_ERROR", "REMOVE_OLDEST"} {
		t.Run(action, func(t *testing.T) {
			e := newEnv(t)
			e.putTopology(store.Topology{Name: "authtkn", Realm: "demo", Authentication: "basic", TTL: "PT1H", Managed: true,
				LimitPerUser: 2, LimitAction: action})
			var toks []string
			for range 2 {
				r := e.knox(http.MethodGet, e.gateway("authtkn", "token"), "alice", alicePassword, "", "")
				if r.status != 200 {
					t.Fatal(r.raw)
				}
				toks = append(toks, r.str("access_token"))
			}
			r := e.knox(http.MethodGet, e.gateway("authtkn", "token"), "alice", alicePassword, "", "")
			active := func(tok string) bool {
				return e.post("token/introspect", url.Values{"token": {tok}}, "app", e.secret).body["active"] == true
			}
			if action == "RETURN_ERROR" {
				if r.status != 403 {
					t.Fatalf("third token: %d %s", r.status, r.raw)
				}
				return
			}
			if r.status != 200 {
				t.Fatalf("third token: %d %s", r.status, r.raw)
			}
			if active(toks[0]) || !active(toks[1]) || !active(r.str("access_token")) {
				t.Errorf("REMOVE_OLDEST did not revoke exactly the oldest token")
			}
		})
	}
}

// issuer is an external OIDC issuer served by a test HTTP server with its
// own JWKS.
type issuer struct {
	url  string
	key  *ecdsa.PrivateKey
	kid  string
	jwks *httptest.Server
}

func newIssuer(t *testing.T) *issuer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	is := &issuer{url: "https://cp.example.test", key: k, kid: "cp-1"}
	is.jwks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: is.kid, Algorithm: "ES256", Use: "sig"}}})
	}))
	t.Cleanup(is.jwks.Close)
	return is
}

func (is *issuer) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: is.key, KeyID: is.kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	obj, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := obj.CompactSerialize()
	return tok
}

func (is *issuer) token(t *testing.T, user string, ttl time.Duration) string {
	return is.sign(t, map[string]any{"iss": is.url, "sub": "cp-" + user, "preferred_username": user,
		"exp": time.Now().Add(ttl).Unix(), "iat": time.Now().Unix()})
}

// The cdptkn flow: a control-plane token (here a second realm of this server,
// configured as identity provider) exchanged with Authorization: Bearer; and
// the same through an external issuer's JWKS. Untrusted, expired and forged
// tokens get 401.
func TestKnoxBearerTopology(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// Control plane: realm "cp" with its own alice.
	if _, err := e.svc.CreateRealm(ctx, store.Realm{Name: "cp", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.CreateClient(ctx, "cp", realms.NewClient{Client: store.Client{ClientID: "cdp-cli", Enabled: true, PublicClient: true, DirectAccessGrantsEnabled: true}}); err != nil {
		t.Fatal(err)
	}
	cpAlice, err := e.svc.CreateUser(ctx, "cp", realms.NewUser{User: store.User{Username: "alice", Enabled: true}, Password: "cp-Pass-1"})
	if err != nil {
		t.Fatal(err)
	}
	carolUser, err := e.svc.CreateUser(ctx, "demo", realms.NewUser{User: store.User{Username: "carol", Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	e.addIDP("demo", store.IdentityProvider{Alias: "cp", Enabled: true, Config: map[string]string{"issuer": e.base + "/realms/cp"}})
	ext := newIssuer(t)
	e.addIDP("demo", store.IdentityProvider{Alias: "ext", Enabled: true, Config: map[string]string{"issuer": ext.url, "jwksUrl": ext.jwks.URL}})
	e.link(e.alice.ID, "cp", cpAlice.ID)
	e.link(carolUser.ID, "ext", "cp-carol")
	e.putTopology(store.Topology{Name: "cdptkn", Realm: "demo", Authentication: "bearer", TTL: "PT1H"})

	cpLogin := e.do(mustReq(t, http.MethodPost, e.base+"/realms/cp/protocol/openid-connect/token",
		url.Values{"grant_type": {"password"}, "client_id": {"cdp-cli"}, "username": {"alice"}, "password": {"cp-Pass-1"}}))
	cpToken := cpLogin.str("access_token")
	r := e.knox(http.MethodPost, e.gateway("cdptkn", "token"), "", "", cpToken, "")
	if r.status != 200 || claims(t, r.str("access_token"))["sub"] != "alice" || claims(t, r.str("access_token"))["iss"] != e.issuer() {
		t.Fatalf("cdptkn exchange: %d %s", r.status, r.raw)
	}
	if r := e.knox(http.MethodGet, e.gateway("cdptkn", "token"), "", "", ext.token(t, "carol", time.Minute), ""); r.status != 200 ||
		claims(t, r.str("access_token"))["sub"] != "carol" {
		t.Fatalf("external issuer: %d %s", r.status, r.raw)
	}

	other := newIssuer(t) // same issuer URL, different key: a forgery
	pub, _ := x509.MarshalPKIXPublicKey(e.rsaPublicKey(t))
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	for name, tok := range map[string]string{
		"expired":          ext.token(t, "carol", -time.Minute),
		"wrong key":        other.token(t, "carol", time.Minute),
		"untrusted issuer": ext.sign(t, map[string]any{"iss": "https://evil.example", "sub": "x", "exp": time.Now().Add(time.Minute).Unix()}),
		"alg none":         noneToken(t, cpToken),
		"HS256 with the RSA public key": hs256(t, pemKey, map[string]any{"iss": e.base + "/realms/cp", "sub": "alice", "preferred_username": "alice",
			"typ": "Bearer", "exp": time.Now().Add(time.Minute).Unix()}),
		"malformed":      "abc.def",
		"garbage base64": "a.b.c",
	} {
		if r := e.knox(http.MethodGet, e.gateway("cdptkn", "token"), "", "", tok, ""); r.status != 401 {
			t.Errorf("%s: %d %s", name, r.status, r.raw)
		}
	}
	if r := e.knox(http.MethodGet, e.gateway("cdptkn", "token"), "", "", "", ""); r.status != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no token: %d %v", r.status, r.header)
	}
	// Logging out of the control plane kills its token for the exchange too:
	// the in-process path sees the session state.
	logout := e.do(mustReq(t, http.MethodPost, e.base+"/realms/cp/protocol/openid-connect/logout",
		url.Values{"client_id": {"cdp-cli"}, "refresh_token": {cpLogin.str("refresh_token")}}))
	if logout.status != 204 {
		t.Fatalf("cp logout: %d %s", logout.status, logout.raw)
	}
	if r := e.knox(http.MethodPost, e.gateway("cdptkn", "token"), "", "", cpToken, ""); r.status != 401 {
		t.Errorf("token of an ended control-plane session still exchanged: %d", r.status)
	}
	// The trusted-issuer list is cached, yet follows every change at once.
	carol := ext.token(t, "carol", time.Minute)
	for _, step := range []struct {
		name   string
		change func() error
		want   int
	}{
		{"disabled", func() error {
			_, err := e.svc.UpdateIdentityProvider(ctx, "demo", "ext", func(p *store.IdentityProvider) error { p.Enabled = false; return nil })
			return err
		}, 401},
		{"enabled again", func() error {
			_, err := e.svc.UpdateIdentityProvider(ctx, "demo", "ext", func(p *store.IdentityProvider) error { p.Enabled = true; return nil })
			return err
		}, 200},
		{"deleted", func() error { return e.svc.DeleteIdentityProvider(ctx, "demo", "ext") }, 401},
	} {
		if err := step.change(); err != nil {
			t.Fatal(err)
		}
		if r := e.knox(http.MethodGet, e.gateway("cdptkn", "token"), "", "", carol, ""); r.status != step.want {
			t.Errorf("external issuer %s: %d, want %d", step.name, r.status, step.want)
		}
	}
}

func mustReq(t testing.TB, method, rawURL string, form url.Values) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// rsaPublicKey is the demo realm's signing key, from its JWKS.
func (e *env) rsaPublicKey(t *testing.T) any {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(e.get(e.base+"/realms/cp/protocol/openid-connect/certs", "").raw), &set); err != nil || len(set.Keys) == 0 {
		t.Fatal(err)
	}
	return set.Keys[0].Key
}

// hs256 signs claims with HMAC-SHA256 using key (the classic RS/HS
// confusion attack).
func hs256(t *testing.T, key []byte, c map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	p, _ := json.Marshal(c)
	signing := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
