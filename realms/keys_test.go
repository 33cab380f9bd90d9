package realms

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/store"
)

// rfc7638Thumbprint computes a JWK thumbprint by the RFC's recipe, from the
// published JSON alone: the required members in lexicographic order, no
// whitespace, SHA-256, base64url.
func rfc7638Thumbprint(t *testing.T, jwk []byte) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(jwk, &m); err != nil {
		t.Fatal(err)
	}
	var members []string
	switch m["kty"] {
	case "RSA":
		members = []string{"e", "kty", "n"}
	case "EC":
		members = []string{"crv", "kty", "x", "y"}
	case "OKP":
		members = []string{"crv", "kty", "x"}
	default:
		t.Fatalf("kty %v", m["kty"])
	}
	var parts []string
	for _, k := range members {
		v, ok := m[k].(string)
		if !ok || v == "" {
			t.Fatalf("JWK member %q missing", k)
		}
		parts = append(parts, fmt.Sprintf("%q:%q", k, v))
	}
	sum := sha256.Sum256([]byte("{" + strings.Join(parts, ",") + "}"))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestSigningKeys(t *testing.T) {
	s := newTestSealer(t, 3)
	for _, tc := range []struct {
		alg, kty, crv string
	}{
		{"RS256", "RSA", ""},
		{"ES256", "EC", "P-256"},
		{"EdDSA", "OKP", "Ed25519"},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			if !SupportedAlgorithm(tc.alg) {
				t.Fatalf("%s unsupported", tc.alg)
			}
			now := time.Now()
			k, err := GenerateSigningKey(tc.alg, s, now)
			if err != nil {
				t.Fatal(err)
			}
			if k.Algorithm != tc.alg || k.Status != store.KeyActive || !k.CreatedAt.Equal(now) {
				t.Fatalf("key = %+v", k)
			}
			var raw map[string]any
			if err := json.Unmarshal(k.PublicJWK, &raw); err != nil {
				t.Fatal(err)
			}
			if raw["kty"] != tc.kty || (tc.crv != "" && raw["crv"] != tc.crv) {
				t.Fatalf("public JWK = %s", k.PublicJWK)
			}
			// No private member is ever published.
			for _, priv := range []string{"d", "p", "q", "dp", "dq", "qi"} {
				if _, ok := raw[priv]; ok {
					t.Fatalf("public JWK has private member %q: %s", priv, k.PublicJWK)
				}
			}
			if tc.kty == "RSA" {
				n, _ := base64.RawURLEncoding.DecodeString(raw["n"].(string))
				if len(n)*8 < 2048 {
					t.Fatalf("RSA modulus of %d bits", len(n)*8)
				}
			}
			var pub jose.JSONWebKey
			if err := json.Unmarshal(k.PublicJWK, &pub); err != nil {
				t.Fatal(err)
			}
			if !pub.IsPublic() || pub.KeyID != k.KID || pub.Algorithm != tc.alg || pub.Use != "sig" {
				t.Fatalf("public JWK = %+v", pub)
			}
			if want := rfc7638Thumbprint(t, k.PublicJWK); k.KID != want {
				t.Fatalf("kid %q is not the RFC 7638 thumbprint %q", k.KID, want)
			}
			if strings.Contains(string(k.SealedPrivate), `"d"`) {
				t.Fatal("private key stored in clear")
			}

			priv, err := OpenSigningKey(k, s)
			if err != nil {
				t.Fatal(err)
			}
			if priv.IsPublic() || priv.KeyID != k.KID {
				t.Fatalf("opened key = %+v", priv)
			}
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(tc.alg), Key: &priv}, nil)
			if err != nil {
				t.Fatal(err)
			}
			jws, err := signer.Sign([]byte("payload"))
			if err != nil {
				t.Fatal(err)
			}
			compact, err := jws.CompactSerialize()
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := jose.ParseSigned(compact, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(tc.alg)})
			if err != nil {
				t.Fatal(err)
			}
			if parsed.Signatures[0].Header.KeyID != k.KID {
				t.Errorf("kid header %q", parsed.Signatures[0].Header.KeyID)
			}
			if out, err := parsed.Verify(pub.Key); err != nil || string(out) != "payload" {
				t.Fatalf("verify with the published key: %v", err)
			}
			// Another key of the same kind does not verify it.
			k2, err := GenerateSigningKey(tc.alg, s, now)
			if err != nil {
				t.Fatal(err)
			}
			if k2.KID == k.KID {
				t.Fatal("two keys share a kid")
			}
			var pub2 jose.JSONWebKey
			if err := json.Unmarshal(k2.PublicJWK, &pub2); err != nil {
				t.Fatal(err)
			}
			if _, err := parsed.Verify(pub2.Key); err == nil {
				t.Fatal("signature verified with another key")
			}

			for name, mutate := range map[string]func(*store.SigningKey){
				"tampered":         func(k *store.SigningKey) { k.SealedPrivate[len(k.SealedPrivate)-1] ^= 1 },
				"truncated":        func(k *store.SigningKey) { k.SealedPrivate = k.SealedPrivate[:10] },
				"empty":            func(k *store.SigningKey) { k.SealedPrivate = nil },
				"other kid":        func(k *store.SigningKey) { k.KID = k2.KID },
				"other key's blob": func(k *store.SigningKey) { k.SealedPrivate = k2.SealedPrivate },
				"other algorithm": func(k *store.SigningKey) {
					k.Algorithm = map[string]string{"RS256": "ES256", "ES256": "EdDSA", "EdDSA": "RS256"}[tc.alg]
				},
				"other master key": nil,
			} {
				bad := k
				bad.SealedPrivate = append([]byte(nil), k.SealedPrivate...)
				sealer := s
				if mutate == nil {
					sealer = newTestSealer(t, 4)
				} else {
					mutate(&bad)
				}
				if got, err := OpenSigningKey(bad, sealer); err == nil {
					t.Errorf("%s: opened %+v", name, got.KeyID)
				}
			}
		})
	}
	for _, alg := range []string{"HS256", "none", "", "RS512", "PS256", "ES384", "rs256", "EdDSA "} {
		if SupportedAlgorithm(alg) {
			t.Errorf("SupportedAlgorithm(%q)", alg)
		}
		if _, err := GenerateSigningKey(alg, s, time.Now()); err == nil {
			t.Errorf("%q key generated", alg)
		}
	}
}

