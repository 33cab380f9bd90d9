package realms

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func TestSigningKeys(t *testing.T) {
	s := newTestSealer(t, 3)
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			k, err := GenerateSigningKey(alg, s, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			var pub jose.JSONWebKey
			if err := json.Unmarshal(k.PublicJWK, &pub); err != nil {
				t.Fatal(err)
			}
			if !pub.IsPublic() || pub.KeyID != k.KID || pub.Algorithm != alg || pub.Use != "sig" {
				t.Fatalf("public JWK = %+v", pub)
			}
			tp, _ := pub.Thumbprint(crypto.SHA256)
			if base64.RawURLEncoding.EncodeToString(tp) != k.KID {
				t.Fatal("kid is not the RFC 7638 thumbprint")
			}
			priv, err := OpenSigningKey(k, s)
			if err != nil {
				t.Fatal(err)
			}
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: &priv}, nil)
			if err != nil {
				t.Fatal(err)
			}
			jws, _ := signer.Sign([]byte("payload"))
			compact, _ := jws.CompactSerialize()
			parsed, err := jose.ParseSigned(compact, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatal(err)
			}
			if out, err := parsed.Verify(pub.Key); err != nil || string(out) != "payload" {
				t.Fatalf("verify: %v", err)
			}
			k.SealedPrivate[len(k.SealedPrivate)-1] ^= 1
			if _, err := OpenSigningKey(k, s); err == nil {
				t.Fatal("tampered key opened")
			}
		})
	}
	if _, err := GenerateSigningKey("HS256", s, time.Now()); err == nil {
		t.Fatal("HS256 key generated")
	}
}
