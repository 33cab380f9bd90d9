package realms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// SessionService owns sessions, refresh-token rotation and access-token
// revocation: the token state that is read from the store on every use
// (no cache holds it), written on the hot path of every grant, and so
// written without moving the realm's write generation, which would drop
// every other cache of the realm on each token.
type SessionService struct {
	svc *Service
}

// NewSessionService returns the session service over svc's store and
// realms.
func NewSessionService(svc *Service) *SessionService { return &SessionService{svc: svc} }

// ErrSessionNotFound: no live session by that ID in the realm.
var ErrSessionNotFound = errors.New("realms: session not found")

// Offline reports whether a session is an offline session (started with
// scope offline_access), which Keycloak lists apart from the others.
func Offline(sess store.Session) bool {
	return slices.Contains(strings.Fields(sess.Scope), OfflineAccess)
}

// sessionAlive reports whether a session of realm r can still be refreshed
// at now: it is within its hard end and was used within the idle timeout
// that applies to it. The janitor removes dead ones later; until then they
// must not show up as live.
func sessionAlive(r store.Realm, sess store.Session, now time.Time) bool {
	if !sess.ExpiresAt.After(now) {
		return false
	}
	idle := r.SSOSessionIdleTimeout
	if r.ClientSessionIdleTimeout > 0 && r.ClientSessionIdleTimeout < idle {
		idle = r.ClientSessionIdleTimeout
	}
	if Offline(sess) {
		idle = r.OfflineSessionIdleTimeout
	}
	return sess.LastRefresh.Add(time.Duration(idle) * time.Second).After(now)
}

// SessionFilter selects a user's or a client's live sessions.
type SessionFilter struct {
	UserID   string
	ClientID string // client UUID
	// Offline selects the offline sessions instead of the others.
	Offline bool
}

// SessionInfo is a live session with the names an admin reads.
type SessionInfo struct {
	store.Session
	Username string
	// ClientID is the session client's clientId.
	ClientID string
}

// Sessions returns the live sessions of a user or a client of realm r,
// online or offline as f says, oldest first, with the user's and the
// client's current names.
func (s *SessionService) Sessions(ctx context.Context, r store.Realm, f SessionFilter) ([]SessionInfo, error) {
	live, err := s.liveSessions(ctx, r, f)
	if err != nil {
		return nil, err
	}
	out := make([]SessionInfo, 0, len(live))
	for _, sess := range live {
		info := SessionInfo{Session: sess}
		if u, err := s.svc.store.GetUser(ctx, r.ID, sess.UserID); err == nil {
			info.Username = u.Username
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("session user: %w", err)
		}
		if c, err := s.svc.Client(ctx, r.ID, sess.ClientID); err == nil {
			info.ClientID = c.ClientID
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("session client: %w", err)
		}
		out = append(out, info)
	}
	return out, nil
}

