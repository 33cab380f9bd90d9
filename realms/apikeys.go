package realms

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math/big"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// Personal API keys (Cloudera Machine Learning style): long-lived keys a
// user creates for their own scripts. A key reads
//
//	ghk_<key ID: 16 hex>_<secret: 43 base62><checksum: 6 base62>
//
// The prefix lets secret scanners match it; the key ID finds the record;
// the secret is 32 random bytes; the checksum is the CRC-32 of everything
// before it, so a mistyped or truncated key is refused before any store
// read. Only a keyed digest of the whole key is stored.
const (
	APIKeyPrefix = "ghk_"

	apiKeyIDBytes     = 8
	apiKeySecretBytes = 32
	apiKeySecretLen   = 43 // base62 digits of 256 bits
	apiKeyChecksumLen = 6  // base62 digits of 32 bits
	apiKeyLen         = len(APIKeyPrefix) + 2*apiKeyIDBytes + 1 + apiKeySecretLen + apiKeyChecksumLen

	// DefaultAPIKeyLifespanDays is the lifetime of a key created without
	// an expiry when the realm sets none (the source platform's year).
	DefaultAPIKeyLifespanDays = 365
	// DefaultWorkloadTokenLifespan (seconds): CDP's workload tokens live
	// an hour.
	DefaultWorkloadTokenLifespan = 3600

	maxDescription  = 255
	maxLifespanDays = 10 * 365
)

// ErrAPIKeyInvalid is every reason a presented API key does not
// authenticate: malformed, bad checksum, unknown, wrong secret, expired,
// locked by brute-force detection, or its user gone, disabled or stale.
// Callers never learn which.
var ErrAPIKeyInvalid = errors.New("realms: API key not valid")

// LooksLikeAPIKey tells an API key from the other tokens a protocol
// endpoint may be handed (JWTs, opaque refresh tokens), by its prefix.
func LooksLikeAPIKey(s string) bool { return strings.HasPrefix(s, APIKeyPrefix) }

const base62Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// base62 writes b as a big-endian number in exactly width digits.
func base62(b []byte, width int) string {
	n := new(big.Int).SetBytes(b)
	out := make([]byte, width)
	base, mod := big.NewInt(62), new(big.Int)
	for i := width - 1; i >= 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = base62Digits[mod.Int64()]
	}
	return string(out)
}

func apiKeyChecksum(body string) string {
	c := crc32.ChecksumIEEE([]byte(body))
	return base62([]byte{byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)}, apiKeyChecksumLen)
}

// newAPIKeyValue returns a fresh key with ID id.
func newAPIKeyValue(id string) (string, error) {
	var secret [apiKeySecretBytes]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return "", err
	}
	body := APIKeyPrefix + id + "_" + base62(secret[:], apiKeySecretLen)
	return body + apiKeyChecksum(body), nil
}

// parseAPIKey returns the key ID of a well-formed key whose checksum
// matches, without touching the store.
func parseAPIKey(key string) (string, bool) {
	if len(key) != apiKeyLen || !LooksLikeAPIKey(key) {
		return "", false
	}
	rest := key[len(APIKeyPrefix):]
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 2*apiKeyIDBytes || len(secret) != apiKeySecretLen+apiKeyChecksumLen {
		return "", false
	}
	if _, err := hex.DecodeString(id); err != nil {
		return "", false
	}
	for i := 0; i < len(secret); i++ {
		if strings.IndexByte(base62Digits, secret[i]) < 0 {
			return "", false
		}
	}
	body := key[:len(key)-apiKeyChecksumLen]
	if subtle.ConstantTimeCompare([]byte(apiKeyChecksum(body)), []byte(key[len(body):])) != 1 {
		return "", false
	}
	return id, true
}

