package oidc

import (
	"context"
	"errors"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// clientCredentialsGrant issues tokens to a confidential client acting as its
// service-account user. No state is written unless the client opted into
// refresh tokens (client_credentials.use_refresh_token), so the cost of a
// token is the signature.
type clientCredentialsGrant struct{ grantHandler }

func (h clientCredentialsGrant) HandleTokenEndpointRequest(ctx context.Context, ar fosite.AccessRequester) error {
	s, err := h.requestSession(ar)
	if err != nil {
		return err
	}
	u, err := h.rp.serviceAccountOf(ctx, s.grant.client)
	if err != nil {
		return err
	}
	s.grant.user = u
	s.grant.jtiPrefix = "trrtcc:"
	return h.grantScopes(ctx, ar, s)
}

// serviceAccountOf is the enabled service-account user client c acts as,
// or the client-credentials grant's refusal.
func (rp *realmProvider) serviceAccountOf(ctx context.Context, c store.Client) (store.User, error) {
	if c.PublicClient {
		return store.User{}, errCCPublicClient
	}
	if !c.ServiceAccountsEnabled {
		return store.User{}, errCCNotEnabled
	}
	u, err := rp.svc.ServiceAccount(ctx, rp.realm.ID, c)
	if errors.Is(err, store.ErrNotFound) {
		// Enabled service accounts always have a user; a missing one is
		// treated like a disabled one rather than a server error.
		return store.User{}, errSAUserDisabled(realms.ServiceAccountPrefix + c.ClientID)
	}
	if err != nil {
		return store.User{}, errServerError.WithWrap(err)
	}
	if !u.Enabled {
		return store.User{}, errSAUserDisabled(u.Username)
	}
	return u, nil
}

func (h clientCredentialsGrant) PopulateTokenEndpointResponse(ctx context.Context, ar fosite.AccessRequester, resp fosite.AccessResponder) error {
	s, err := h.requestSession(ar)
	if err != nil {
		return err
	}
	now := h.rp.now()
	if s.grant.client.Attributes[realms.AttrCCUseRefreshToken] == "true" {
		if err := h.rp.minter.newSession(&s.grant, s.ip, now); err != nil {
			return errServerError.WithWrap(err)
		}
		if err := h.rp.sessions.StartSession(ctx, h.rp.realm.ID, *s.grant.session, s.grant.refreshRecord); err != nil {
			return storeErr(err)
		}
	}
	if err := h.rp.minter.mint(ctx, &s.grant, resp, now, false); err != nil {
		return errServerError.WithWrap(err)
	}
	return nil
}
