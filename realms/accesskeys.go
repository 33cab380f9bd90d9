package realms

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// Access keys (CDP style): a key pair whose private half the user keeps;
// requests are signed with it (headers x-altus-date and x-altus-auth) and
// the server checks them with the public half, the only one it stores.
const (
	AccessKeyEd25519 = "ed25519v1"
	AccessKeyRSA     = "rsav1"

	// SignedRequestSkew is how far x-altus-date may be from the server
	// clock, either way; a signature is single-use for that long.
	SignedRequestSkew = 5 * time.Minute

	rsaAccessKeyBits = 2048
)

// Signed-request refusals. The first three are 401 (the caller proved
// nothing); the last two are 403 (the caller holds the key).
var (
	ErrSignatureInvalid  = errors.New("realms: request signature not valid")
	ErrSignatureDate     = errors.New("realms: x-altus-date missing, malformed or outside the allowed skew")
	ErrSignatureReplayed = errors.New("realms: request signature already used")
	ErrAccessKeyInactive = errors.New("realms: access key inactive")
)

// NewAccessKey is what a user asks for: a Type to generate a pair, or a
// PublicKeyPEM (PKIX "PUBLIC KEY", Ed25519 or RSA of at least 2048 bits)
// to register a pair made elsewhere.
type NewAccessKey struct {
	Type         string
	PublicKeyPEM string
}

type accessKeyEventRep struct {
	AccessKeyID string `json:"accessKeyId"`
	UserID      string `json:"userId"`
	Type        string `json:"type"`
	Status      string `json:"status"`
}

func accessKeyEvent(k store.AccessKey) accessKeyEventRep {
	return accessKeyEventRep{AccessKeyID: k.ID, UserID: k.UserID, Type: k.Type, Status: k.Status}
}

func accessKeyPath(userID, id string) string { return "users/" + userID + "/access-keys/" + id }

// generateAccessKey makes a pair of type typ and returns the PKIX public key
// and the private key in the form CDP's clients read: the base64 32-byte
// seed for ed25519v1, a PKCS#8 PEM for rsav1.
func generateAccessKey(typ string) (pub []byte, private string, err error) {
	switch typ {
	case AccessKeyEd25519:
		seed := make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return nil, "", err
		}
		pk := ed25519.NewKeyFromSeed(seed).Public()
		pub, err = x509.MarshalPKIXPublicKey(pk)
		return pub, base64.StdEncoding.EncodeToString(seed), err
	case AccessKeyRSA:
		k, err := rsa.GenerateKey(rand.Reader, rsaAccessKeyBits)
		if err != nil {
			return nil, "", err
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, "", err
		}
		pub, err = x509.MarshalPKIXPublicKey(&k.PublicKey)
		return pub, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), err
	}
	return nil, "", invalid("type", "must be %s or %s", AccessKeyEd25519, AccessKeyRSA)
}

// uploadedAccessKey reads an uploaded public key and its type.
func uploadedAccessKey(pemText, typ string) ([]byte, string, error) {
	b, _ := pem.Decode([]byte(pemText))
	if b == nil || b.Type != "PUBLIC KEY" {
		return nil, "", invalid("publicKey", "must be a PEM \"PUBLIC KEY\" (PKIX)")
	}
	pk, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return nil, "", invalid("publicKey", "cannot be parsed: %v", err)
	}
	var got string
	switch k := pk.(type) {
	case ed25519.PublicKey:
		got = AccessKeyEd25519
	case *rsa.PublicKey:
		if k.N.BitLen() < rsaAccessKeyBits {
			return nil, "", invalid("publicKey", "RSA keys must have at least %d bits", rsaAccessKeyBits)
		}
		got = AccessKeyRSA
	default:
		return nil, "", invalid("publicKey", "must be an Ed25519 or RSA key")
	}
	if typ != "" && typ != got {
		return nil, "", invalid("type", "is %s but the public key is %s", typ, got)
	}
	return b.Bytes, got, nil
}

