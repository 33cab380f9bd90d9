package oidc

import (
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

var (
	errRevokeNoToken    = oauthErr(400, "invalid_request", "Token not provided")
	errUnmatchingClient = oauthErr(400, "invalid_request", "Unmatching clients")
)

// revoke is RFC 7009 at P/revoke. A refresh token ends its session (all
// tokens of the family); an access token's jti is remembered as revoked
// until it expires. Unknown or invalid tokens are answered 200, as RFC 7009
// requires, with Keycloak's invalid_token body.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request, rp *realmProvider) {
	f, c, ok := s.clientForm(w, r, rp, nil)
	if !ok {
		return
	}
	ctx := r.Context()
	token := f.get("token")
	if token == "" {
		writeOAuthError(w, errRevokeNoToken)
		return
	}
	if badHint(f) {
		writeOAuthError(w, errUnsupportedHintType)
		return
	}
	st := rp.svc.Store()
	invalidToken := func() {
		writeJSON(w, http.StatusOK, map[string]string{"error": "invalid_token", "error_description": "Invalid token"})
	}
	if looksLikeJWT(token) {
		at, err := rp.validateAccessToken(ctx, token)
		if errors.Is(err, errInactive) {
			invalidToken()
			return
		}
		if err != nil {
			s.serverError(w, rp, "revoke", err)
			return
		}
		if at.claims.Azp != c.ClientID {
			writeOAuthError(w, errUnmatchingClient)
			return
		}
		if err := st.RevokeAccessToken(ctx, rp.realm.ID, at.claims.Jti, time.Unix(at.claims.Exp, 0)); err != nil {
			s.storeWriteError(w, rp, "revoke", err)
			return
		}
		s.realmEvent(rp, r, realms.EventRevokeGrant, c, at.claims.Sub, at.claims.Sid, "")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		return
	}
	rt, _, err := rp.activeRefreshToken(ctx, token)
	if errors.Is(err, errInactive) {
		invalidToken()
		return
	}
	if err != nil {
		s.serverError(w, rp, "revoke", err)
		return
	}
	if rt.ClientID != c.ID {
		writeOAuthError(w, errUnmatchingClient)
		return
	}
	if err := st.DeleteSession(ctx, rp.realm.ID, rt.SessionID); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.storeWriteError(w, rp, "revoke", err)
		return
	}
	s.realmEvent(rp, r, realms.EventRevokeGrant, c, rt.UserID, rt.SessionID, "")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// logout is P/logout. The back-channel form (POST with client
// authentication and refresh_token) ends that session and answers 204.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, rp *realmProvider) {
	f, c, ok := s.clientForm(w, r, rp, nil)
	if !ok {
		return
	}
	ctx := r.Context()
	token := f.get("refresh_token")
	if token == "" {
		writeOAuthError(w, errNoRefreshToken)
		return
	}
	rt, _, err := rp.activeRefreshToken(ctx, token)
	if errors.Is(err, errInactive) {
		s.realmEvent(rp, r, realms.EventLogout, c, "", "", "invalid_token")
		writeOAuthError(w, errInvalidRefreshToken)
		return
	}
	if err != nil {
		s.serverError(w, rp, "logout", err)
		return
	}
	if rt.ClientID != c.ID {
		s.realmEvent(rp, r, realms.EventLogout, c, rt.UserID, "", "invalid_token")
		writeOAuthError(w, errRefreshWrongClient)
		return
	}
	if err := rp.svc.Store().DeleteSession(ctx, rp.realm.ID, rt.SessionID); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.storeWriteError(w, rp, "logout", err)
		return
	}
	s.realmEvent(rp, r, realms.EventLogout, c, rt.UserID, rt.SessionID, "")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) serverError(w http.ResponseWriter, rp *realmProvider, op string, err error) {
	s.log.Error(op, "realm", rp.realm.Name, "err", err)
	writeOAuthError(w, errServerError)
}

func (s *Server) storeWriteError(w http.ResponseWriter, rp *realmProvider, op string, err error) {
	if errors.Is(err, store.ErrUnavailable) {
		s.log.Error(op+": store unavailable for writes", "realm", rp.realm.Name, "err", err)
		writeOAuthError(w, errUnavailable)
		return
	}
	s.serverError(w, rp, op, err)
}
