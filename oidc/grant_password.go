package oidc

import (
	"context"
	"errors"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/realms"
)

// passwordGrant is the resource-owner password grant with Keycloak's checks
// and errors. It also issues the ID token when openid was requested, which
// fosite's stock handler cannot.
type passwordGrant struct{ grantHandler }

func (h passwordGrant) HandleTokenEndpointRequest(ctx context.Context, ar fosite.AccessRequester) error {
	s, err := h.requestSession(ar)
	if err != nil {
		return err
	}
	c := s.grant.client
	if !c.DirectAccessGrantsEnabled {
		return errDirectGrantsOff
	}
	if c.ConsentRequired {
		return errConsentRequired
	}
	form := ar.GetRequestForm()
	username := form.Get("username")
	if username == "" {
		return errMissingUsername
	}
	u, err := h.rp.svc.AuthenticateUser(ctx, h.rp.realm, username, form.Get("password"), s.ip)
	var le *realms.LoginError
	if errors.As(err, &le) {
		// Only for the LOGIN_ERROR event, which names the user as
		// Keycloak's does; the failed request issues nothing.
		s.grant.user.ID = le.UserID
	}
	switch {
	case errors.Is(err, realms.ErrUserLocked):
		return errUserLocked
	case errors.Is(err, realms.ErrUserNotFound):
		return errUnknownUser
	case errors.Is(err, realms.ErrBadPassword):
		return errBadPassword
	case errors.Is(err, realms.ErrUserDisabled):
		return errAccountDisabled
	case errors.Is(err, realms.ErrUserNotSetUp):
		return errAccountNotSetUp
	case err != nil:
		return storeErr(err)
	}
	s.grant.user = u
	s.grant.jtiPrefix = "onrtro:"
	return h.grantScopes(ctx, ar, s)
}

func (h passwordGrant) PopulateTokenEndpointResponse(ctx context.Context, ar fosite.AccessRequester, resp fosite.AccessResponder) error {
	s, err := h.requestSession(ar)
	if err != nil {
		return err
	}
	now := h.rp.now()
	if err := h.rp.minter.newSession(&s.grant, s.ip, now); err != nil {
		return errServerError.WithWrap(err)
	}
	// Durable before anything is signed or sent: a 200 means the refresh
	// token survives a crash.
	if err := h.rp.sessions.StartSession(ctx, h.rp.realm.ID, *s.grant.session, s.grant.refreshRecord); err != nil {
		return storeErr(err)
	}
	if err := h.rp.minter.mint(ctx, &s.grant, resp, now, true); err != nil {
		return errServerError.WithWrap(err)
	}
	return nil
}
