package realms

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
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
		return store.SigningKey{}, err
	}
	kid := base64.RawURLEncoding.EncodeToString(tp)
	pub.KeyID = kid
	pubJSON, err := json.Marshal(pub)
	if err != nil {
		return store.SigningKey{}, err
	}
	privJSON, err := json.Marshal(jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: alg, Use: "sig"})
	if err != nil {
		return store.SigningKey{}, err
	}
	sealed, err := sealer.Seal(privJSON, keyAAD(kid))
	if err != nil {
		return store.SigningKey{}, err
	}
	return store.SigningKey{KID: kid, Algorithm: alg, Status: store.KeyActive, SealedPrivate: sealed,
		PublicJWK: pubJSON, CreatedAt: now}, nil
}

// OpenSigningKey unseals a key's private JWK and checks it against the
// published public key.
func OpenSigningKey(k store.SigningKey, sealer *Sealer) (jose.JSONWebKey, error) {
	b, err := sealer.Open(k.SealedPrivate, keyAAD(k.KID))
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("key %s: %w", k.KID, err)
	}
	var priv jose.JSONWebKey
	if err := json.Unmarshal(b, &priv); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("key %s: %w", k.KID, err)
	}
	pub := priv.Public()
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil || base64.RawURLEncoding.EncodeToString(tp) != k.KID || priv.Algorithm != k.Algorithm {
		return jose.JSONWebKey{}, fmt.Errorf("key %s: private key does not match its kid", k.KID)
	}
	return priv, nil
}
