package realms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// AuthCodeLifespan is how long an authorization code may be redeemed
// (Keycloak's accessCodeLifespan default).
const AuthCodeLifespan = 60 * time.Second

// StartSSOSession starts a browser (SSO) session for a user who has just
// authenticated. It belongs to no client: the tokens the user's
// applications obtain through it are added to it as they are issued, so
// ending it ends them all.
func (s *Service) StartSSOSession(ctx context.Context, r store.Realm, userID string) (store.Session, error) {
	now := s.now()
	sess := store.Session{
		ID: NewID(), UserID: userID, AuthTime: now, LastRefresh: now,
		ExpiresAt: now.Add(time.Duration(r.SSOSessionMaxLifespan) * time.Second),
	}
	if err := s.store.CreateSession(ctx, r.ID, sess, store.RefreshToken{}); err != nil {
		return store.Session{}, fmt.Errorf("start SSO session: %w", err)
	}
	return sess, nil
}

// SSOSession returns a live session: ErrNotFound (store's) if it is gone,
// past its maximum lifespan, or idle longer than the realm allows.
func (s *Service) SSOSession(ctx context.Context, r store.Realm, id string) (store.Session, error) {
	sess, err := s.store.GetSession(ctx, r.ID, id)
	if err != nil {
		return store.Session{}, err
	}
	now := s.now()
	idle := time.Duration(r.SSOSessionIdleTimeout) * time.Second
	if !sess.ExpiresAt.After(now) || now.Sub(sess.LastRefresh) > idle {
		return store.Session{}, store.ErrNotFound
	}
	return sess, nil
}

// TouchSSOSession records a silent sign-in through the session, which
// keeps it from going idle as a refresh would.
func (s *Service) TouchSSOSession(ctx context.Context, realmID, id string) error {
	return s.store.TouchSession(ctx, realmID, id, s.now())
}

// EndSession ends a session and every token issued in it; a session
// already gone is not an error.
func (s *Service) EndSession(ctx context.Context, realmID, id string) error {
	if err := s.store.DeleteSession(ctx, realmID, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// IssueAuthCode stores an authorization code (by hash) for the session.
func (s *Service) IssueAuthCode(ctx context.Context, realmID string, c store.AuthCode) error {
	return s.store.CreateAuthCode(ctx, realmID, c)
}

// RedeemAuthCode consumes a code. A code presented a second time is
// store.ErrTokenReused, and the session the code was issued in is ended
// first: whoever redeemed it before (perhaps an attacker who intercepted
// it) loses what that redemption obtained.
func (s *Service) RedeemAuthCode(ctx context.Context, realmID, hash string) (store.AuthCode, error) {
	c, err := s.store.ConsumeAuthCode(ctx, realmID, hash, s.now())
	if errors.Is(err, store.ErrTokenReused) {
		if eerr := s.EndSession(ctx, realmID, c.SessionID); eerr != nil {
			return store.AuthCode{}, eerr
		}
	}
	return c, err
}

// AddRefreshToken stores a client's first refresh token in an existing
// (SSO) session.
func (s *Service) AddRefreshToken(ctx context.Context, realmID string, rt store.RefreshToken) error {
	return s.store.AddRefreshToken(ctx, realmID, rt, s.now())
}

// Device authorization (RFC 8628) defaults, as Keycloak's realm settings
// oauth2DeviceCodeLifespan and oauth2DevicePollingInterval.
const (
	DeviceCodeLifespan = 600 * time.Second
	DevicePollInterval = 5 * time.Second
	// AttrDeviceGrantEnabled is the client attribute that allows the grant.
	AttrDeviceGrantEnabled = "oauth2.device.authorization.grant.enabled"
)

// CreateDeviceCode stores a new device authorization request.
func (s *Service) CreateDeviceCode(ctx context.Context, realmID string, d store.DeviceCode) error {
	return s.store.CreateDeviceCode(ctx, realmID, d)
}

// DeviceCodeByUserCode finds a live request by the code the user typed.
func (s *Service) DeviceCodeByUserCode(ctx context.Context, realmID, userCode string) (store.DeviceCode, error) {
	d, err := s.store.GetDeviceCodeByUserCode(ctx, realmID, userCode)
	if err != nil {
		return store.DeviceCode{}, err
	}
	if !d.ExpiresAt.After(s.now()) {
		return store.DeviceCode{}, store.ErrNotFound
	}
	return d, nil
}

// UpdateDeviceCode changes a request atomically (approval, denial, polls).
func (s *Service) UpdateDeviceCode(ctx context.Context, realmID, hash string, fn func(*store.DeviceCode) error) (store.DeviceCode, error) {
	return s.store.UpdateDeviceCode(ctx, realmID, hash, fn)
}
