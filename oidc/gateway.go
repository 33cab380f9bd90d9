package oidc

import (
	"context"
	"errors"
	"net/http"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// What package knox (the Knox gateway API) asks of the protocol layer: the
// verification of the credentials a gateway accepts, and a realm's keys
// and issuer for the Knox tokens it signs. Knox's own rules live in
// realms.KnoxService and package knox; these only wrap what this package
// already does for its own endpoints, so both verify tokens one way.

// Principal is who a credential presented at a realm's gateway speaks for.
type Principal struct {
	Username string
	// User is the realm user (nil for a subject of another issuer who is
	// no user of the realm).
	User *store.User
	// KnoxID is the knox.id of the Knox token the caller presented, if
	// any, so that a token cannot renew itself.
	KnoxID string
}

// VerifyGatewayBearer verifies a bearer token presented to realm st: one of
// the realm's own tokens (it speaks for the user it is bound to) or one of
// an enabled identity provider of the realm (for the realm user it maps to,
// see realms.Service.FederatedUser). A token of another issuer's subject
// who is no user of the realm speaks for that name alone, unless a
// disabled realm user holds it. Errors: ErrInvalidToken (DeniedReason may
// say why), or the store's.
func (s *Server) VerifyGatewayBearer(ctx context.Context, st *realms.RealmState, token string) (Principal, error) {
	rp := s.providers.get(st)
	t, err := s.verifyTrusted(ctx, rp, token, "")
	if err != nil {
		return Principal{}, err
	}
	if t.idp != nil {
		u, err := rp.svc.FederatedUser(ctx, rp.realm, *t.idp, t.claims)
		if err != nil {
			return Principal{}, federatedUserDenied(err)
		}
		return Principal{Username: u.Username, User: &u}, nil
	}
	if t.user != nil {
		return tokenPrincipal(t), nil
	}
	if t.username == "" {
		return Principal{}, errInactive
	}
	p := Principal{Username: t.username}
	u, err := rp.svc.UserByUsername(ctx, rp.realm.ID, t.username)
	if errors.Is(err, store.ErrNotFound) {
		return p, nil
	}
	if err != nil {
		return Principal{}, err
	}
	if !u.Enabled {
		return Principal{}, errInactive
	}
	p.User = &u
	return p, nil
}

// VerifyRealmToken verifies one of realm st's own tokens (an access, Knox
// or workload token), which speaks for the realm user it is bound to.
// Errors: ErrInvalidToken, or the store's.
func (s *Server) VerifyRealmToken(ctx context.Context, st *realms.RealmState, token string) (Principal, error) {
	t, err := s.verifyLocal(ctx, s.providers.get(st), token)
	if err != nil {
		return Principal{}, err
	}
	return tokenPrincipal(t), nil
}

// tokenPrincipal is the realm user an own token is bound to (by ID);
// verifyLocal never returns a token without one.
func tokenPrincipal(t *trustedToken) Principal {
	return Principal{Username: t.user.Username, User: t.user, KnoxID: claimString(t.claims, "knox.id")}
}

// KnoxTokenID returns the knox.id of a Knox JWT realm st signed, whatever
// its expiry; ErrInvalidToken for anything else.
func (s *Server) KnoxTokenID(st *realms.RealmState, token string) (string, error) {
	_, id, err := s.providers.get(st).knoxClaims(token)
	return id, err
}

// SignJWT signs a JWT payload with realm st's current signing key.
func (s *Server) SignJWT(st *realms.RealmState, payload []byte) (string, error) {
	return s.providers.get(st).signer.SignJSON(payload, "JWT")
}

// Issuer is the issuer URL of the realm named realm, as request r
// addressed this server.
func (s *Server) Issuer(r *http.Request, realm string) string { return s.issuer(r, realm) }

// DeniedReason is what a caller may learn of why a valid credential speaks
// for no usable user of the realm ("" when there is nothing to tell).
func DeniedReason(err error) string {
	var d *authDenied
	if errors.As(err, &d) {
		return d.desc
	}
	return ""
}

// BearerToken is the token of an Authorization: Bearer header.
func BearerToken(r *http.Request) (string, bool) { return bearerToken(r) }

// WriteJSON answers v with the headers of every protocol answer (no-store),
// and gives the request log the "error" of an error answer.
func WriteJSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }

// WriteRealmDisabled answers as every endpoint of a disabled realm does.
func WriteRealmDisabled(w http.ResponseWriter) { writeOAuthError(w, errRealmDisabled) }

// WriteStoreError answers a failed store call: 503 when the store cannot
// write now (a replica's database went away), else 500. The caller logs it.
func WriteStoreError(w http.ResponseWriter, err error) {
	if errors.Is(err, store.ErrUnavailable) {
		writeOAuthError(w, errUnavailable)
		return
	}
	writeOAuthError(w, errServerError)
}
