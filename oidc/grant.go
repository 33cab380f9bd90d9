package oidc

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// Grant type names.
const (
	grantPassword          = "password"
	grantClientCredentials = "client_credentials"
	grantRefreshToken      = "refresh_token"
)

// grantHandler is the part every grant handler shares: it handles exactly
// one grant type and always needs an authenticated client.
type grantHandler struct {
	grantType string
	rp        *realmProvider
}

func (h grantHandler) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool { return false }

func (h grantHandler) CanHandleTokenEndpointRequest(_ context.Context, ar fosite.AccessRequester) bool {
	return ar.GetGrantTypes().ExactOne(h.grantType)
}

// requestSession returns the request's session for a request this handler
// owns, or fosite.ErrUnknownRequest so fosite moves on to the next handler.
func (h grantHandler) requestSession(ar fosite.AccessRequester) (*session, error) {
	if !ar.GetGrantTypes().ExactOne(h.grantType) {
		return nil, fosite.ErrUnknownRequest
	}
	s, ok := sessionOf(ar)
	if !ok {
		return nil, errServerError
	}
	return s, nil
}

// grantScopes applies the realm's scope rules to the request's scope
// parameter for the grant's user and records the result with fosite.
func (h grantHandler) grantScopes(ctx context.Context, ar fosite.AccessRequester, s *session) error {
	granted, plan, err := h.rp.svc.SelectScopes(ctx, h.rp.realm, s.grant.client, ar.GetRequestForm().Get("scope"))
	if err != nil {
		return scopeErr(err)
	}
	if err := h.offlineAllowed(ctx, granted, s.grant.user); err != nil {
		return err
	}
	s.grant.scopes, s.grant.plan = granted, plan
	for _, sc := range granted {
		ar.GrantScope(sc)
	}
	return nil
}

// resumeSession grants what a redeemed code (authorization or device) was
// issued for: its scope, for its SSO session and user. The code is worth
// nothing once the session has ended or the user is gone or disabled.
func (h grantHandler) resumeSession(ctx context.Context, ar fosite.AccessRequester, s *session, sessionID, userID, scope string) error {
	sess, err := h.rp.svc.SSOSession(ctx, h.rp.realm, sessionID)
	if errors.Is(err, store.ErrNotFound) {
		return errSessionNotActive
	}
	if err != nil {
		return storeErr(err)
	}
	u, err := h.rp.svc.TokenUser(ctx, h.rp.realm.ID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return errSessionNotActive
	}
	if err != nil {
		return storeErr(err)
	}
	if !u.Enabled {
		return errUserDisabledLater
	}
	scopes := strings.Fields(scope)
	if err := h.offlineAllowed(ctx, scopes, u); err != nil {
		return err
	}
	for _, sc := range scopes {
		ar.GrantScope(sc)
	}
	s.grant.user, s.grant.scopes, s.grant.session = u, scopes, &sess
	return nil
}

// respondRefreshed answers a grant that continues an SSO session: it draws
// the session's next refresh token, has keep make it durable (presented is
// the request's refresh token, if any), and only then mints the response.
func (h grantHandler) respondRefreshed(ctx context.Context, ar fosite.AccessRequester, resp fosite.AccessResponder, keep func(presented, next store.RefreshToken, now time.Time) error) error {
	s, err := h.requestSession(ar)
	if err != nil {
		return err
	}
	now := h.rp.now()
	presented := s.grant.refreshRecord
	if err := h.rp.minter.nextRefresh(&s.grant, now); err != nil {
		return errServerError.WithWrap(err)
	}
	if err := keep(presented, s.grant.refreshRecord, now); err != nil {
		return err
	}
	if err := h.rp.minter.mint(ctx, &s.grant, resp, now, true); err != nil {
		return errServerError.WithWrap(err)
	}
	return nil
}

// offlineAllowed refuses offline_access in scopes unless the user (or
// service account) holds the offline_access realm role, as Keycloak does
// when the token is issued and again at every refresh: otherwise anyone
// could turn a short session into a year-long one, or keep one after the
// role was taken away.
func (h grantHandler) offlineAllowed(ctx context.Context, scopes []string, u store.User) error {
	if !slices.Contains(scopes, realms.OfflineAccess) {
		return nil
	}
	roles, err := h.rp.svc.ResolveRoles(ctx, h.rp.realm.ID, u)
	if err != nil {
		return errServerError.WithWrap(err)
	}
	if !slices.Contains(roles.Realm, realms.OfflineAccess) {
		return errOfflineNotAllowed
	}
	return nil
}

// scopeErr maps a scope selection failure to the wire.
func scopeErr(err error) error {
	var inv *realms.InvalidScopeError
	if errors.As(err, &inv) {
		return errInvalidScope(inv.Requested)
	}
	return storeErr(err)
}

// storeErr maps a store failure during a grant to the wire: a store that
// cannot write answers 503 so clients retry; anything else is a 500.
func storeErr(err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		return errUnavailable.WithWrap(err)
	}
	return errServerError.WithWrap(err)
}
