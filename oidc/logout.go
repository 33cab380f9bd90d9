package oidc

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/store"
)

// RP-initiated logout pages, in Keycloak's wording.
const (
	msgInvalidIDTokenHint    = "Invalid parameter: id_token_hint"
	msgInvalidLogoutClient   = "Invalid parameter: client_id"
	msgInvalidLogoutRedirect = "Invalid redirect uri"
	msgLogoutNeedsClient     = "Either the parameter client_id or the parameter id_token_hint is required when post_logout_redirect_uri is used."
)

// rpLogout is GET|POST P/logout from a browser: it ends the SSO session of
// the cookie (and the one the id_token_hint names), clears the cookie, and
// returns to post_logout_redirect_uri when the client registered it.
func (s *Server) rpLogout(w http.ResponseWriter, r *http.Request, rp *realmProvider, v url.Values) {
	ctx := r.Context()
	var hint struct {
		Iss, Sub, Sid, Typ, Azp string
		Aud                     any
	}
	if raw := v.Get("id_token_hint"); raw != "" {
		// An expired ID token still identifies the session to end.
		payload, _, err := rp.signer.Verify(raw)
		if err == nil {
			err = json.Unmarshal(payload, &hint)
		}
		if err != nil || hint.Typ != "ID" || hint.Iss != s.issuer(r, rp.realm.Name) {
			s.page(w, r, rp, http.StatusBadRequest, "error", pageData{Error: msgInvalidIDTokenHint})
			return
		}
	}
	clientID := v.Get("client_id")
	if hint.Azp != "" {
		if clientID != "" && clientID != hint.Azp {
			s.page(w, r, rp, http.StatusBadRequest, "error", pageData{Error: msgInvalidLogoutClient})
			return
		}
		clientID = hint.Azp
	}
	var c store.Client
	if clientID != "" {
		var err error
		if c, err = rp.svc.ClientByClientID(ctx, rp.realm.ID, clientID); err != nil {
			s.page(w, r, rp, http.StatusBadRequest, "error", pageData{Error: msgInvalidLogoutClient})
			return
		}
		infoOf(ctx).client = clientID
	}
	target := v.Get("post_logout_redirect_uri")
	if target != "" {
		if clientID == "" {
			s.page(w, r, rp, http.StatusBadRequest, "error", pageData{Error: msgLogoutNeedsClient})
			return
		}
		if !clientAllowsPostLogout(c, target, s.baseURL(r)) {
			s.page(w, r, rp, http.StatusBadRequest, "error", pageData{Error: msgInvalidLogoutRedirect})
			return
		}
	}
	ended := map[string]bool{}
	if sess, _, ok := s.ssoSession(r, rp); ok {
		ended[sess.ID] = true
	}
	if hint.Sid != "" {
		// Only the hint's own user's session: the token is signed by us,
		// but the sid is checked against the subject anyway.
		if sess, err := rp.svc.SSOSession(ctx, rp.realm, hint.Sid); err == nil && sess.UserID == hint.Sub {
			ended[sess.ID] = true
		}
	}
	for id := range ended {
		if err := rp.svc.EndSession(ctx, rp.realm.ID, id); err != nil {
			s.log.Error("logout", "realm", rp.realm.Name, "err", err)
			s.page(w, r, rp, http.StatusInternalServerError, "error", pageData{Error: msgInternal})
			return
		}
	}
	s.setCookie(w, r, rp, ssoCookie, "", -1)
	if target == "" {
		s.page(w, r, rp, http.StatusOK, "logged-out", pageData{Title: "Logging out"})
		return
	}
	if st := v.Get("state"); st != "" {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + url.Values{"state": {st}}.Encode()
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusFound)
}
