package realms

import (
	"context"
	"encoding/json"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/store"
)

// KeyRing is a realm's unsealed keys: the newest active key signs, every
// active or passive key verifies. It is immutable once built.
type KeyRing struct {
	// Signing is the private key new tokens are signed with.
	Signing jose.JSONWebKey
	// Public holds the verification keys by kid, in creation order in JWKS.
	Public map[string]jose.JSONWebKey
	JWKS   jose.JSONWebKeySet
}

// Verifier returns the public key with the given kid.
func (k *KeyRing) Verifier(kid string) (jose.JSONWebKey, bool) {
	j, ok := k.Public[kid]
	return j, ok
}

func (s *Service) loadKeyRing(ctx context.Context, r store.Realm) (*KeyRing, error) {
	keys, err := s.store.ListKeys(ctx, r.ID)
	if err != nil {
		return nil, fmt.Errorf("list keys of realm %s: %w", r.Name, err)
	}
	ring := &KeyRing{Public: map[string]jose.JSONWebKey{}}
	var active *store.SigningKey
	for i := range keys {
		k := &keys[i]
		if k.Status == store.KeyDisabled {
			continue
		}
		var pub jose.JSONWebKey
		if err := json.Unmarshal(k.PublicJWK, &pub); err != nil {
			return nil, fmt.Errorf("realm %s key %s: %w", r.Name, k.KID, err)
		}
		ring.Public[k.KID] = pub
		ring.JWKS.Keys = append(ring.JWKS.Keys, pub)
		// Keys are listed oldest first, so the last active one is the newest;
		// only a key of the realm's current algorithm may sign.
		if k.Status == store.KeyActive && k.Algorithm == r.DefaultSignatureAlgorithm {
			active = k
		}
	}
	if active == nil {
		return nil, fmt.Errorf("realm %s has no active %s signing key", r.Name, r.DefaultSignatureAlgorithm)
	}
	priv, err := OpenSigningKey(*active, s.sealer)
	if err != nil {
		return nil, fmt.Errorf("realm %s: %w", r.Name, err)
	}
	ring.Signing = priv
	return ring, nil
}