func newAPIKeyID() (string, error) {
	var b [apiKeyIDBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// APIKeyFailureKey names the brute-force record of one API key: failures
// lock that key, not its user's password login.
func APIKeyFailureKey(keyID string) string { return "apikey:" + keyID }

// validateCredentialSettings checks the realm's key settings.
func validateCredentialSettings(r *store.Realm) error {
	if r.APIKeyDefaultLifespanDays < 1 || r.APIKeyDefaultLifespanDays > maxLifespanDays {
		return invalid("apiKeyDefaultLifespanDays", "must be between 1 and %d days", maxLifespanDays)
	}
	if r.APIKeyMaxLifespanDays < 0 || r.APIKeyMaxLifespanDays > maxLifespanDays {
		return invalid("apiKeyMaxLifespanDays", "must be between 0 (no maximum) and %d days", maxLifespanDays)
	}
	if r.APIKeyMaxLifespanDays > 0 && r.APIKeyDefaultLifespanDays > r.APIKeyMaxLifespanDays {
		return invalid("apiKeyDefaultLifespanDays", "must not exceed apiKeyMaxLifespanDays (%d)", r.APIKeyMaxLifespanDays)
	}
	if r.WorkloadTokenLifespan < 60 || r.WorkloadTokenLifespan > 24*3600 {
		return invalid("workloadTokenLifespan", "must be between 60 and 86400 seconds")
	}
	return nil
}

// apiKeyDefaultDays is the realm's default key lifetime; realms stored
// before the setting existed read zero.
func apiKeyDefaultDays(r store.Realm) int {
	if r.APIKeyDefaultLifespanDays > 0 {
		return r.APIKeyDefaultLifespanDays
	}
	return DefaultAPIKeyLifespanDays
}

// ParseKeyExpiry reads an ISO 8601 date (the key lasts through that day,
// UTC) or date-time.
func ParseKeyExpiry(s string) (time.Time, error) {
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d.AddDate(0, 0, 1), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, invalid("expiresAt", "must be an ISO 8601 date (2027-01-31) or date-time (2027-01-31T12:00:00Z)")
	}
	return t.UTC(), nil
}

// Actor is who made a change, for the realm's admin events.
type Actor struct {
	RealmID, ClientID, UserID, Username, IP string
}

// ErrEventNotRecorded: the change was made but its admin event could not
// be written. Callers log it and report the change as done.
var ErrEventNotRecorded = errors.New("realms: admin event not recorded")

// recordEvent appends an admin event. The change is already committed, so
// a failed write is ErrEventNotRecorded, for the caller to log.
func (s *Service) recordEvent(ctx context.Context, realmID string, who Actor, op, path string, rep any) error {
	e := store.AdminEvent{
		ID: NewID(), Time: s.now().UTC(), OperationType: op, ResourceType: "USER", ResourcePath: path,
		AuthRealmID: who.RealmID, AuthClient: who.ClientID, AuthUserID: who.UserID, AuthUser: who.Username, IPAddress: who.IP,
	}
	if rep != nil {
		if b, err := json.Marshal(rep); err == nil {
			e.Representation = string(b)
		}
	}
	if err := s.store.AppendAdminEvent(context.WithoutCancel(ctx), realmID, e); err != nil {
		return fmt.Errorf("%w: %w", ErrEventNotRecorded, err)
	}
	return nil
}

// NewAPIKey is what a user asks for; a zero ExpiresAt takes the realm's
// default lifetime.
type NewAPIKey struct {
	Description string
	ExpiresAt   time.Time
}

// APIKeyEventRep is the admin-event representation of a key: never the key.
type APIKeyEventRep struct {
	KeyID       string    `json:"keyId"`
	UserID      string    `json:"userId"`
	Description string    `json:"description,omitempty"`
	ExpiresAt   time.Time `json:"expiresAt"`
}

func apiKeyEventRep(k store.APIKey) APIKeyEventRep {
	return APIKeyEventRep{KeyID: k.ID, UserID: k.UserID, Description: k.Description, ExpiresAt: k.ExpiresAt}
}

func apiKeyPath(userID, keyID string) string { return "users/" + userID + "/api-keys/" + keyID }

// CreateAPIKey creates a key for user userID and returns its record and
// the key itself, which exists nowhere else afterwards. Asking beyond the
// realm's maximum lifetime is a ValidationError naming it. With
// ErrEventNotRecorded the key is returned too: it exists.
func (s *Service) CreateAPIKey(ctx context.Context, realmName, userID string, in NewAPIKey, who Actor) (store.APIKey, string, error) {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return store.APIKey{}, "", err
	}
	r := st.Realm
	now := s.now().UTC()
	exp := in.ExpiresAt
	if exp.IsZero() {
		exp = now.AddDate(0, 0, apiKeyDefaultDays(r))
	}
	if !exp.After(now) {
		return store.APIKey{}, "", invalid("expiresAt", "must be in the future")
	}
	limit := r.APIKeyMaxLifespanDays
	if limit <= 0 {
		limit = maxLifespanDays
	}
	if exp.After(now.AddDate(0, 0, limit)) {
		return store.APIKey{}, "", invalid("expiresAt", "must be at most %d days from now (the realm's apiKeyMaxLifespanDays)", limit)
	}
	if len(in.Description) > maxDescription {
		return store.APIKey{}, "", invalid("description", "must be at most %d characters", maxDescription)
	}
	if err := s.keyHolder(ctx, r.ID, userID); err != nil {
		return store.APIKey{}, "", err
	}
	defer s.changed(ctx, r.ID)
	for attempt := 0; ; attempt++ {
		id, err := newAPIKeyID()
		if err != nil {
			return store.APIKey{}, "", err
		}
		key, err := newAPIKeyValue(id)
		if err != nil {
			return store.APIKey{}, "", err
		}
		rec := store.APIKey{ID: id, UserID: userID, Description: in.Description, Digest: s.sealer.digest(key),
			CreatedAt: now, ExpiresAt: exp.UTC()}
		err = s.store.CreateAPIKey(ctx, r.ID, rec)
		if errors.Is(err, store.ErrAlreadyExists) && attempt < 3 {
			continue // a 64-bit ID collided: draw another
		}
		if err != nil {
			return store.APIKey{}, "", err
		}
		return rec, key, s.recordEvent(ctx, r.ID, who, "CREATE", apiKeyPath(userID, id), apiKeyEventRep(rec))
	}
}

