package oidc

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// userinfo is P/userinfo (GET or POST) with a Bearer access token.
func (s *Server) userinfo(w http.ResponseWriter, r *http.Request, rp *realmProvider) {
	token, ok := bearerToken(r)
	if !ok && r.Method == http.MethodPost {
		// RFC 6750 §2.2: the form-encoded body parameter.
		if f, ferr := parseForm(w, r); ferr == nil && f.dup == "" {
			token = f.get("access_token")
		}
	}
	if token == "" {
		s.bearerError(w, rp, "invalid_token", "Token verification failed", http.StatusUnauthorized)
		return
	}
	if realms.LooksLikeAPIKey(token) {
		s.apiKeyUserinfo(w, r, rp, token)
		return
	}
	at, err := rp.validateAccessToken(r.Context(), token)
	if err != nil {
		s.userinfoTokenError(w, rp, err)
		return
	}
	infoOf(r.Context()).client = at.claims.Azp
	if !slices.Contains(strings.Fields(at.claims.Scope), "openid") {
		s.bearerError(w, rp, "insufficient_scope", "Missing openid scope", http.StatusForbidden)
		return
	}
	writeUserinfo(w, at.user)
}

// userinfoTokenError answers a bearer credential (access token or API key)
// that failed validation with err.
func (s *Server) userinfoTokenError(w http.ResponseWriter, rp *realmProvider, err error) {
	if errors.Is(err, errInactive) {
		s.bearerError(w, rp, "invalid_token", "Token verification failed", http.StatusUnauthorized)
		return
	}
	s.log.Error("userinfo", "realm", rp.realm.Name, "err", err)
	writeOAuthError(w, errServerError)
}

// writeUserinfo answers with the OIDC standard claims of u.
func writeUserinfo(w http.ResponseWriter, u store.User) {
	p := userProfile(u, u.ServiceAccountClientID)
	out := map[string]any{"sub": u.ID, "preferred_username": p.preferredUsername}
	if p.emailVerified != nil {
		out["email_verified"] = *p.emailVerified
	}
	for k, v := range map[string]string{"name": p.name, "given_name": p.givenName, "family_name": p.familyName, "email": p.email} {
		if v != "" {
			out[k] = v
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) bearerError(w http.ResponseWriter, rp *realmProvider, code, desc string, status int) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="`+rp.realm.Name+`", error="`+code+`", error_description="`+desc+`"`)
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// bearerToken extracts an RFC 6750 Authorization: Bearer token.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
