package realms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/store"
)

// SupportedAlgorithm reports whether realms may sign with alg.
func SupportedAlgorithm(alg string) bool {
	switch alg {
	case "RS256", "ES256", "EdDSA":
		return true
	}
	return false
}

func keyAAD(kid string) []byte { return []byte("key:" + kid) }

// GenerateSigningKey creates an active key pair for alg. Its kid is the
// RFC 7638 thumbprint of the public key, so it is stable and collision-free.
func GenerateSigningKey(alg string, sealer *Sealer, now time.Time) (store.SigningKey, error) {
	if sealer == nil {
		return store.SigningKey{}, errors.New("generate signing key: no sealer")
	}
	var priv crypto.Signer
	var err error
	switch alg {
	case "RS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return store.SigningKey{}, fmt.Errorf("unsupported signature algorithm %q", alg)
	}
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("generate %s key: %w", alg, err)
	}
	pub := jose.JSONWebKey{Key: priv.Public(), Algorithm: alg, Use: "sig"}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("%s key thumbprint: %w", alg, err)
	}
	kid := base64.RawURLEncoding.EncodeToString(tp)
	pub.KeyID = kid
	pubJSON, err := json.Marshal(pub)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("%s public JWK: %w", alg, err)
	}
	privJSON, err := json.Marshal(jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: alg, Use: "sig"})
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("%s private JWK: %w", alg, err)
	}
	// The aad binds the sealed key to its kid: a sealed blob copied onto
	// another key record does not open.
	sealed, err := sealer.Seal(privJSON, keyAAD(kid))
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("seal %s key: %w", alg, err)
	}
	return store.SigningKey{KID: kid, Algorithm: alg, Status: store.KeyActive, SealedPrivate: sealed,
		PublicJWK: pubJSON, CreatedAt: now}, nil
}

// OpenSigningKey unseals a key's private JWK and checks that it is the
// private half of the published PublicJWK, that both carry the record's kid
// (the RFC 7638 thumbprint) and that the key type fits the algorithm. The
// public JWK is stored unsealed, so without this check a tampered store could
// publish one key while tokens are signed with another.
func OpenSigningKey(k store.SigningKey, sealer *Sealer) (jose.JSONWebKey, error) {
	if sealer == nil {
		return jose.JSONWebKey{}, fmt.Errorf("key %s: no sealer", k.KID)
	}
	b, err := sealer.Open(k.SealedPrivate, keyAAD(k.KID))
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("key %s: %w", k.KID, err)
	}
	var priv jose.JSONWebKey
	if err := json.Unmarshal(b, &priv); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("key %s: private JWK: %w", k.KID, err)
	}
	if priv.IsPublic() || !priv.Valid() {
		return jose.JSONWebKey{}, fmt.Errorf("key %s: sealed JWK is not a private key", k.KID)
	}
	if priv.KeyID != k.KID || priv.Algorithm != k.Algorithm || !keyFitsAlgorithm(priv.Key, k.Algorithm) {
		return jose.JSONWebKey{}, fmt.Errorf("key %s: private key is not an %s key with this kid", k.KID, k.Algorithm)
	}
	var pub jose.JSONWebKey
	if err := json.Unmarshal(k.PublicJWK, &pub); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("key %s: public JWK: %w", k.KID, err)
	}
	privPub := priv.Public()
	privTP, err := privPub.Thumbprint(crypto.SHA256)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("key %s: thumbprint: %w", k.KID, err)
	}
	pubTP, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("key %s: public JWK thumbprint: %w", k.KID, err)
	}
	if base64.RawURLEncoding.EncodeToString(privTP) != k.KID || !bytes.Equal(privTP, pubTP) || pub.KeyID != k.KID {
		return jose.JSONWebKey{}, fmt.Errorf("key %s: private key does not match the published public key", k.KID)
	}
	if rk, ok := priv.Key.(*rsa.PrivateKey); ok {
		// A JWK-decoded key has its CRT values but not crypto/rsa's cached
		// FIPS form, which every signature would otherwise rebuild and
		// re-check (a visible share of an RS256 token's CPU; BENCHMARKS.md).
		rk.Precompute()
		if err := rk.Validate(); err != nil {
			return jose.JSONWebKey{}, fmt.Errorf("key %s: %w", k.KID, err)
		}
	}
	return priv, nil
}

// keyFitsAlgorithm reports whether a private key can sign with alg.
func keyFitsAlgorithm(key any, alg string) bool {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return alg == "RS256" && k.N.BitLen() >= 2048
	case *ecdsa.PrivateKey:
		return alg == "ES256" && k.Curve == elliptic.P256()
	case ed25519.PrivateKey:
		return alg == "EdDSA"
	}
	return false
}