// keyHolder checks that userID names a person of the realm: service
// accounts authenticate with their client's credentials instead.
func (s *Service) keyHolder(ctx context.Context, realmID, userID string) error {
	u, err := s.store.GetUser(ctx, realmID, userID)
	if err != nil {
		return notFoundAs(err, ErrUserNotFound)
	}
	if u.ServiceAccountClientID != "" {
		return ErrUserNotFound
	}
	return nil
}

// APIKeys lists a user's keys, oldest first.
func (s *Service) APIKeys(ctx context.Context, realmName, userID string) ([]store.APIKey, error) {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return nil, err
	}
	return s.store.ListAPIKeys(ctx, realmID, userID)
}

// APIKeyCounts returns how many keys each user of the realm holds (users
// with none are absent).
func (s *Service) APIKeyCounts(ctx context.Context, realmName string) (map[string]int, error) {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return nil, err
	}
	keys, err := s.store.ListAPIKeys(ctx, realmID, "")
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, k := range keys {
		out[k.UserID]++
	}
	return out, nil
}

// DeleteAPIKey deletes user userID's key keyID; another user's key is
// store.ErrNotFound, as a missing one.
func (s *Service) DeleteAPIKey(ctx context.Context, realmName, userID, keyID string, who Actor) error {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return err
	}
	k, err := s.store.GetAPIKey(ctx, realmID, keyID)
	if err != nil {
		return err
	}
	if k.UserID != userID {
		return store.ErrNotFound
	}
	defer s.changed(ctx, realmID)
	if err := s.store.DeleteAPIKey(ctx, realmID, keyID); err != nil {
		return err
	}
	return s.recordEvent(ctx, realmID, who, "DELETE", apiKeyPath(userID, keyID), apiKeyEventRep(k))
}

// DeleteAPIKeys deletes all of a user's keys and returns how many went;
// ErrEventNotRecorded means they all went but an event was lost.
func (s *Service) DeleteAPIKeys(ctx context.Context, realmName, userID string, who Actor) (int, error) {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return 0, err
	}
	keys, err := s.store.ListAPIKeys(ctx, realmID, userID)
	if err != nil {
		return 0, err
	}
	defer s.changed(ctx, realmID)
	n := 0
	var firstErr error
	for _, k := range keys {
		err := s.store.DeleteAPIKey(ctx, realmID, k.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return n, err
		}
		n++
		if err := s.recordEvent(ctx, realmID, who, "DELETE", apiKeyPath(userID, k.ID), apiKeyEventRep(k)); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return n, firstErr
}

// AuthenticateAPIKey returns the key and the user it speaks for. A key that
// is malformed or fails its checksum is refused without any store read;
// wrong secrets count as login failures of that key (the realm's
// brute-force policy), and a locked key is refused whatever is presented.
// The user's current state decides: gone, disabled or with a not-before
// after the key's creation, the key speaks for no one.
func (s *Service) AuthenticateAPIKey(ctx context.Context, r store.Realm, presented, ip string) (store.APIKey, store.User, error) {
	id, ok := parseAPIKey(presented)
	if !ok {
		return store.APIKey{}, store.User{}, ErrAPIKeyInvalid
	}
	k, err := s.store.GetAPIKey(ctx, r.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.APIKey{}, store.User{}, ErrAPIKeyInvalid
	}
	if err != nil {
		return store.APIKey{}, store.User{}, err
	}
	now := s.now()
	fkey := APIKeyFailureKey(id)
	locked, recorded, err := s.failureState(ctx, r, fkey, now)
	if err != nil {
		return store.APIKey{}, store.User{}, err
	}
	if locked {
		return store.APIKey{}, store.User{}, ErrAPIKeyInvalid
	}
	if subtle.ConstantTimeCompare(s.sealer.digest(presented), k.Digest) != 1 {
		if err := s.recordFailure(ctx, r, fkey, ip, now); err != nil {
			return store.APIKey{}, store.User{}, err
		}
		return store.APIKey{}, store.User{}, ErrAPIKeyInvalid
	}
	s.recordSuccess(ctx, r, fkey, recorded)
	if !k.ExpiresAt.After(now) {
		return store.APIKey{}, store.User{}, ErrAPIKeyInvalid
	}
	u, err := s.TokenOwner(ctx, r, k.UserID, k.CreatedAt)
	if errors.Is(err, ErrUserNotFound) || errors.Is(err, ErrUserDisabled) || errors.Is(err, ErrTokenStale) {
		return store.APIKey{}, store.User{}, ErrAPIKeyInvalid
	}
	if err != nil {
		return store.APIKey{}, store.User{}, err
	}
	return k, u, nil
}

// APIKeyLive reports whether key keyID still exists, is unexpired and
// belongs to userID: tokens obtained with a key die with it.
func (s *Service) APIKeyLive(ctx context.Context, realmID, keyID, userID string) (bool, error) {
	k, err := s.store.GetAPIKey(ctx, realmID, keyID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return k.UserID == userID && k.ExpiresAt.After(s.now()), nil
}
