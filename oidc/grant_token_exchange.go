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

// RFC 8693 names.
const (
	grantTokenExchange    = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeAccessToken  = "urn:ietf:params:oauth:token-type:access_token"
	tokenTypeRefreshToken = "urn:ietf:params:oauth:token-type:refresh_token"
	tokenTypeJWT          = "urn:ietf:params:oauth:token-type:jwt"

	// Client attributes (Keycloak 26.2 standard token exchange).
	attrTokenExchange        = "standard.token.exchange.enabled"
	attrExchangeRefreshToken = "standard.token.exchange.enableRefreshRequestedTokenType"
)

var (
	errExchangePublic       = oauthErr(400, "unauthorized_client", "Public client is not allowed to exchange token")
	errExchangeNotEnabled   = oauthErr(400, "unauthorized_client", "Standard token exchange is not enabled for the requested client")
	errMissingSubjectToken  = oauthErr(400, "invalid_request", "Parameter 'subject_token' required")
	errBadSubjectTokenType  = oauthErr(400, "invalid_request", "Parameter 'subject_token_type' must be urn:ietf:params:oauth:token-type:access_token, urn:ietf:params:oauth:token-type:jwt or "+tokenTypeAPIKey)
	errBadRequestedType     = oauthErr(400, "invalid_request", "requested_token_type unsupported")
	errInvalidSubjectToken  = oauthErr(400, "invalid_token", "Invalid token")
	errUnknownSubjectIssuer = oauthErr(400, "invalid_request", "Invalid subject_issuer")
	errNotInAudience        = oauthErr(403, "access_denied", "Client is not within the token audience")
	errExchangeNoUser       = oauthErr(400, "invalid_grant", "No user found for the subject token")
	errExchangeUserDisabled = oauthErr(400, "invalid_grant", "User disabled")
)

func errAudienceNotAvailable(aud string) *fosite.RFC6749Error {
	return oauthErr(400, "invalid_target", "Requested audience not available: "+aud)
}

// subjectVerifier verifies an RFC 8693 subject token for the realm; the HTTP
// edge supplies it because verification needs every realm's provider, not
// only this one's.
type subjectVerifier func(ctx context.Context, token, subjectIssuer string) (*trustedToken, error)

// tokenExchangeGrant is RFC 8693 with Keycloak 26.2's standard-exchange
// rules: a confidential client with standard.token.exchange.enabled swaps a
// token of its own realm (it must be the token's azp or in its aud) or of a
// trusted identity provider (mapped to a realm user by a federated identity
// link or the provider's principal claim) for a token of its own. Scopes
// never widen, audiences must be reachable and the result never outlives
// the subject token.
type tokenExchangeGrant struct{ grantHandler }

func (h tokenExchangeGrant) HandleTokenEndpointRequest(ctx context.Context, ar fosite.AccessRequester) error {
	s, err := h.requestSession(ar)
	if err != nil {
		return err
	}
	c := s.grant.client
	if c.PublicClient {
		return errExchangePublic
	}
	if c.Attributes[attrTokenExchange] != "true" {
		return errExchangeNotEnabled
	}
	form := ar.GetRequestForm()
	subject := form.Get("subject_token")
	if subject == "" {
		return errMissingSubjectToken
	}
	tt := form.Get("subject_token_type")
	if tt == tokenTypeAPIKey {
		return h.exchangeAPIKey(ctx, ar, s, subject)
	}
	if tt != tokenTypeAccessToken && tt != tokenTypeJWT {
		return errBadSubjectTokenType
	}
	switch form.Get("requested_token_type") {
	case "", tokenTypeAccessToken:
	case tokenTypeRefreshToken:
		if c.Attributes[attrExchangeRefreshToken] != "true" {
			return errBadRequestedType
		}
		s.exchange.refresh = true
	default:
		return errBadRequestedType
	}
	if form.Has("actor_token") || form.Has("requested_subject") {
		return oauthErr(400, "invalid_request", "Delegation and impersonation are not supported")
	}
	issuer := form.Get("subject_issuer")
	if issuer != "" {
		if _, err := h.rp.svc.IdentityProvider(ctx, h.rp.realm.ID, issuer); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return errUnknownSubjectIssuer
			}
			return errServerError.WithWrap(err)
		}
	}
	if s.exchange.verify == nil {
		return errServerError
	}
	t, err := s.exchange.verify(ctx, subject, issuer)
	if errors.Is(err, errInactive) {
		return errInvalidSubjectToken
	}
	if err != nil {
		return errServerError.WithWrap(err)
	}
	own := t.idp == nil
	if own && t.azp != c.ClientID && !slices.Contains(t.aud, c.ClientID) {
		return errNotInAudience
	}
	// The user the new token speaks for: an own token's, or the one the
	// identity provider's token maps to here (never the provider's user).
	u := t.user
	switch {
	case u != nil:
	case !own:
		fu, err := h.rp.svc.FederatedUser(ctx, h.rp.realm, *t.idp, t.claims)
		if err != nil {
			var denied *authDenied
			if errors.As(federatedUserDenied(err), &denied) {
				return oauthErr(400, "invalid_grant", denied.desc)
			}
			return errServerError.WithWrap(err)
		}
		u = &fu
	default:
		found, err := h.rp.svc.UserByUsername(ctx, h.rp.realm.ID, t.username)
		if errors.Is(err, store.ErrNotFound) {
			return errExchangeNoUser
		}
		if err != nil {
			return errServerError.WithWrap(err)
		}
		u = &found
	}
	if !u.Enabled {
		return errExchangeUserDisabled
	}
	// Scopes: never wider than the subject token's (or the defaults for an
	// external token without a scope claim).
	subjectScopes := strings.Fields(t.scope)
	if len(subjectScopes) == 0 {
		if subjectScopes, _, err = h.rp.svc.SelectScopes(ctx, h.rp.realm, c, ""); err != nil {
			return scopeErr(err)
		}
	}
	scopes, plan, err := h.rp.svc.NarrowScopes(ctx, h.rp.realm, c, subjectScopes, form.Get("scope"))
	if err != nil {
		return scopeErr(err)
	}
	// offline_access carried over from the subject token is checked again:
	// the role may have been taken away since that token was issued.
	if err := h.offlineAllowed(ctx, scopes, *u); err != nil {
		return err
	}
	// Audiences: each must be an enabled client of the realm already within
	// the subject token's reach. The same reach for an identity provider's
	// token: its audience claim, never an arbitrary client
	// (realm-management included).
	auds, err := h.rp.requestedAudiences(ctx, form["audience"], func(a string) bool {
		return a == c.ClientID || slices.Contains(t.aud, a)
	})
	if err != nil {
		return err
	}
	grantExchange(ar, s, *u, scopes, plan, auds, t.exp)
	if own {
		s.grant.sid = t.sid
	}
	return nil
}

