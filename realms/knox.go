package realms

import (
	"context"
	"errors"
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

// KnoxOwnerID is the ID of the realm user now named username ("" when there
// is none), for Knox's userName and createdBy filters: they name a user, but
// tokens are bound to the user's ID.
func (s *Service) KnoxOwnerID(ctx context.Context, realmID, username string) (string, error) {
	u, err := s.store.GetUserByUsername(ctx, realmID, username)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

// Managed Knox tokens are read from the store on every use (no cache holds
// them), so their writes leave the realm's caches and write generation
// alone, as sessions do: issuing a Knox token must not drop every cache of
// the realm, nor cost replicas a generation bump.

// CreateKnoxToken stores a managed Knox token, within the per-user limit.
func (s *Service) CreateKnoxToken(ctx context.Context, realmID string, t store.KnoxToken, limit store.KnoxTokenLimit) error {
	return s.store.CreateKnoxToken(ctx, realmID, t, limit)
}

// KnoxToken returns the managed Knox token of realm realmID with that ID.
func (s *Service) KnoxToken(ctx context.Context, realmID, id string) (store.KnoxToken, error) {
	return s.store.GetKnoxToken(ctx, realmID, id)
}

// UpdateKnoxToken changes a managed Knox token with fn.
func (s *Service) UpdateKnoxToken(ctx context.Context, realmID, id string, fn func(*store.KnoxToken) error) (store.KnoxToken, error) {
	return s.store.UpdateKnoxToken(ctx, realmID, id, fn)
}

// DeleteKnoxToken removes a managed Knox token; store.ErrNotFound when
// there is none.
func (s *Service) DeleteKnoxToken(ctx context.Context, realmID, id string) error {
	return s.store.DeleteKnoxToken(ctx, realmID, id)
}

// KnoxTokens lists managed Knox tokens of realm realmID as q selects.
func (s *Service) KnoxTokens(ctx context.Context, realmID string, q store.KnoxTokenQuery) ([]store.KnoxToken, error) {
	return s.store.ListKnoxTokens(ctx, realmID, q)
}
