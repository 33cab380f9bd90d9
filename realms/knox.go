package realms

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// ErrTokenStale: a token was issued before its realm's or its user's
// not-before, so it no longer speaks for anyone.
var ErrTokenStale = errors.New("realms: token issued before not-before")

// TokenOwner returns the user a token issued at issuedAt speaks for, while
// it still may: the user is found by ID (a later user given the same name is
// someone else), is enabled, and neither r's nor the user's not-before is
// after issuedAt. Errors: ErrUserNotFound (also for an empty ID),
// ErrUserDisabled, ErrTokenStale.
func (s *Service) TokenOwner(ctx context.Context, r store.Realm, userID string, issuedAt time.Time) (store.User, error) {
	if userID == "" {
		return store.User{}, ErrUserNotFound
	}
	u, err := s.TokenUser(ctx, r.ID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, ErrUserNotFound
	}
	if err != nil {
		return store.User{}, err
	}
	if !u.Enabled {
		return store.User{}, ErrUserDisabled
	}
	// Not-before is in whole seconds, as the iat it is compared with in
	// access tokens.
	iat := issuedAt.Unix()
	if iat < r.NotBefore || (u.NotBefore > 0 && iat < u.NotBefore) {
		return store.User{}, ErrTokenStale
	}
	return u, nil
}

// KnoxService owns Knox's domain: gateway topologies and managed Knox
// tokens. Package knox serves it over HTTP and package oidc asks it whether
// a Knox token presented there is still active.
//
// Managed Knox tokens are read from the store on every use (no cache holds
// them), so their writes leave the realm's caches and write generation
// alone, as sessions do: issuing a Knox token must not drop every cache of
// the realm, nor cost replicas a generation bump. Topology writes do move
// the bound realm's generation.
type KnoxService struct {
	svc *Service
}

// NewKnoxService returns the Knox service over svc's store and realms.
func NewKnoxService(svc *Service) *KnoxService { return &KnoxService{svc: svc} }

// ErrKnoxInactive: a Knox token is unknown, disabled or expired, or the
// user it speaks for may no longer use it.
var ErrKnoxInactive = errors.New("realms: Knox token not active")

// KnoxClaims is what a Knox JWT whose signature and issuer were checked
// says about itself.
type KnoxClaims struct {
	ID      string // knox.id
	Managed bool   // managed.token
	// UserID is the realm user the token was issued to ("" for a
	// principal with no local user).
	UserID string
	// IssuedAt and Expiry are iat and exp (zero when absent).
	IssuedAt, Expiry time.Time
}

// ActiveKnoxToken is a Knox token that may be honoured now.
type ActiveKnoxToken struct {
	// Record is a managed token's state (nil for an unmanaged token).
	Record *store.KnoxToken
	// User is the realm user the token speaks for (nil for an unmanaged
	// token of a principal with no local user).
	User *store.User
	// Expiry is a managed token's server-side expiry, which renewal moves
	// past the JWT's exp, else exp.
	Expiry time.Time
}

// Active decides whether a Knox token of realm r may be honoured. A managed
// token is active only while its record exists, is enabled and unexpired,
// and while its owner (by user ID) exists, is enabled and has no realm or
// user not-before after its issue; an unmanaged token bound to a user
// follows that user the same way. Errors: ErrKnoxInactive, or the store's.
func (k *KnoxService) Active(ctx context.Context, r store.Realm, c KnoxClaims) (ActiveKnoxToken, error) {
	now := k.svc.now()
	if c.Managed {
		rec, err := k.svc.store.GetKnoxToken(ctx, r.ID, c.ID)
		if errors.Is(err, store.ErrNotFound) {
			return ActiveKnoxToken{}, ErrKnoxInactive
		}
		if err != nil {
			return ActiveKnoxToken{}, err
		}
		if !knoxLive(rec, now) {
			return ActiveKnoxToken{}, ErrKnoxInactive
		}
		u, err := k.owner(ctx, r, rec.UserID, rec.IssuedAt)
		if err != nil {
			return ActiveKnoxToken{}, err
		}
		return ActiveKnoxToken{Record: &rec, User: u, Expiry: rec.ExpiresAt}, nil
	}
	if c.Expiry.IsZero() || !c.Expiry.After(now) {
		return ActiveKnoxToken{}, ErrKnoxInactive
	}
	t := ActiveKnoxToken{Expiry: c.Expiry}
	if c.UserID != "" {
		if c.IssuedAt.IsZero() {
			return ActiveKnoxToken{}, ErrKnoxInactive
		}
		u, err := k.owner(ctx, r, c.UserID, c.IssuedAt)
		if err != nil {
			return ActiveKnoxToken{}, err
		}
		t.User = u
	}
	return t, nil
}

// knoxLive: enabled and not past its server-side expiry (zero = never).
func knoxLive(rec store.KnoxToken, now time.Time) bool {
	return rec.Enabled && (rec.ExpiresAt.IsZero() || rec.ExpiresAt.After(now))
}

