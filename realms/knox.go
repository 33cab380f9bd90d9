package realms

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
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

// KnoxService owns Knox's domain: gateway topologies, managed Knox tokens
// and the rules of who may renew, revoke, enable, disable and list them
// (KnoxCaller). Package knox serves it over HTTP and package oidc asks it whether
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

// KnoxCaller is who calls Knox's token lifecycle API through a topology,
// as the topology's authentication established it.
type KnoxCaller struct {
	// Principal is the authenticated username.
	Principal string
	// User is the realm user (nil for a principal with no local user, a
	// subject of another issuer).
	User *store.User
	// ByPassword: the caller proved the user's password (not a token or a
	// passcode).
	ByPassword bool
	// ViaToken is the knox.id of the Knox token (JWT or passcode) the
	// caller authenticated with, so that it cannot renew itself.
	ViaToken string
}

// Refusals of the Knox lifecycle rules; the HTTP layer gives each Knox's
// answer.
var (
	// ErrKnoxUnknownToken: no managed token of the realm has that ID.
	ErrKnoxUnknownToken = errors.New("realms: unknown Knox token")
	// ErrKnoxForbidden: the caller may not do this to the token.
	ErrKnoxForbidden = errors.New("realms: caller not authorized for this Knox token")
	// ErrKnoxAdminDisabled: an owner may not enable what an administrator
	// disabled (it is also ErrKnoxForbidden).
	ErrKnoxAdminDisabled = fmt.Errorf("%w: an administrator disabled it", ErrKnoxForbidden)
	// ErrKnoxListAll: only realm administrators may list every token.
	ErrKnoxListAll         = fmt.Errorf("%w: only realm administrators may list all tokens", ErrKnoxForbidden)
	ErrKnoxDisabled        = errors.New("realms: Knox token disabled")
	ErrKnoxExpired         = errors.New("realms: Knox token expired")
	ErrKnoxRenewalLimit    = errors.New("realms: Knox token renewal limit exceeded")
	ErrKnoxAlreadyEnabled  = errors.New("realms: Knox token already enabled")
	ErrKnoxAlreadyDisabled = errors.New("realms: Knox token already disabled")
	// ErrKnoxRenewInterval: the topology's renew interval does not parse.
	ErrKnoxRenewInterval = errors.New("realms: invalid Knox renew interval")
)

// lifecycleToken returns the managed token id of realmID for a lifecycle
// call; ErrKnoxUnknownToken when there is none.
func (k *KnoxService) lifecycleToken(ctx context.Context, realmID, id string) (store.KnoxToken, error) {
	rec, err := k.svc.store.GetKnoxToken(ctx, realmID, id)
	if errors.Is(err, store.ErrNotFound) {
		return rec, ErrKnoxUnknownToken
	}
	return rec, err
}

// isRenewer: c is a configured renewer of topology t and the token was
// issued by it (a renewer of one topology has no say over another's
// tokens). A realm user is a renewer by the ID bound when the topology was
// saved; a name that had no realm user then matches only a principal with
// none (a subject of another issuer).
func (c KnoxCaller) isRenewer(t store.Topology, rec store.KnoxToken) bool {
	if rec.Topology != t.Name {
		return false
	}
	for i, name := range t.Renewers {
		id := ""
		if i < len(t.RenewerIDs) {
			id = t.RenewerIDs[i]
		}
		if c.User != nil && id != "" && id == c.User.ID || c.User == nil && id == "" && name == c.Principal {
			return true
		}
	}
	return false
}

// owns: c is the token's owner, by user ID.
func (c KnoxCaller) owns(rec store.KnoxToken) bool {
	return c.User != nil && rec.UserID != "" && rec.UserID == c.User.ID
}

// mayRenew: configured renewers, and the owner who proved their password.
// A token never renews itself, whether presented as JWT or passcode.
func (c KnoxCaller) mayRenew(t store.Topology, rec store.KnoxToken) bool {
	if c.ViaToken == rec.ID {
		return false
	}
	return c.isRenewer(t, rec) || (c.ByPassword && c.owns(rec))
}

// mayRevoke: the owner, the user who created the token, and the
// topology's renewers.
func (c KnoxCaller) mayRevoke(t store.Topology, rec store.KnoxToken) bool {
	return c.owns(rec) || (c.User != nil && rec.CreatedByID == c.User.ID) || c.isRenewer(t, rec)
}

// isRealmAdmin: realm-admin or manage-users in realm r, resolved by the
// built-in roles' IDs (a renamed role grants nothing).
func (k *KnoxService) isRealmAdmin(ctx context.Context, r store.Realm, c KnoxCaller) bool {
	if c.User == nil {
		return false
	}
	rights, err := k.svc.AdminRights(ctx, r, *c.User)
	return err == nil && (rights.Has(RealmAdminRole) || rights.Has("manage-users"))
}