// The public JWK is stored unsealed: OpenSigningKey refuses a record whose
// published key is not the sealed key's public half, so a tampered store
// cannot publish one key while tokens are signed with another.
func TestOpenSigningKeyChecksPublishedKey(t *testing.T) {
	s := newTestSealer(t, 5)
	k, err := GenerateSigningKey("ES256", s, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	other, err := GenerateSigningKey("ES256", s, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var pub map[string]any
	if err := json.Unmarshal(k.PublicJWK, &pub); err != nil {
		t.Fatal(err)
	}
	pub["kid"] = other.KID
	wrongKid, _ := json.Marshal(pub)
	for name, publicJWK := range map[string][]byte{
		"another key's public JWK":  other.PublicJWK,
		"public JWK with other kid": wrongKid,
		"not JSON":                  []byte("{"),
		"empty":                     nil,
	} {
		bad := k
		bad.PublicJWK = publicJWK
		if _, err := OpenSigningKey(bad, s); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
	if _, err := OpenSigningKey(k, nil); err == nil {
		t.Error("opened without a sealer")
	}
	if _, err := GenerateSigningKey("ES256", nil, time.Now()); err == nil {
		t.Error("generated without a sealer")
	}
	// A wrong master key is reported as an unseal failure.
	if _, err := OpenSigningKey(k, newTestSealer(t, 6)); !errors.Is(err, ErrUnseal) {
		t.Errorf("wrong master key: %v", err)
	}
}

// An RSA key opened from the store signs as cheaply as a freshly generated
// one: without crypto/rsa's cached precomputation every signature would
// rebuild and re-validate the key, several times the allocations.
func TestOpenedRSAKeySignsWithoutRebuildingTheKey(t *testing.T) {
	s := newTestSealer(t, 1)
	k, err := GenerateSigningKey("RS256", s, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	opened, err := OpenSigningKey(k, s)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("payload"))
	allocs := func(key *rsa.PrivateKey) float64 {
		return testing.AllocsPerRun(5, func() {
			if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]); err != nil {
				t.Fatal(err)
			}
		})
	}
	if got, want := allocs(opened.Key.(*rsa.PrivateKey)), allocs(fresh); got > want+2 {
		t.Fatalf("signing with the opened key: %.0f allocations, a generated key needs %.0f", got, want)
	}
}
