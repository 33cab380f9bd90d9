package realms

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/store"
)

// KeyMetadata describes one signing key of a realm as Keycloak's
// KeysMetadataRepresentation.KeyMetadataRepresentation does.
type KeyMetadata struct {
	ProviderID string
	KID        string
	Status     string // ACTIVE, PASSIVE, DISABLED
	Type       string // RSA, EC, OKP
	Algorithm  string
	// PublicKey is the base64 DER SubjectPublicKeyInfo.
	PublicKey string
}

// KeysMetadata returns the realm's keys (oldest first) and, per algorithm,
// the kid of the key that signs: the newest active one, as the key ring
// picks it.
func (s *Service) KeysMetadata(ctx context.Context, r store.Realm) ([]KeyMetadata, map[string]string, error) {
	keys, err := s.store.ListKeys(ctx, r.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("list keys of realm %s: %w", r.Name, err)
	}
	out := make([]KeyMetadata, 0, len(keys))
	active := map[string]string{}
	for _, k := range keys {
		var pub jose.JSONWebKey
		if err := json.Unmarshal(k.PublicJWK, &pub); err != nil {
			return nil, nil, fmt.Errorf("realm %s key %s: %w", r.Name, k.KID, err)
		}
		der, err := x509.MarshalPKIXPublicKey(pub.Key)
		if err != nil {
			return nil, nil, fmt.Errorf("realm %s key %s: %w", r.Name, k.KID, err)
		}
		m := KeyMetadata{KID: k.KID, Status: strings.ToUpper(k.Status), Algorithm: k.Algorithm,
			PublicKey: base64.StdEncoding.EncodeToString(der)}
		// Keycloak's provider names for generated keys of each kind.
		switch k.Algorithm {
		case "RS256":
			m.ProviderID, m.Type = "rsa-generated", "RSA"
		case "ES256":
			m.ProviderID, m.Type = "ecdsa-generated", "EC"
		case "EdDSA":
			m.ProviderID, m.Type = "eddsa-generated", "OKP"
		}
		if k.Status == store.KeyActive {
			active[k.Algorithm] = k.KID
		}
		out = append(out, m)
	}
	return out, active, nil
}
