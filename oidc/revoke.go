package oidc

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/ory/fosite"

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
		if err := rp.sessions.RevokeAccessToken(ctx, rp.realm.ID, at.claims.Jti, time.Unix(at.claims.Exp, 0)); err != nil {
			s.storeWriteError(w, rp, "revoke", err)
			return
		}
		s.realmEvent(rp, r, realms.EventRevokeGrant, c, at.claims.Sub, at.claims.Sid, "")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		return
	}
	if !s.endRefreshSession(r, w, rp, c, token, "revoke", realms.EventRevokeGrant, false, invalidToken, errUnmatchingClient) {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// logout is P/logout. The back-channel form (POST with client
// authentication and refresh_token) ends that session and answers 204.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, rp *realmProvider) {
	if r.Method != http.MethodPost {
		s.rpLogout(w, r, rp, r.URL.Query())
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		writeOAuthError(w, errBodyTooLarge)
		return
	}
	v, _ := url.ParseQuery(string(body))
	_, _, basic := r.BasicAuth()
	if !basic && !v.Has("refresh_token") && !v.Has("client_secret") {
		// A browser sent here by its application (RP-initiated logout).
		s.rpLogout(w, r, rp, v)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.backchannelLogout(w, r, rp)
}

// backchannelLogout is Keycloak's POST logout by an application with its
// credentials and a refresh token: it ends that token's session.
func (s *Server) backchannelLogout(w http.ResponseWriter, r *http.Request, rp *realmProvider) {
	f, c, ok := s.clientForm(w, r, rp, nil)
	if !ok {
		return
	}
	token := f.get("refresh_token")
	if token == "" {
		writeOAuthError(w, errNoRefreshToken)
		return
	}
	inactive := func() { writeOAuthError(w, errInvalidRefreshToken) }
	if !s.endRefreshSession(r, w, rp, c, token, "logout", realms.EventLogout, true, inactive, errRefreshWrongClient) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// endRefreshSession ends the session of refresh token token, which client
// c must own, records event ev, and reports whether it did. Otherwise it
// has answered: by inactive for an unknown, expired or revoked token, by
// wrongClient for another client's token (revoke and logout word these
// differently), recording the failure when failures is set.
func (s *Server) endRefreshSession(r *http.Request, w http.ResponseWriter, rp *realmProvider, c store.Client, token, op, ev string, failures bool, inactive func(), wrongClient *fosite.RFC6749Error) bool {
	ctx := r.Context()
	rt, _, err := rp.activeRefreshToken(ctx, token)
	if errors.Is(err, errInactive) {
		if failures {
			s.realmEvent(rp, r, ev, c, "", "", "invalid_token")
		}
		inactive()
		return false
	}
	if err != nil {
		s.serverError(w, rp, op, err)
		return false
	}
	if rt.ClientID != c.ID {
		if failures {
			s.realmEvent(rp, r, ev, c, rt.UserID, "", "invalid_token")
		}
		writeOAuthError(w, wrongClient)
		return false
	}
	if err := rp.svc.EndSession(ctx, rp.realm.ID, rt.SessionID); err != nil {
		s.storeWriteError(w, rp, op, err)
		return false
	}
	s.realmEvent(rp, r, ev, c, rt.UserID, rt.SessionID, "")
	return true
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
