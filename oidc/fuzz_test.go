package oidc

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/seeds"
	"github.com/gatehouse/gatehouse/realms"
)

// The token endpoint's form parsing never panics and either rejects the body
// with an RFC 6749 error or yields valid UTF-8 values.
func FuzzParseForm(f *testing.F) {
	seeds.Load(f, "form")
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		form, ferr := parseForm(httptest.NewRecorder(), r)
		if ferr != nil {
			if ferr.ErrorField == "" || ferr.CodeField < 400 || ferr.CodeField >= 500 {
				t.Fatalf("bad error %+v", ferr)
			}
			return
		}
		for k, vs := range form.values {
			if len(vs) > 1 && k != "audience" && form.dup == "" {
				t.Fatalf("duplicate %q not flagged", k)
			}
		}
	})
}

// Basic credentials parse or are rejected as malformed, never panic.
func FuzzBasicAuth(f *testing.F) {
	seeds.Load(f, "basic")
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodPost, "/token", nil)
		r.Header.Set("Authorization", header)
		_, _, present, bad := basicAuth(r)
		if bad != nil && (!present || bad.CodeField != 400) {
			t.Fatalf("inconsistent result for %q", header)
		}
	})
}

var fuzzRing = func() *realms.KeyRing {
	s, _ := realms.NewSealer(make([]byte, 32))
	k, _ := realms.GenerateSigningKey("ES256", s, time.Now())
	priv, _ := realms.OpenSigningKey(k, s)
	ring := &realms.KeyRing{Signing: priv, Public: map[string]jose.JSONWebKey{}}
	ring.Public[k.KID] = priv.Public()
	return ring
}()

// Every path that reads a foreign JWT first goes through these: none of
// them panics, and nothing but a token signed by the ring verifies.
func FuzzForeignJWT(f *testing.F) {
	seeds.Load(f, "jwt")
	signer := NewSigner(fuzzRing)
	good, _ := signer.SignJSON([]byte(`{"iss":"http://x/realms/demo","sub":"a"}`), "JWT")
	f.Add(good)
	f.Fuzz(func(t *testing.T, token string) {
		unverifiedClaims(token)
		issuerRealm(token)
		looksLikeJWT(token)
		if jws, err := jose.ParseSigned(token, foreignAlgs); err == nil && len(jws.Signatures) > 0 {
			_ = jws.Signatures[0].Header.KeyID
		}
		payload, _, err := signer.Verify(token)
		if err == nil && token != good && !strings.HasPrefix(token, good[:strings.LastIndexByte(good, '.')]) {
			t.Fatalf("a token not signed by the ring verified: %q (%s)", token, payload)
		}
	})
}
