package store

import "time"

// APIKey is a user's personal API key. The key itself is shown once; only
// a digest of it is kept.
type APIKey struct {
	ID          string `json:"id"` // the key ID, also written inside the key
	UserID      string `json:"userId"`
	Description string `json:"description,omitempty"`
	// Digest is the keyed hash of the whole presented key.
	Digest    []byte    `json:"digest"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// AccessKey is a user's signing key pair for CDP-style signed requests;
// only the public half is kept.
type AccessKey struct {
	ID     string `json:"id"` // accessKeyId
	UserID string `json:"userId"`
	Type   string `json:"type"` // ed25519v1 | rsav1
	// PublicKey is the PKIX (DER) public key.
	PublicKey []byte    `json:"publicKey"`
	Status    string    `json:"status"` // AccessKeyActive | AccessKeyInactive
	CreatedAt time.Time `json:"createdAt"`
}

// Access key statuses (CDP's wording).
const (
	AccessKeyActive   = "ACTIVE"
	AccessKeyInactive = "INACTIVE"
)