func (s *SessionService) liveSessions(ctx context.Context, r store.Realm, f SessionFilter) ([]store.Session, error) {
	all, err := s.svc.store.ListSessions(ctx, r.ID, store.SessionQuery{UserID: f.UserID, ClientID: f.ClientID})
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	now := s.svc.now()
	out := all[:0]
	for _, sess := range all {
		if Offline(sess) == f.Offline && sessionAlive(r, sess, now) {
			out = append(out, sess)
		}
	}
	slices.SortFunc(out, func(a, b store.Session) int {
		if c := a.AuthTime.Compare(b.AuthTime); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// ClientSessionStats counts one client's live sessions.
type ClientSessionStats struct {
	Client  store.Client
	Active  int
	Offline int
}

// SessionStats returns, for each client of realm r with a live session,
// its online and offline session counts, ordered by clientId.
func (s *SessionService) SessionStats(ctx context.Context, r store.Realm) ([]ClientSessionStats, error) {
	clients, err := s.svc.allClients(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	var out []ClientSessionStats
	for _, c := range clients {
		all, err := s.svc.store.ListSessions(ctx, r.ID, store.SessionQuery{ClientID: c.ID})
		if err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		st := ClientSessionStats{Client: c}
		now := s.svc.now()
		for _, sess := range all {
			switch {
			case !sessionAlive(r, sess, now):
			case Offline(sess):
				st.Offline++
			default:
				st.Active++
			}
		}
		if st.Active+st.Offline > 0 {
			out = append(out, st)
		}
	}
	return out, nil
}

// DeleteSession ends one session of realm r (online or offline) with its
// refresh tokens.
func (s *SessionService) DeleteSession(ctx context.Context, r store.Realm, id string) error {
	if _, err := s.svc.store.GetSession(ctx, r.ID, id); err != nil {
		return notFoundAs(err, ErrSessionNotFound)
	}
	return notFoundAs(s.svc.store.DeleteSession(ctx, r.ID, id), ErrSessionNotFound)
}

// LogoutUser is Keycloak's POST /users/{id}/logout: the user's tokens
// issued until now become stale (user notBefore) and all of the user's
// sessions, offline ones included, end.
func (s *SessionService) LogoutUser(ctx context.Context, r store.Realm, userID string) error {
	now := s.svc.now().Unix()
	if _, err := s.svc.UpdateUser(ctx, r.Name, userID, func(u *store.User) error {
		u.NotBefore = now
		return nil
	}); err != nil {
		return err
	}
	return s.svc.endUserSessions(ctx, r.ID, userID)
}

// LogoutAll is Keycloak's POST /logout-all: every session of the realm
// ends and the realm's notBefore moves to now, so no token issued until
// now is honoured any longer.
func (s *SessionService) LogoutAll(ctx context.Context, r store.Realm) error {
	now := s.svc.now().Unix()
	if _, err := s.svc.UpdateRealm(ctx, r.Name, func(x *store.Realm) error {
		x.NotBefore = now
		return nil
	}); err != nil {
		return err
	}
	clients, err := s.svc.allClients(ctx, r.ID)
	if err != nil {
		return err
	}
	for _, c := range clients {
		all, err := s.svc.store.ListSessions(ctx, r.ID, store.SessionQuery{ClientID: c.ID})
		if err != nil {
			return fmt.Errorf("list sessions: %w", err)
		}
		for _, sess := range all {
			if err := s.svc.store.DeleteSession(ctx, r.ID, sess.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("end session: %w", err)
			}
		}
	}
	return nil
}

// StartSession stores a new session of realm realmID with its first
// refresh token. Issuing tokens is the hot path and no cache holds
// sessions or refresh tokens (they are read from the store on every use),
// so it does not move the realm's write generation, which would drop every
// other cache of the realm on each grant.
func (s *SessionService) StartSession(ctx context.Context, realmID string, sess store.Session, first store.RefreshToken) error {
	return s.svc.store.CreateSession(ctx, realmID, sess, first)
}

// RotateRefreshToken retires the refresh token with hash oldHash in favour
// of next (see store.Store.RotateRefreshToken). Like StartSession, it does
// not move the realm's write generation.
func (s *SessionService) RotateRefreshToken(ctx context.Context, realmID, oldHash string, next store.RefreshToken, p store.RotationPolicy, now time.Time) (store.RefreshToken, error) {
	return s.svc.store.RotateRefreshToken(ctx, realmID, oldHash, next, p, now)
}

// RefreshToken returns the refresh token of realm realmID with that hash.
func (s *SessionService) RefreshToken(ctx context.Context, realmID, hash string) (store.RefreshToken, error) {
	return s.svc.store.GetRefreshToken(ctx, realmID, hash)
}

// Session returns the session of realm realmID with that ID.
func (s *SessionService) Session(ctx context.Context, realmID, id string) (store.Session, error) {
	return s.svc.store.GetSession(ctx, realmID, id)
}

// RevokeAccessToken marks the access token jti of realm realmID revoked
// until it expires at exp. Revocations are read from the store on every
// use of a token (the verified-token cache keeps only the signature check),
// so, like StartSession, it leaves the realm's caches alone.
func (s *SessionService) RevokeAccessToken(ctx context.Context, realmID, jti string, exp time.Time) error {
	return s.svc.store.RevokeAccessToken(ctx, realmID, jti, exp)
}

// AccessTokenRevoked reports whether the access token jti of realm realmID
// was revoked.
func (s *SessionService) AccessTokenRevoked(ctx context.Context, realmID, jti string) (bool, error) {
	return s.svc.store.IsAccessTokenRevoked(ctx, realmID, jti)
}
