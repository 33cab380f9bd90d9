package oidc

import (
	"crypto/subtle"
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
		// The realm's own signature binds the realm; the issuer's host may
		// differ (another public name of this server), as for access tokens.
		if err != nil || hint.Typ != "ID" || !strings.HasSuffix(hint.Iss, "/realms/"+rp.realm.Name) {
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
	if hint.Sub == "" && !s.logoutConfirmed(r, v) {
		// Nothing proves the application sent the browser here: ask, as
		// Keycloak does, so that a link on another site cannot sign the
		// user out.
		if _, _, ok := s.ssoSession(r, rp); ok {
			s.logoutConfirmPage(w, r, rp, v)
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

// logoutConfirmPage asks the user to confirm a logout that came without an
// id_token_hint; the form carries the original parameters and a CSRF token.
func (s *Server) logoutConfirmPage(w http.ResponseWriter, r *http.Request, rp *realmProvider, v url.Values) {
	cookie, err := s.newLoginCookie(w, r, rp)
	if err != nil {
		s.page(w, r, rp, http.StatusInternalServerError, "error", pageData{Error: msgInternal})
		return
	}
	var fields []formField
	for k, vals := range v {
		if k != "csrf" && len(vals) > 0 {
			fields = append(fields, formField{k, vals[0]})
		}
	}
	fields = append(fields, formField{"csrf", csrfToken(cookie)})
	s.page(w, r, rp, http.StatusOK, "logout-confirm", pageData{
		Title: "Logging out", Action: s.cfg.RelativePath + "/realms/" + rp.realm.Name + "/protocol/openid-connect/logout", Fields: fields,
		FormTarget: v.Get("post_logout_redirect_uri"), // validated by rpLogout
	})
}

// logoutConfirmed reports whether v is the confirmation form of this
// browser (POST, CSRF token bound to its login cookie).
func (s *Server) logoutConfirmed(r *http.Request, v url.Values) bool {
	if r.Method != http.MethodPost {
		return false
	}
	ck, err := r.Cookie(loginCookie)
	return err == nil && subtle.ConstantTimeCompare([]byte(csrfToken(ck.Value)), []byte(v.Get("csrf"))) == 1
}
