package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"time"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/store"
)

const grantAuthorizationCode = "authorization_code"

// Keycloak's authorization_code errors.
var (
	errStandardFlowOff   = oauthErr(400, "unauthorized_client", "Client not allowed to exchange code")
	errMissingCode       = oauthErr(400, "invalid_request", "Missing parameter: code")
	errCodeNotValid      = oauthErr(400, "invalid_grant", "Code not valid")
	errCodeExpired       = oauthErr(400, "invalid_grant", "Code is expired")
	errCodeWrongClient   = oauthErr(400, "invalid_grant", "Auth error")
	errIncorrectRedirect = oauthErr(400, "invalid_grant", "Incorrect redirect_uri")
	errNoVerifier        = oauthErr(400, "invalid_grant", "PKCE code verifier not specified")
	errBadVerifier       = oauthErr(400, "invalid_grant", "PKCE verification failed: Invalid code verifier")
	errVerifierMismatch  = oauthErr(400, "invalid_grant", "PKCE verification failed: Code mismatch")
)

// authorizationCodeGrant redeems a code from the authorization endpoint.
// It is a fosite token-endpoint handler like the other grants rather than
// fosite's own code and PKCE handlers: those keep the whole serialised
// request per code, PKCE session and token signature in storage, match
// redirect URIs exactly (not Keycloak's trailing *), and would mint tokens
// outside the minter that gives every grant Keycloak's claims. Here a code
// is one small store row that one atomic write consumes.
// The code is consumed before anything else is checked, so a code presented
// with the wrong client, redirect URI or verifier is spent too: whoever
// stole it gets one try, and the legitimate redemption then fails loudly
// instead of racing the thief.
type authorizationCodeGrant struct{ grantHandler }

func (h authorizationCodeGrant) HandleTokenEndpointRequest(ctx context.Context, ar fosite.AccessRequester) error {
	s, err := h.requestSession(ar)
	if err != nil {
		return err
	}
	c := s.grant.client
	if !c.StandardFlowEnabled {
		return errStandardFlowOff
	}
	form := ar.GetRequestForm()
	raw := form.Get("code")
	if raw == "" {
		return errMissingCode
	}
	realmID := h.rp.realm.ID
	code, err := h.rp.svc.RedeemAuthCode(ctx, realmID, codeHash(raw))
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrTokenReused):
		return errCodeNotValid
	case errors.Is(err, store.ErrTokenExpired):
		return errCodeExpired
	case err != nil:
		return storeErr(err)
	}
	if code.ClientID != c.ID {
		return errCodeWrongClient
	}
	if form.Get("redirect_uri") != code.RedirectURI {
		return errIncorrectRedirect
	}
	if code.CodeChallenge != "" {
		v := form.Get("code_verifier")
		switch {
		case v == "":
			return errNoVerifier
		case !validPKCEValue(v):
			return errBadVerifier
		case subtle.ConstantTimeCompare([]byte(s256(v)), []byte(code.CodeChallenge)) != 1:
			return errVerifierMismatch
		}
	}
	if err := h.resumeSession(ctx, ar, s, code.SessionID, code.UserID, code.Scope); err != nil {
		return err
	}
	s.grant.nonce = code.Nonce
	s.grant.jtiPrefix = "onrtac:"
	return nil
}

func (h authorizationCodeGrant) PopulateTokenEndpointResponse(ctx context.Context, ar fosite.AccessRequester, resp fosite.AccessResponder) error {
	return h.respondRefreshed(ctx, ar, resp, func(_, next store.RefreshToken, _ time.Time) error {
		// The client's tokens join the SSO session, so logging out of it
		// (or a reused code ending it) ends them.
		err := h.rp.svc.AddRefreshToken(ctx, h.rp.realm.ID, next)
		switch {
		case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrTokenExpired):
			return errSessionNotActive
		case err != nil:
			return storeErr(err)
		}
		return nil
	})
}
