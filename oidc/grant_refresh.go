package oidc

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// refreshGrant rotates a refresh token: the presented token is retired and a
// new one stored in one durable commit; presenting a retired token again
// ends the whole session (unless the realm allows a short reuse grace). The
// user is read afresh, so disabled users are refused and role changes show up
// in the new access token.
type refreshGrant struct{ grantHandler }

func (h refreshGrant) HandleTokenEndpointRequest(ctx context.Context, ar fosite.AccessRequester) error {
	s, err := h.requestSession(ar)
	if err != nil {
		return err
	}
	raw := ar.GetRequestForm().Get("refresh_token")
	if raw == "" {
		return errNoRefreshToken
	}
	key, ok := hashToken(raw)
	if !ok {
		return errInvalidRefreshToken
	}
	realmID := h.rp.realm.ID
	rt, err := h.rp.sessions.RefreshToken(ctx, realmID, key)
	if errors.Is(err, store.ErrNotFound) {
		return errInvalidRefreshToken
	}
	if err != nil {
		return errServerError.WithWrap(err)
	}
	if rt.ClientID != s.grant.client.ID {
		return errRefreshWrongClient
	}
	now := h.rp.now()
	if !rt.ExpiresAt.After(now) {
		return errRefreshNotActive
	}
	sess, err := h.rp.sessions.Session(ctx, realmID, rt.SessionID)
	if errors.Is(err, store.ErrNotFound) {
		return errSessionNotActive
	}
	if err != nil {
		return errServerError.WithWrap(err)
	}
	if !sess.ExpiresAt.After(now) {
		return errSessionNotActive
	}
	u, err := h.rp.svc.TokenUser(ctx, realmID, rt.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return errSessionNotActive
	}
	if err != nil {
		return errServerError.WithWrap(err)
	}
	if !u.Enabled {
		return errUserDisabledLater
	}
	if realms.IssuedBeforeNotBefore(rt.IssuedAt.Unix(), h.rp.realm, s.grant.client, u) {
		return errStaleToken
	}
	scopes, plan, err := h.rp.svc.NarrowScopes(ctx, h.rp.realm, s.grant.client, strings.Fields(rt.Scope), ar.GetRequestForm().Get("scope"))
	if err != nil {
		return scopeErr(err)
	}
	// The session's scope decides: an offline session stays offline
	// whatever this refresh narrows to.
	if err := h.offlineAllowed(ctx, strings.Fields(rt.Scope), u); err != nil {
		return err
	}
	for _, sc := range scopes {
		ar.GrantScope(sc)
	}
	s.grant.user = u
	s.grant.scopes, s.grant.plan = scopes, plan
	s.grant.session = &sess
	s.grant.refreshRecord = rt // the presented token until rotation
	s.grant.jtiPrefix = "onrtrt:"
	return nil
}

func (h refreshGrant) PopulateTokenEndpointResponse(ctx context.Context, ar fosite.AccessRequester, resp fosite.AccessResponder) error {
	return h.respondRefreshed(ctx, ar, resp, func(presented, next store.RefreshToken, now time.Time) error {
		policy := store.RotationPolicy{Grace: time.Duration(h.rp.realm.RefreshTokenReuseGraceSeconds) * time.Second}
		if policy.Grace > 0 {
			policy.MaxReuse = max(h.rp.realm.RefreshTokenMaxReuse, 1)
		}
		_, err := h.rp.sessions.RotateRefreshToken(ctx, h.rp.realm.ID, presented.Hash, next, policy, now)
		switch {
		case errors.Is(err, store.ErrTokenReused):
			h.rp.svc.Metrics().RefreshReuse(h.rp.realm.Name)
			return errRefreshReused
		case errors.Is(err, store.ErrTokenExpired):
			return errRefreshNotActive
		case errors.Is(err, store.ErrNotFound):
			// The session ended (logout, reuse elsewhere) since the request step.
			return errSessionNotActive
		case err != nil:
			return storeErr(err)
		}
		return nil
	})
}
