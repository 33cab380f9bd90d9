package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/metrics"
	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// errInactive is every reason a token is not (or no longer) valid. Callers
// never learn which: introspection answers {"active":false} and userinfo
// 401 alike.
var errInactive = errors.New("token is not active")

// activeAccessToken is a verified, currently valid access token of a realm.
type activeAccessToken struct {
	claims accessClaims
	// raw keeps every claim (read-only: it is shared by the cache).
	raw map[string]any
	// introspection is raw rendered for RFC 7662 (see verifiedAccess).
	introspection []byte
	user          store.User
	client        store.Client
}

// validateAccessToken verifies an access token issued by this realm: our
// signature (by kid, allow-listed algorithms), typ Bearer, issued for this
// realm, not expired, not revoked, issued after the realm's and user's
// not-before, its session still alive, and its user and client still present
// and enabled.
//
// What the signed token itself says is verified once and cached (see
// tokencache.go); the state that can change under it (revocation, session,
// user, client) is checked on every call, the user and client through the
// realm service's generation caches.
func (rp *realmProvider) validateAccessToken(ctx context.Context, token string) (*activeAccessToken, error) {
	v, ok := rp.verified.Get(token)
	hit := ok && v.rp == rp
	rp.svc.Metrics().CacheLookup(metrics.CacheVerifiedToken, hit)
	if !hit {
		var err error
		if v, err = rp.verifyAccessToken(token); err != nil {
			return nil, err
		}
		rp.verified.Put(token, v)
	}
	c := &v.claims
	now := rp.now()
	if !time.Unix(c.Exp, 0).After(now) {
		return nil, errInactive
	}
	// Gatehouse never emits nbf, but a token that carries one is honoured.
	if !v.nbf.IsZero() && v.nbf.After(now.Add(clockSkew)) {
		return nil, errInactive
	}
	if revoked, err := rp.sessions.AccessTokenRevoked(ctx, rp.realm.ID, c.Jti); err != nil {
		return nil, err
	} else if revoked {
		return nil, errInactive
	}
	if c.Sid != "" {
		sess, err := rp.sessions.Session(ctx, rp.realm.ID, c.Sid)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errInactive
		}
		if err != nil {
			return nil, err
		}
		if !sess.ExpiresAt.After(now) {
			return nil, errInactive
		}
	}
	u, err := rp.svc.TokenUser(ctx, rp.realm.ID, c.Sub)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errInactive
	} else if err != nil {
		return nil, err
	}
	cl, err := rp.svc.ClientByClientID(ctx, rp.realm.ID, c.Azp)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errInactive
	} else if err != nil {
		return nil, err
	}
	if !u.Enabled || !cl.Enabled || realms.IssuedBeforeNotBefore(c.Iat, rp.realm, cl, u) {
		return nil, errInactive
	}
	if c.APIKeyID != "" {
		if err := rp.checkAPIKeyBound(ctx, c.APIKeyID, c.Sub); err != nil {
			return nil, err
		}
	}
	return &activeAccessToken{claims: v.claims, raw: v.raw, introspection: v.introspection, user: u, client: cl}, nil
}

// verifyAccessToken checks what cannot change during a token's life: its
// signature by one of this realm snapshot's keys and its fixed claims.
func (rp *realmProvider) verifyAccessToken(token string) (*verifiedAccess, error) {
	payload, _, err := rp.signer.Verify(token)
	if err != nil {
		return nil, errInactive
	}
	v := &verifiedAccess{rp: rp}
	if err := json.Unmarshal(payload, &v.claims); err != nil {
		return nil, errInactive
	}
	if err := json.Unmarshal(payload, &v.raw); err != nil {
		return nil, errInactive
	}
	c := &v.claims
	if c.Typ != "Bearer" || !strings.HasSuffix(c.Iss, "/realms/"+rp.realm.Name) || c.Sub == "" || c.Jti == "" {
		return nil, errInactive
	}
	if nbf, ok := claimTime(v.raw, "nbf"); ok {
		v.nbf = nbf
	}
	if v.introspection, err = introspectionMembers(v.raw); err != nil {
		return nil, errInactive
	}
	return v, nil
}

// refreshTokenState looks up an opaque refresh token and reports whether it
// is still current (not rotated out, not expired, session alive).
func (rp *realmProvider) activeRefreshToken(ctx context.Context, token string) (store.RefreshToken, store.Session, error) {
	key, ok := hashToken(token)
	if !ok {
		return store.RefreshToken{}, store.Session{}, errInactive
	}
	rt, err := rp.sessions.RefreshToken(ctx, rp.realm.ID, key)
	if errors.Is(err, store.ErrNotFound) {
		return store.RefreshToken{}, store.Session{}, errInactive
	}
	if err != nil {
		return store.RefreshToken{}, store.Session{}, err
	}
	now := rp.now()
	if !rt.UsedAt.IsZero() || !rt.ExpiresAt.After(now) {
		return rt, store.Session{}, errInactive
	}
	sess, err := rp.sessions.Session(ctx, rp.realm.ID, rt.SessionID)
	if errors.Is(err, store.ErrNotFound) {
		return rt, store.Session{}, errInactive
	}
	if err != nil {
		return rt, store.Session{}, err
	}
	if !sess.ExpiresAt.After(now) {
		return rt, sess, errInactive
	}
	return rt, sess, nil
}

// AccessToken is a verified, currently valid access token of one of this
// server's realms, for callers outside the protocol layer (the admin API).
type AccessToken struct {
	Realm  store.Realm
	User   store.User
	Client store.Client
	Scope  string
}

// ErrInvalidToken is returned by VerifyAccessToken for every token that is
// not a currently valid access token of an enabled realm here.
var ErrInvalidToken = errInactive

// VerifyAccessToken verifies a bearer token issued by any enabled realm of
// this server. The realm is named by the token's iss, but only that realm's
// keys can make the token valid, so a forged iss gains nothing.
func (s *Server) VerifyAccessToken(ctx context.Context, token string) (*AccessToken, error) {
	name, ok := issuerRealm(token)
	if !ok || !realms.ValidRealmName(name) {
		return nil, errInactive
	}
	rp, err := s.providers.realm(ctx, name)
	if errors.Is(err, realms.ErrRealmNotFound) {
		return nil, errInactive
	}
	if err != nil {
		return nil, err
	}
	if !rp.realm.Enabled {
		return nil, errInactive
	}
	at, err := rp.validateAccessToken(ctx, token)
	if err != nil {
		return nil, err
	}
	return &AccessToken{Realm: rp.realm, User: at.user, Client: at.client, Scope: at.claims.Scope}, nil
}

// issuerRealm reads the realm name from an unverified token's iss.
func issuerRealm(token string) (string, bool) {
	m, ok := unverifiedClaims(token)
	if !ok {
		return "", false
	}
	iss := claimString(m, "iss")
	i := strings.LastIndex(iss, "/realms/")
	if i < 0 {
		return "", false
	}
	return iss[i+len("/realms/"):], true
}