// owner is the user a Knox token issued at issuedAt speaks for, or
// ErrKnoxInactive when that user is gone, disabled or behind a not-before.
func (k *KnoxService) owner(ctx context.Context, r store.Realm, userID string, issuedAt time.Time) (*store.User, error) {
	u, err := k.svc.TokenOwner(ctx, r, userID, issuedAt)
	switch {
	case errors.Is(err, ErrUserNotFound), errors.Is(err, ErrUserDisabled), errors.Is(err, ErrTokenStale):
		return nil, ErrKnoxInactive
	case err != nil:
		return nil, err
	}
	return &u, nil
}

// Passcodes are Knox's b64(b64(token_id) + "::" + b64(secret)).
func newPasscode(tokenID string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	inner := base64.StdEncoding.EncodeToString([]byte(tokenID)) + "::" + base64.StdEncoding.EncodeToString(b[:])
	return base64.StdEncoding.EncodeToString([]byte(inner)), nil
}

func passcodeTokenID(passcode string) (string, bool) {
	if len(passcode) > 512 {
		return "", false
	}
	inner, err := base64.StdEncoding.DecodeString(passcode)
	if err != nil {
		return "", false
	}
	idPart, _, ok := strings.Cut(string(inner), "::")
	if !ok {
		return "", false
	}
	id, err := base64.StdEncoding.DecodeString(idPart)
	return string(id), err == nil && len(id) > 0
}

// Passcode finds the enabled, unexpired managed token of realm r a
// passcode belongs to, and its owner while the token may speak for them.
// Errors: ErrKnoxInactive, or the store's.
func (k *KnoxService) Passcode(ctx context.Context, r store.Realm, passcode string) (store.KnoxToken, *store.User, error) {
	id, ok := passcodeTokenID(passcode)
	if !ok {
		return store.KnoxToken{}, nil, ErrKnoxInactive
	}
	rec, err := k.svc.store.GetKnoxToken(ctx, r.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.KnoxToken{}, nil, ErrKnoxInactive
	}
	if err != nil {
		return store.KnoxToken{}, nil, err
	}
	// The digest binds the passcode to this token id: a passcode of one
	// token cannot unlock another (KNOX-3413).
	if !k.svc.sealer.DigestMatches(rec.PasscodeDigest, passcode) || !knoxLive(rec, k.svc.now()) {
		return store.KnoxToken{}, nil, ErrKnoxInactive
	}
	u, err := k.owner(ctx, r, rec.UserID, rec.IssuedAt)
	if err != nil {
		return store.KnoxToken{}, nil, err
	}
	return rec, u, nil
}

// IssueManaged stores a managed Knox token for topology t: rec gets t's
// name, its passcode digest and its maximum lifetime from issue; the
// topology's per-user limit applies (store.ErrLimitExceeded). It returns
// the passcode, which is kept only as a digest.
func (k *KnoxService) IssueManaged(ctx context.Context, realmID string, t store.Topology, rec store.KnoxToken) (string, error) {
	maxLife, err := ParseISODuration(t.MaxLifetime)
	if err != nil {
		return "", err
	}
	passcode, err := newPasscode(rec.ID)
	if err != nil {
		return "", err
	}
	rec.Topology, rec.MaxLifetime, rec.PasscodeDigest = t.Name, rec.IssuedAt.Add(maxLife), k.svc.sealer.Digest(passcode)
	limit := store.KnoxTokenLimit{Max: t.LimitPerUser, RemoveOldest: t.LimitAction == LimitRemoveOldest, Now: rec.IssuedAt}
	if limit.Max == 0 {
		limit.Max = DefaultKnoxLimitPerUser
	}
	if err := k.svc.store.CreateKnoxToken(ctx, realmID, rec, limit); err != nil {
		return "", err
	}
	return passcode, nil
}

// Token returns the managed Knox token of realm realmID with that ID.
func (k *KnoxService) Token(ctx context.Context, realmID, id string) (store.KnoxToken, error) {
	return k.svc.store.GetKnoxToken(ctx, realmID, id)
}

// UpdateToken changes a managed Knox token with fn.
func (k *KnoxService) UpdateToken(ctx context.Context, realmID, id string, fn func(*store.KnoxToken) error) (store.KnoxToken, error) {
	return k.svc.store.UpdateKnoxToken(ctx, realmID, id, fn)
}

// DeleteToken removes a managed Knox token; store.ErrNotFound when there
// is none.
func (k *KnoxService) DeleteToken(ctx context.Context, realmID, id string) error {
	return k.svc.store.DeleteKnoxToken(ctx, realmID, id)
}

// Tokens lists managed Knox tokens of realm realmID as q selects.
func (k *KnoxService) Tokens(ctx context.Context, realmID string, q store.KnoxTokenQuery) ([]store.KnoxToken, error) {
	return k.svc.store.ListKnoxTokens(ctx, realmID, q)
}

// OwnerID is the ID of the realm user now named username ("" when there
// is none), for Knox's userName and createdBy filters and renewer lists:
// they name a user, but tokens and rights are bound to the user's ID.
func (k *KnoxService) OwnerID(ctx context.Context, realmID, username string) (string, error) {
	u, err := k.svc.store.GetUserByUsername(ctx, realmID, username)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return u.ID, nil
}
