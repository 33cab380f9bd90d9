package oidc

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// Keycloak's introspection caller errors.
var (
	errIntrospectAuth      = oauthErr(401, "invalid_request", "Authentication failed.")
	errIntrospectPublic    = oauthErr(403, "invalid_request", "Client not allowed.")
	errIntrospectNoToken   = oauthErr(400, "invalid_request", "Token not provided.")
	errUnsupportedHintType = oauthErr(400, "unsupported_token_type", "Unsupported token type")
)

var inactive = map[string]bool{"active": false}

// introspect is RFC 7662 at P/token/introspect: any confidential client of
// the realm may ask; anything that is not a currently valid token of this
// realm is {"active":false}.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request, rp *realmProvider) {
	f, c, ok := s.clientForm(w, r, rp, func(e *fosite.RFC6749Error) *fosite.RFC6749Error {
		if e.CodeField >= 500 {
			return e
		}
		return errIntrospectAuth
	})
	if !ok {
		return
	}
	ctx := r.Context()
	if c.PublicClient || c.BearerOnly {
		writeOAuthError(w, errIntrospectPublic)
		return
	}
	token := f.get("token")
	if token == "" {
		writeOAuthError(w, errIntrospectNoToken)
		return
	}
	rptHint := f.get("token_type_hint") == hintRPT
	if badHint(f) && !rptHint {
		writeOAuthError(w, errUnsupportedHintType)
		return
	}
	// Our access tokens are JWTs and refresh tokens opaque, so the shape
	// decides which lookup applies whatever the hint says.
	if realms.LooksLikeAPIKey(token) {
		s.introspectAPIKey(w, r, rp, token)
		return
	}
	if m, ok := unverifiedClaims(token); ok && m["knox.id"] != nil {
		kt, err := rp.validateKnoxToken(ctx, token)
		if err != nil {
			s.inactiveOrError(w, rp, err)
			return
		}
		out := kt.claims
		out["active"] = true
		out["username"] = claimString(kt.claims, "sub")
		if kt.user != nil {
			out["username"] = kt.user.Username
		}
		out["token_type"] = "Bearer"
		if !kt.exp.IsZero() {
			out["exp"] = kt.exp.Unix() // a renewed managed token outlives its JWT exp
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	if looksLikeJWT(token) {
		at, err := rp.validateAccessToken(ctx, token)
		if err != nil {
			s.inactiveOrError(w, rp, err)
			return
		}
		s.realmEvent(rp, r, realms.EventIntrospectToken, c, at.claims.Sub, at.claims.Sid, "")
		if rptHint {
			writeRPTIntrospection(w, at)
			return
		}
		writeIntrospection(w, at)
		return
	}
	rt, sess, err := rp.activeRefreshToken(ctx, token)
	if err != nil {
		s.inactiveOrError(w, rp, err)
		return
	}
	// A refresh token is active only while its client and user are, and
	// only if issued after every notBefore, as the refresh grant demands.
	rc, err := rp.svc.Client(ctx, rp.realm.ID, rt.ClientID)
	if err != nil {
		s.inactiveOrError(w, rp, notFoundInactive(err))
		return
	}
	u, err := rp.svc.TokenUser(ctx, rp.realm.ID, rt.UserID)
	if err != nil {
		s.inactiveOrError(w, rp, notFoundInactive(err))
		return
	}
	if !u.Enabled || !rc.Enabled || realms.IssuedBeforeNotBefore(rt.IssuedAt.Unix(), rp.realm, rc, u) {
		writeJSON(w, http.StatusOK, inactive)
		return
	}
	s.realmEvent(rp, r, realms.EventIntrospectToken, c, rt.UserID, sess.ID, "")
	writeJSON(w, http.StatusOK, map[string]any{
		"active": true, "token_type": "Refresh", "typ": "Refresh",
		"exp": rt.ExpiresAt.Unix(), "iat": rt.IssuedAt.Unix(), "sid": sess.ID, "sub": rt.UserID,
		"scope": rt.Scope, "iss": s.issuer(r, rp.realm.Name),
		"client_id": rc.ClientID, "azp": rc.ClientID, "username": u.Username,
	})
}

// notFoundInactive turns a record that is gone into an inactive token.
func notFoundInactive(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return errInactive
	}
	return err
}

// inactiveOrError answers {"active":false} for invalid tokens, and 503 for
// a store that cannot answer right now (a database that went away) or 500
// for other store failures: neither may be mistaken for a revoked token.
func (s *Server) inactiveOrError(w http.ResponseWriter, rp *realmProvider, err error) {
	if errors.Is(err, errInactive) {
		writeJSON(w, http.StatusOK, inactive)
		return
	}
	s.log.Error("introspection", "realm", rp.realm.Name, "err", err)
	if errors.Is(err, store.ErrUnavailable) {
		writeOAuthError(w, errCannotRead)
		return
	}
	writeOAuthError(w, errServerError)
}

// looksLikeJWT tells a compact JWS (three dot-separated parts) from our
// opaque refresh tokens, which contain no dots.
func looksLikeJWT(t string) bool {
	n := 0
	for i := 0; i < len(t); i++ {
		if t[i] == '.' {
			n++
		}
	}
	return n == 2
}

// writeIntrospection answers for an active access token: its claims (the
// cached rendering) with active, client_id, username and token_type.
func writeIntrospection(w http.ResponseWriter, at *activeAccessToken) {
	b := make([]byte, 0, 96+len(at.introspection))
	b = append(b, `{"active":true,"client_id":`...)
	b = appendJSONString(b, at.claims.Azp)
	b = append(b, `,"token_type":"Bearer","username":`...)
	b = appendJSONString(b, at.user.Username)
	if len(at.introspection) > 0 {
		b = append(b, ',')
		b = append(b, at.introspection...)
	}
	b = append(b, "}\n"...)
	writeJSONBytes(w, http.StatusOK, b)
}

// hintRPT is the token_type_hint with which a resource server introspects
// an RPT, as Keycloak's policy enforcers do.
const hintRPT = "requesting_party_token"

// writeRPTIntrospection answers the introspection of an RPT as Keycloak
// does: the token's members and, at the top level, the permissions it
// carries (none for an access token that is no RPT).
func writeRPTIntrospection(w http.ResponseWriter, at *activeAccessToken) {
	out := map[string]any{}
	for k, v := range at.raw {
		out[k] = v
	}
	out["active"], out["client_id"], out["token_type"], out["username"] = true, at.claims.Azp, "Bearer", at.user.Username
	perms := []any{}
	if a, ok := at.raw["authorization"].(map[string]any); ok {
		if p, ok := a["permissions"].([]any); ok {
			perms = p
		}
	}
	out["permissions"] = perms
	writeJSON(w, http.StatusOK, out)
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}
