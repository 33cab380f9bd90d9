package oidc

import (
	"errors"
	"fmt"
	"sync"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/realms"
)

// Signer signs and verifies a realm's JWTs with go-jose v4, picking the
// verification key by kid from the realm's key ring (so tokens signed by a
// key that has since been rotated out still validate).
type Signer struct {
	keys *realms.KeyRing

	mu      sync.Mutex
	signers map[string]jose.Signer // by typ header
}

// NewSigner returns a signer over ring.
func NewSigner(ring *realms.KeyRing) *Signer {
	return &Signer{keys: ring, signers: map[string]jose.Signer{}}
}

// algorithms every realm may use; a token whose header names anything else
// (none, HS256 with a public key as secret...) is rejected before any key is
// touched.
var allowedAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

func (s *Signer) signer(typ string) (jose.Signer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if js, ok := s.signers[typ]; ok {
		return js, nil
	}
	k := s.keys.Signing
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ))
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Algorithm), Key: &k}, opts)
	if err != nil {
		return nil, fmt.Errorf("signer for key %s: %w", k.KeyID, err)
	}
	s.signers[typ] = js
	return js, nil
}

// SignJSON signs an already-encoded claims payload. typ is the JOSE typ
// header ("JWT" for access and ID tokens).
func (s *Signer) SignJSON(payload []byte, typ string) (string, error) {
	js, err := s.signer(typ)
	if err != nil {
		return "", err
	}
	obj, err := js.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return obj.CompactSerialize()
}

// errTokenSignature covers every reason a compact JWS fails verification.
var errTokenSignature = errors.New("invalid token signature")

// Verify checks a compact JWS against the ring and returns its payload and
// kid. It checks the signature only; claim checks are the caller's.
func (s *Signer) Verify(token string) ([]byte, string, error) {
	if len(token) > maxTokenBytes {
		return nil, "", errors.New("token too large")
	}
	jws, err := jose.ParseSigned(token, allowedAlgs)
	if err != nil {
		return nil, "", fmt.Errorf("malformed token: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, "", errTokenSignature
	}
	h := jws.Signatures[0].Header
	key, ok := s.keys.Verifier(h.KeyID)
	if !ok || key.Algorithm != h.Algorithm {
		return nil, "", errTokenSignature
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return nil, "", errTokenSignature
	}
	return payload, h.KeyID, nil
}

// maxTokenBytes bounds tokens we parse: a real access token is a few KiB.
const maxTokenBytes = 16 << 10