// CreateAccessKey creates an active access key for user userID. For a
// generated pair the private key is returned once and kept nowhere; for an
// uploaded public key it is "". ErrEventNotRecorded comes with the key.
func (s *Service) CreateAccessKey(ctx context.Context, realmName, userID string, in NewAccessKey, who Actor) (store.AccessKey, string, error) {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return store.AccessKey{}, "", err
	}
	var pub []byte
	var private string
	typ := in.Type
	if strings.TrimSpace(in.PublicKeyPEM) != "" {
		pub, typ, err = uploadedAccessKey(in.PublicKeyPEM, in.Type)
	} else {
		pub, private, err = generateAccessKey(in.Type)
	}
	if err != nil {
		return store.AccessKey{}, "", err
	}
	if err := s.keyHolder(ctx, realmID, userID); err != nil {
		return store.AccessKey{}, "", err
	}
	k := store.AccessKey{ID: NewID(), UserID: userID, Type: typ, PublicKey: pub, Status: store.AccessKeyActive, CreatedAt: s.now().UTC()}
	defer s.changed(ctx, realmID)
	if err := s.store.CreateAccessKey(ctx, realmID, k); err != nil {
		return store.AccessKey{}, "", err
	}
	return k, private, s.recordEvent(ctx, realmID, who, "CREATE", accessKeyPath(userID, k.ID), accessKeyEvent(k))
}

// AccessKeys lists a user's access keys, oldest first.
func (s *Service) AccessKeys(ctx context.Context, realmName, userID string) ([]store.AccessKey, error) {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return nil, err
	}
	return s.store.ListAccessKeys(ctx, realmID, userID)
}

// SetAccessKeyStatus makes user userID's key id ACTIVE or INACTIVE; another
// user's key is store.ErrNotFound.
func (s *Service) SetAccessKeyStatus(ctx context.Context, realmName, userID, id, status string, who Actor) (store.AccessKey, error) {
	if status != store.AccessKeyActive && status != store.AccessKeyInactive {
		return store.AccessKey{}, invalid("status", "must be %s or %s", store.AccessKeyActive, store.AccessKeyInactive)
	}
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return store.AccessKey{}, err
	}
	defer s.changed(ctx, realmID)
	k, err := s.store.UpdateAccessKey(ctx, realmID, id, func(k *store.AccessKey) error {
		if k.UserID != userID {
			return store.ErrNotFound
		}
		k.Status = status
		return nil
	})
	if err != nil {
		return store.AccessKey{}, err
	}
	return k, s.recordEvent(ctx, realmID, who, "UPDATE", accessKeyPath(userID, id), accessKeyEvent(k))
}

// DeleteAccessKey deletes user userID's key id.
func (s *Service) DeleteAccessKey(ctx context.Context, realmName, userID, id string, who Actor) error {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return err
	}
	k, err := s.store.GetAccessKey(ctx, realmID, id)
	if err != nil {
		return err
	}
	if k.UserID != userID {
		return store.ErrNotFound
	}
	defer s.changed(ctx, realmID)
	if err := s.store.DeleteAccessKey(ctx, realmID, id); err != nil {
		return err
	}
	return s.recordEvent(ctx, realmID, who, "DELETE", accessKeyPath(userID, id), accessKeyEvent(k))
}

// SignedRequest is what a CDP-signed request presents.
type SignedRequest struct {
	Method, ContentType string
	// Date and Auth are the x-altus-date and x-altus-auth headers.
	Date, Auth string
	// Path is the request path as sent; RawQuery its query string. Clients
	// sign the path with the query (cdpcurl) or without it (cdpcli): both
	// are accepted.
	Path, RawQuery string
}

// signedStrings are the strings a client may have signed.
func (r SignedRequest) signedStrings(authMethod string) []string {
	paths := []string{r.Path}
	if r.RawQuery != "" {
		paths = []string{r.Path + "?" + r.RawQuery, r.Path}
	}
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		out = append(out, strings.Join([]string{r.Method, r.ContentType, r.Date, p, authMethod}, "\n"))
	}
	return out
}