// RenewToken moves the expiry of managed token id of realm realmID, issued
// through topology t, to now plus t's renew interval, capped at the
// token's maximum lifetime, and returns the new expiry. Errors:
// ErrKnoxUnknownToken, ErrKnoxForbidden, ErrKnoxDisabled, ErrKnoxExpired,
// ErrKnoxRenewInterval, ErrKnoxRenewalLimit, or the store's.
func (k *KnoxService) RenewToken(ctx context.Context, realmID string, t store.Topology, c KnoxCaller, id string) (time.Time, error) {
	rec, err := k.lifecycleToken(ctx, realmID, id)
	if err != nil {
		return time.Time{}, err
	}
	if !c.mayRenew(t, rec) {
		return time.Time{}, ErrKnoxForbidden
	}
	if !rec.Enabled {
		return time.Time{}, ErrKnoxDisabled
	}
	now := k.svc.now()
	if !rec.ExpiresAt.IsZero() && !rec.ExpiresAt.After(now) {
		return time.Time{}, ErrKnoxExpired
	}
	interval, err := ParseISODuration(t.RenewInterval)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %v", ErrKnoxRenewInterval, err)
	}
	if !rec.MaxLifetime.IsZero() && !rec.MaxLifetime.After(now) {
		return time.Time{}, ErrKnoxRenewalLimit
	}
	exp := now.Add(interval)
	if !rec.MaxLifetime.IsZero() && exp.After(rec.MaxLifetime) {
		exp = rec.MaxLifetime
	}
	if _, err := k.svc.store.UpdateKnoxToken(ctx, realmID, rec.ID, func(x *store.KnoxToken) error {
		x.ExpiresAt = exp
		return nil
	}); err != nil {
		return time.Time{}, err
	}
	return exp, nil
}

// RevokeToken removes managed token id of realm realmID for its owner, its
// creator or a renewer of topology t. A token removed meanwhile counts as
// revoked. Errors: ErrKnoxUnknownToken, ErrKnoxForbidden, or the store's.
func (k *KnoxService) RevokeToken(ctx context.Context, realmID string, t store.Topology, c KnoxCaller, id string) error {
	rec, err := k.lifecycleToken(ctx, realmID, id)
	if err != nil {
		return err
	}
	if !c.mayRevoke(t, rec) {
		return ErrKnoxForbidden
	}
	if err := k.svc.store.DeleteKnoxToken(ctx, realmID, rec.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// SetTokenEnabled enables or disables managed token id of realm r. The
// owner and the realm's administrators (realm-admin, manage-users) may;
// what an administrator disabled only an administrator enables again.
// Errors: ErrKnoxUnknownToken, ErrKnoxForbidden, ErrKnoxAdminDisabled,
// ErrKnoxAlreadyEnabled, ErrKnoxAlreadyDisabled, or the store's.
func (k *KnoxService) SetTokenEnabled(ctx context.Context, r store.Realm, c KnoxCaller, id string, enable bool) error {
	rec, err := k.lifecycleToken(ctx, r.ID, id)
	if err != nil {
		return err
	}
	admin := k.isRealmAdmin(ctx, r, c)
	if !admin && !c.owns(rec) {
		return ErrKnoxForbidden
	}
	if enable && !admin && rec.DisabledBy == store.KnoxDisabledByAdmin {
		return ErrKnoxAdminDisabled
	}
	by := store.KnoxDisabledByOwner
	if admin {
		by = store.KnoxDisabledByAdmin
	}
	if rec.Enabled == enable {
		switch {
		case enable:
			return ErrKnoxAlreadyEnabled
		case rec.DisabledBy == by || by == store.KnoxDisabledByOwner:
			return ErrKnoxAlreadyDisabled
		}
		// An admin disabling what its owner disabled takes it over, so the
		// owner can no longer enable it.
	}
	_, err = k.svc.store.UpdateKnoxToken(ctx, r.ID, rec.ID, func(x *store.KnoxToken) error {
		x.Enabled = enable
		x.DisabledBy = ""
		if !enable {
			x.DisabledBy = by
		}
		return nil
	})
	return err
}

// KnoxTokenFilter selects the tokens ListTokens returns, as Knox's
// getUserTokens parameters.
type KnoxTokenFilter struct {
	// UserName and CreatedBy name the owner and the creator; both empty
	// means the caller's own tokens.
	UserName, CreatedBy string
	// All lists every token of the realm (administrators only).
	All bool
}

// ListTokens lists the managed tokens of realm r that f selects. Anyone
// lists their own; realm administrators list anyone's, and all. Errors:
// ErrKnoxListAll, ErrKnoxForbidden, or the store's.
func (k *KnoxService) ListTokens(ctx context.Context, r store.Realm, c KnoxCaller, f KnoxTokenFilter) ([]store.KnoxToken, error) {
	admin := k.isRealmAdmin(ctx, r, c)
	switch {
	case f.All && !admin:
		return nil, ErrKnoxListAll
	case f.All:
		f.UserName, f.CreatedBy = "", ""
	case f.UserName == "" && f.CreatedBy == "":
		f.UserName = c.Principal
	}
	if !admin && (f.UserName != "" && f.UserName != c.Principal || f.CreatedBy != "" && f.CreatedBy != c.Principal) {
		return nil, ErrKnoxForbidden
	}
	// A name means the user who holds it now: the caller's own name means
	// the caller, by ID, and the tokens of an earlier user of that name
	// belong to nobody who can list them.
	ownerID := func(name string) (string, error) {
		if name == c.Principal {
			if c.User == nil {
				return "", nil
			}
			return c.User.ID, nil
		}
		return k.OwnerID(ctx, r.ID, name)
	}
	var q store.KnoxTokenQuery
	for _, by := range []struct {
		name string
		id   *string
	}{{f.UserName, &q.UserID}, {f.CreatedBy, &q.CreatedByID}} {
		if by.name == "" {
			continue
		}
		id, err := ownerID(by.name)
		if err != nil || id == "" {
			return nil, err
		}
		*by.id = id
	}
	return k.svc.store.ListKnoxTokens(ctx, r.ID, q)
}
