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