// decodeB64URL reads URL-safe base64 with or without padding.
func decodeB64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// AuthenticateSignedRequest checks a CDP-signed request and returns the
// access key and the user it speaks for. Order: the date (no store read
// for a stale or future request), the key, the signature, the single use
// of that signature (recorded in the store, so it holds across replicas),
// then the key's and user's state, which only the key's holder learns.
// Errors: ErrSignatureDate, ErrSignatureInvalid (also an unknown key),
// ErrSignatureReplayed, ErrAccessKeyInactive, ErrUserDisabled.
func (s *Service) AuthenticateSignedRequest(ctx context.Context, r store.Realm, req SignedRequest) (store.AccessKey, store.User, error) {
	var none store.AccessKey
	date, err := time.Parse(time.RFC1123, req.Date)
	if err != nil || !strings.HasSuffix(req.Date, " GMT") {
		return none, store.User{}, ErrSignatureDate
	}
	now := s.now()
	if d := now.Sub(date); d > SignedRequestSkew || d < -SignedRequestSkew {
		return none, store.User{}, ErrSignatureDate
	}
	meta, sig, ok := parseAltusAuth(req.Auth)
	if !ok {
		return none, store.User{}, ErrSignatureInvalid
	}
	k, err := s.store.GetAccessKey(ctx, r.ID, meta.AccessKeyID)
	if errors.Is(err, store.ErrNotFound) {
		return none, store.User{}, ErrSignatureInvalid
	}
	if err != nil {
		return none, store.User{}, err
	}
	if k.Type != meta.AuthMethod || !verifyAccessKeySignature(k, req.signedStrings(meta.AuthMethod), sig) {
		return none, store.User{}, ErrSignatureInvalid
	}
	digest := sha256.Sum256(sig)
	err = s.store.ClaimNonce(ctx, r.ID, "altus:"+hex.EncodeToString(digest[:]), date.Add(SignedRequestSkew), now)
	if errors.Is(err, store.ErrAlreadyExists) {
		return none, store.User{}, ErrSignatureReplayed
	}
	if err != nil {
		return none, store.User{}, err
	}
	if k.Status != store.AccessKeyActive {
		return none, store.User{}, ErrAccessKeyInactive
	}
	u, err := s.TokenOwner(ctx, r, k.UserID, k.CreatedAt)
	switch {
	case errors.Is(err, ErrUserNotFound):
		return none, store.User{}, ErrSignatureInvalid
	case errors.Is(err, ErrUserDisabled), errors.Is(err, ErrTokenStale):
		return none, store.User{}, ErrUserDisabled
	case err != nil:
		return none, store.User{}, err
	}
	return k, u, nil
}

// altusAuth is the JSON head of an x-altus-auth header.
type altusAuth struct {
	AccessKeyID string `json:"access_key_id"`
	AuthMethod  string `json:"auth_method"`
}

// parseAltusAuth splits x-altus-auth into its head and signature.
func parseAltusAuth(h string) (altusAuth, []byte, bool) {
	var meta altusAuth
	head, sigText, ok := strings.Cut(h, ".")
	if !ok {
		return meta, nil, false
	}
	rawHead, err1 := decodeB64URL(head)
	sig, err2 := decodeB64URL(sigText)
	if err1 != nil || err2 != nil || json.Unmarshal(rawHead, &meta) != nil || meta.AccessKeyID == "" || len(sig) == 0 {
		return meta, nil, false
	}
	return meta, sig, true
}

// verifyAccessKeySignature checks sig over any of the candidate strings.
func verifyAccessKeySignature(k store.AccessKey, signed []string, sig []byte) bool {
	pk, err := x509.ParsePKIXPublicKey(k.PublicKey)
	if err != nil {
		return false
	}
	for _, msg := range signed {
		switch key := pk.(type) {
		case ed25519.PublicKey:
			if k.Type == AccessKeyEd25519 && ed25519.Verify(key, []byte(msg), sig) {
				return true
			}
		case *rsa.PublicKey:
			h := sha256.Sum256([]byte(msg))
			if k.Type == AccessKeyRSA && rsa.VerifyPKCS1v15(key, crypto.SHA256, h[:], sig) == nil {
				return true
			}
		}
	}
	return false
}

// AccessKeyLive reports whether access key id still exists, is active and
// belongs to userID: tokens minted with a key die with it.
func (s *Service) AccessKeyLive(ctx context.Context, realmID, id, userID string) (bool, error) {
	k, err := s.store.GetAccessKey(ctx, realmID, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return k.UserID == userID && k.Status == store.AccessKeyActive, nil
}

// WorkloadTokenLifespan is the lifetime of the realm's workload tokens;
// realms stored before the setting existed read zero.
func WorkloadTokenLifespan(r store.Realm) time.Duration {
	if r.WorkloadTokenLifespan > 0 {
		return time.Duration(r.WorkloadTokenLifespan) * time.Second
	}
	return DefaultWorkloadTokenLifespan * time.Second
}