func (h tokenExchangeGrant) PopulateTokenEndpointResponse(ctx context.Context, ar fosite.AccessRequester, resp fosite.AccessResponder) error {
	s, err := h.requestSession(ar)
	if err != nil {
		return err
	}
	now := h.rp.now()
	if !s.grant.notAfter.After(now) {
		return errInvalidSubjectToken
	}
	issued := tokenTypeAccessToken
	if s.exchange.refresh {
		if err := h.rp.minter.newSession(&s.grant, s.ip, now); err != nil {
			return errServerError.WithWrap(err)
		}
		// The new session cannot outlive the subject token either.
		if s.grant.session.ExpiresAt.After(s.grant.notAfter) {
			s.grant.session.ExpiresAt = s.grant.notAfter
			if s.grant.refreshRecord.ExpiresAt.After(s.grant.notAfter) {
				s.grant.refreshRecord.ExpiresAt = s.grant.notAfter
			}
		}
		if err := h.rp.sessions.StartSession(ctx, h.rp.realm.ID, *s.grant.session, s.grant.refreshRecord); err != nil {
			return storeErr(err)
		}
		issued = tokenTypeRefreshToken
	}
	if err := h.rp.minter.mint(ctx, &s.grant, resp, now, false); err != nil {
		return errServerError.WithWrap(err)
	}
	resp.SetExtra("issued_token_type", issued)
	return nil
}

// grantExchange records what a token exchange grants, with fosite and in
// the session: user u with scopes and auds, no token outliving notAfter.
func grantExchange(ar fosite.AccessRequester, s *session, u store.User, scopes []string, plan *realms.TokenPlan, auds []string, notAfter time.Time) {
	for _, sc := range scopes {
		ar.GrantScope(sc)
	}
	for _, a := range auds {
		ar.GrantAudience(a)
	}
	s.grant.user = u
	s.grant.scopes, s.grant.plan = scopes, plan
	s.grant.audience = auds
	s.grant.notAfter = notAfter
	s.grant.jtiPrefix = "ntrtte:"
}

// requestedAudiences checks each distinct audience of a token request: an
// enabled client of the realm, which reachable (when not nil) allows.
func (rp *realmProvider) requestedAudiences(ctx context.Context, requested []string, reachable func(clientID string) bool) ([]string, error) {
	var auds []string
	for _, a := range requested {
		if a == "" || slices.Contains(auds, a) {
			continue
		}
		cl, err := rp.svc.ClientByClientID(ctx, rp.realm.ID, a)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !cl.Enabled) {
			return nil, errAudienceNotAvailable(a)
		}
		if err != nil {
			return nil, errServerError.WithWrap(err)
		}
		if reachable != nil && !reachable(a) {
			return nil, errAudienceNotAvailable(a)
		}
		auds = append(auds, a)
	}
	return auds, nil
}
