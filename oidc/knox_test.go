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

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// Knox tokens as this package's endpoints see them (introspection, token
// exchange, Basic Token:, bearer credentials); the Knox API itself is
// tested in package knox.

func (e *env) putTopology(t store.Topology) { e.t.Helper(); apitest.PutTopology(e.t, e.knoxSvc, t) }

func (e *env) addIDP(realm string, p store.IdentityProvider) {
	e.t.Helper()
	if _, err := e.svc.CreateIdentityProvider(context.Background(), realm, p); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) gateway(topology, path string) string { return apitest.KnoxURL(e.base, topology, path) }

// knox sends a Knox request with Basic (user != "") or Bearer (bearer != "").
func (e *env) knox(method, rawURL, user, pass, bearer, body string) response {
	e.t.Helper()
	return fromAPI(apitest.Knox(e.t, method, rawURL, user, pass, bearer, body))
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

// issueKnox gets a Knox token at a Basic topology with a password.
func (e *env) issueKnox(topology, user, password string) response {
	e.t.Helper()
	return fromAPI(apitest.IssueKnox(e.t, e.base, topology, user, password))
}

func (e *env) introspectActive(token string) bool {
	e.t.Helper()
	return e.post("token/introspect", url.Values{"token": {token}}, "app", e.secret).body["active"] == true
}

// A Knox token follows the state of the user it was issued to: once the
// user is disabled, deleted, or behind a user or realm not-before, the token
// is inactive at once wherever it is presented (introspection, passcode
// login, Basic Token:, a bearer topology, token exchange), managed or not.
func TestKnoxTokenFollowsItsUserState(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		change func(e *env, u store.User) error
	}{
		{"user disabled", func(e *env, u store.User) error {
			_, err := e.svc.UpdateUser(ctx, "demo", u.ID, func(u *store.User) error { u.Enabled = false; return nil })
			return err
		}},
		{"user deleted", func(e *env, u store.User) error { return e.svc.DeleteUser(ctx, "demo", u.ID) }},
		{"user not-before", func(e *env, u store.User) error {
			_, err := e.svc.UpdateUser(ctx, "demo", u.ID, func(u *store.User) error {
				u.NotBefore = time.Now().Add(time.Minute).Unix()
				return nil
			})
			return err
		}},
		{"realm not-before", func(e *env, _ store.User) error {
			_, err := e.svc.UpdateRealm(ctx, "demo", func(r *store.Realm) error {
				r.NotBefore = time.Now().Add(time.Minute).Unix()
				return nil
			})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, secret, _ := exchangeEnv(t)
			dave := apitest.AddUser(t, e.svc, "demo", "dave", "dave-Pass-1")
			e.putTopology(store.Topology{Name: "authtkn", Realm: "demo", Authentication: "basic", TTL: "PT1H", Managed: true,
				Audiences: []string{"exchanger"}})
			e.putTopology(store.Topology{Name: "plain", Realm: "demo", Authentication: "basic", TTL: "PT1H", Audiences: []string{"exchanger"}})
			e.putTopology(store.Topology{Name: "bearer", Realm: "demo", Authentication: "bearer", TTL: "PT1H"})
			managed := e.issueKnox("authtkn", "dave", "dave-Pass-1")
			unmanaged := e.issueKnox("plain", "dave", "dave-Pass-1").str("access_token")
			jwt, passcode := managed.str("access_token"), managed.str("passcode")

			uses := map[string]func() int{
				"introspection": func() int {
					if e.introspectActive(jwt) {
						return 200
					}
					return 401
				},
				"introspection (unmanaged)": func() int {
					if e.introspectActive(unmanaged) {
						return 200
					}
					return 401
				},
				"passcode login": func() int {
					return e.knox(http.MethodGet, e.gateway("authtkn", "token"), "Passcode", passcode, "", "").status
				},
				"Basic Token:": func() int {
					return e.knox(http.MethodGet, e.gateway("plain", "token"), "Token", jwt, "", "").status
				},
				"Basic Token: (unmanaged)": func() int {
					return e.knox(http.MethodGet, e.gateway("plain", "token"), "Token", unmanaged, "", "").status
				},
				"bearer topology": func() int {
					return e.knox(http.MethodGet, e.gateway("bearer", "token"), "", "", jwt, "").status
				},
				"bearer topology (unmanaged)": func() int {
					return e.knox(http.MethodGet, e.gateway("bearer", "token"), "", "", unmanaged, "").status
				},
				"token exchange": func() int {
					r := e.exchange(secret, url.Values{"subject_token": {jwt}, "subject_token_type": {teJWT}})
					if r.status != 200 && r.str("error") != "invalid_token" {
						t.Errorf("exchange refused with %s, want invalid_token as for any inactive token", r.raw)
					}
					return r.status
				},
				"token exchange (unmanaged)": func() int {
					return e.exchange(secret, url.Values{"subject_token": {unmanaged}, "subject_token_type": {teJWT}}).status
				},
			}
			for name, use := range uses {
				if got := use(); got != 200 {
					t.Fatalf("%s before the change: %d", name, got)
				}
			}
			if err := tc.change(e, dave); err != nil {
				t.Fatal(err)
			}
			for name, use := range uses {
				if got := use(); got == 200 {
					t.Errorf("%s after %s: still accepted", name, tc.name)
				}
			}
		})
	}
}

// A subject of an external issuer with no realm user gets no Knox token at a
// bearer topology, so no token can exist that a realm user created later
// under that name could inherit; and the later user is no link either: the
// provider's token still speaks for nobody.
func TestKnoxTokenOfNoUserNeverMapsToALaterUser(t *testing.T) {
	e, _, ext := exchangeEnv(t)
	e.putTopology(store.Topology{Name: "cdptkn", Realm: "demo", Authentication: "bearer", TTL: "PT1H", Audiences: []string{"exchanger"}})
	for _, when := range []string{"before", "after"} {
		if when == "after" {
			apitest.AddUser(t, e.svc, "demo", "carol", "carol-Pass-1")
		}
		r := e.knox(http.MethodGet, e.gateway("cdptkn", "token"), "", "", ext.token(t, "carol", time.Minute), "")
		if r.status != 401 || r.str("error_description") != "No user found" {
			t.Errorf("external carol %s a realm user carol exists: %d %s", when, r.status, r.raw)
		}
	}
}
