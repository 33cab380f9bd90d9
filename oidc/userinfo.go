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
	// The claims follow the client's scopes as they are now, for the
	// optional scopes the token was granted.
	ctx := r.Context()
	mapped, err := func() (*realms.Claims, error) {
		opt, err := rp.svc.OptionalIn(ctx, rp.realm, at.client, at.claims.Scope)
		if err != nil {
			return nil, err
		}
		plan, err := rp.svc.TokenPlan(ctx, rp.realm, at.client, opt)
		if err != nil {
			return nil, err
		}
		in, err := mapperInput(ctx, rp.svc, rp.realm.ID, at.user, at.client, plan)
		if err != nil {
			return nil, err
		}
		return plan.Run(in, realms.UserInfo)
	}()
	if err != nil {
		s.log.Error("userinfo", "realm", rp.realm.Name, "err", err)
		writeOAuthError(w, errServerError)
		return
	}
	out := map[string]any{"sub": at.user.ID}
	for _, c := range mapped.Other {
		if !reservedClaim[c.Name] {
			out[c.Name] = c.Value
		}
	}
	writeJSON(w, http.StatusOK, out)
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

// writeUserinfo answers for a presented API key, which belongs to no client
// and so to no client scopes: the OIDC standard claims of u.
func writeUserinfo(w http.ResponseWriter, u store.User) {
	out := map[string]any{"sub": u.ID, "preferred_username": u.Username, "email_verified": false}
	if u.ServiceAccountClientID == "" {
		out["email_verified"] = u.EmailVerified
		for k, v := range map[string]string{"name": strings.TrimSpace(u.FirstName + " " + u.LastName),
			"given_name": u.FirstName, "family_name": u.LastName, "email": u.Email} {
			if v != "" {
				out[k] = v
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}
