package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// tokenTypeAPIKey is the RFC 8693 subject_token_type of a personal API key.
const tokenTypeAPIKey = "urn:gatehouse:params:oauth:token-type:api_key"

var (
	errAccountToken    = oauthErr(401, "invalid_token", "Token verification failed")
	errAccountSA       = oauthErr(403, "access_denied", "Service accounts cannot hold personal keys")
	errKeyNotFound     = oauthErr(404, "not_found", "No such key")
	errBadJSONBody     = oauthErr(400, "invalid_request", "Body must be a JSON object")
	errAPIKeyRefreshed = oauthErr(400, "invalid_request", "An API key is exchanged for an access token only")
)

// accountRoutes are the user's own credential endpoints below
// /realms/{realm}/account.
func (s *Server) accountRoutes() {
	const p = "/realms/{realm}/account"
	r := s.Router
	r.HandleFunc(p+"/api-keys", s.accountHandler(s.createAPIKey)).Methods(http.MethodPost)
	r.HandleFunc(p+"/api-keys", s.accountHandler(s.listAPIKeys)).Methods(http.MethodGet)
	r.HandleFunc(p+"/api-keys/{keyId}", s.accountHandler(s.deleteAPIKey)).Methods(http.MethodDelete)
}

// accountCaller is the user an account request acts for.
type accountCaller struct {
	rp   *realmProvider
	user store.User
	who  realms.Actor
}

// accountHandler authenticates an account request with the user's own
// access token of the realm. Keys cannot authenticate here: a leaked key
// must not be able to mint further keys that outlive its deletion.
func (s *Server) accountHandler(h func(http.ResponseWriter, *http.Request, *accountCaller)) http.HandlerFunc {
	return s.realmHandler(func(w http.ResponseWriter, r *http.Request, rp *realmProvider) {
		tok, ok := bearerToken(r)
		if !ok {
			s.bearerError(w, rp, errAccountToken.ErrorField, errAccountToken.DescriptionField, http.StatusUnauthorized)
			return
		}
		at, err := rp.validateAccessToken(r.Context(), tok)
		if errors.Is(err, errInactive) {
			s.bearerError(w, rp, errAccountToken.ErrorField, errAccountToken.DescriptionField, http.StatusUnauthorized)
			return
		}
		if err != nil {
			s.log.Error("account", "realm", rp.realm.Name, "err", err)
			writeOAuthError(w, errServerError)
			return
		}
		if at.user.ServiceAccountClientID != "" {
			writeOAuthError(w, errAccountSA)
			return
		}
		infoOf(r.Context()).client = at.claims.Azp
		h(w, r, &accountCaller{rp: rp, user: at.user, who: realms.Actor{
			RealmID: rp.realm.ID, ClientID: at.claims.Azp, UserID: at.user.ID, Username: at.user.Username, IP: RemoteIP(r),
		}})
	})
}

// apiKeyRep is a key as listed (never the key itself).
type apiKeyRep struct {
	KeyID       string `json:"keyId"`
	Description string `json:"description,omitempty"`
	CreatedAt   string `json:"createdAt"`
	ExpiresAt   string `json:"expiresAt"`
	// APIKey is set only in the answer that creates the key.
	APIKey string `json:"apiKey,omitempty"`
}

// APIKeyRep renders a key record for the account and admin APIs.
func APIKeyRep(k store.APIKey) any { return toAPIKeyRep(k) }

func toAPIKeyRep(k store.APIKey) apiKeyRep {
	return apiKeyRep{KeyID: k.ID, Description: k.Description,
		CreatedAt: k.CreatedAt.UTC().Format(time.RFC3339), ExpiresAt: k.ExpiresAt.UTC().Format(time.RFC3339)}
}

// readJSON decodes a small JSON object body; an empty body is an empty
// object.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeOAuthError(w, errBodyTooLarge)
		} else {
			writeOAuthError(w, errBadJSONBody)
		}
		return false
	}
	if strings.TrimSpace(string(body)) == "" {
		return true
	}
	if err := json.Unmarshal(body, v); err != nil {
		writeOAuthError(w, errBadJSONBody)
		return false
	}
	return true
}

// writeKeyError answers a service error on the account endpoints.
func (s *Server) writeKeyError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *realms.ValidationError
	switch {
	case errors.As(err, &ve):
		writeOAuthError(w, oauthErr(400, "invalid_request", ve.Error()))
	case errors.Is(err, store.ErrNotFound), errors.Is(err, realms.ErrUserNotFound):
		writeOAuthError(w, errKeyNotFound)
	case errors.Is(err, store.ErrUnavailable):
		writeOAuthError(w, errUnavailable)
	default:
		s.log.Error("account keys", "path", r.URL.Path, "err", err)
		writeOAuthError(w, errServerError)
	}
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request, c *accountCaller) {
	var in struct {
		Description string `json:"description"`
		ExpiresAt   string `json:"expiresAt"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	var nk realms.NewAPIKey
	nk.Description = in.Description
	if in.ExpiresAt != "" {
		exp, err := realms.ParseKeyExpiry(in.ExpiresAt)
		if err != nil {
			s.writeKeyError(w, r, err)
			return
		}
		nk.ExpiresAt = exp
	}
	rec, key, err := s.svc.CreateAPIKey(r.Context(), c.rp.realm.Name, c.user.ID, nk, c.who)
	if err = s.eventLost(c, err); err != nil {
		s.writeKeyError(w, r, err)
		return
	}
	out := toAPIKeyRep(rec)
	out.APIKey = key
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request, c *accountCaller) {
	keys, err := s.svc.APIKeys(r.Context(), c.rp.realm.Name, c.user.ID)
	writeKeyList(s, w, r, keys, err, toAPIKeyRep)
}

func (s *Server) deleteAPIKey(w http.ResponseWriter, r *http.Request, c *accountCaller) {
	s.keyDeleted(w, r, c, s.svc.DeleteAPIKey(r.Context(), c.rp.realm.Name, c.user.ID, mux.Vars(r)["keyId"], c.who))
}

// writeKeyList answers a user's keys (API or access keys), each rendered
// by rep, or the error of listing them.
func writeKeyList[K, R any](s *Server, w http.ResponseWriter, r *http.Request, keys []K, err error, rep func(K) R) {
	if err != nil {
		s.writeKeyError(w, r, err)
		return
	}
	out := make([]R, 0, len(keys))
	for _, k := range keys {
		out = append(out, rep(k))
	}
	writeJSON(w, http.StatusOK, out)
}

// keyDeleted answers the deletion of a key: 204, or its error.
func (s *Server) keyDeleted(w http.ResponseWriter, r *http.Request, c *accountCaller, err error) {
	if err = s.eventLost(c, err); err != nil {
		s.writeKeyError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// eventLost logs a change whose admin event was not written and reports it
// as done; other errors pass through.
func (s *Server) eventLost(c *accountCaller, err error) error {
	if errors.Is(err, realms.ErrEventNotRecorded) {
		s.log.Error("account: admin event write failed", "realm", c.rp.realm.Name, "err", err)
		return nil
	}
	return err
}

// apiKeyUser authenticates a presented API key for the realm; every
// refusal is errInactive.
func (rp *realmProvider) apiKeyUser(ctx context.Context, key, ip string) (store.APIKey, store.User, error) {
	k, u, err := rp.svc.AuthenticateAPIKey(ctx, rp.realm, key, ip)
	if errors.Is(err, realms.ErrAPIKeyInvalid) {
		return k, u, errInactive
	}
	return k, u, err
}

// introspectAPIKey is RFC 7662 for an API key: the user's current roles,
// the key's expiry, token_type "api_key" and key_id.
func (s *Server) introspectAPIKey(w http.ResponseWriter, r *http.Request, rp *realmProvider, key string) {
	ctx := r.Context()
	k, u, err := rp.apiKeyUser(ctx, key, RemoteIP(r))
	if err != nil {
		s.inactiveOrError(w, rp, err)
		return
	}
	roles, err := rp.svc.ResolveRoles(ctx, rp.realm.ID, u)
	if err != nil {
		s.inactiveOrError(w, rp, err)
		return
	}
	realmAccess, resourceAccess := roleClaims(&realms.Claims{RealmRoles: roles.Realm, ClientRoles: roles.Client})
	out := map[string]any{
		"active": true, "token_type": "api_key", "key_id": k.ID,
		"sub": u.ID, "username": u.Username, "preferred_username": u.Username,
		"iss": s.issuer(r, rp.realm.Name), "iat": k.CreatedAt.Unix(), "exp": k.ExpiresAt.Unix(),
	}
	if realmAccess != nil {
		out["realm_access"] = realmAccess
	}
	if resourceAccess != nil {
		out["resource_access"] = resourceAccess
	}
	writeJSON(w, http.StatusOK, out)
}

// exchangeAPIKey is the RFC 8693 exchange of an API key (subject_token_type
// tokenTypeAPIKey) for an access token of the exchanging client. The key
// speaks for its user with the user's current roles; the token never
// outlives the key and dies with it (api_key_id, checked on every use).
func (h tokenExchangeGrant) exchangeAPIKey(ctx context.Context, ar fosite.AccessRequester, s *session, key string) error {
	form := ar.GetRequestForm()
	if rt := form.Get("requested_token_type"); rt != "" && rt != tokenTypeAccessToken {
		return errAPIKeyRefreshed
	}
	if form.Has("actor_token") || form.Has("requested_subject") || form.Has("subject_issuer") {
		return oauthErr(400, "invalid_request", "Delegation, impersonation and subject_issuer do not apply to API keys")
	}
	k, u, err := h.rp.apiKeyUser(ctx, key, s.ip)
	if errors.Is(err, errInactive) {
		return errInvalidSubjectToken
	}
	if err != nil {
		return errServerError.WithWrap(err)
	}
	scopes, plan, err := h.rp.svc.SelectScopes(ctx, h.rp.realm, s.grant.client, form.Get("scope"))
	if err != nil {
		return scopeErr(err)
	}
	auds, err := h.rp.requestedAudiences(ctx, form["audience"], nil)
	if err != nil {
		return err
	}
	grantExchange(ar, s, u, scopes, plan, auds, k.ExpiresAt)
	s.grant.apiKeyID = k.ID
	return nil
}

// checkAPIKeyBound refuses a token obtained with an API key once the key
// is gone or expired.
func (rp *realmProvider) checkAPIKeyBound(ctx context.Context, keyID, userID string) error {
	live, err := rp.svc.APIKeyLive(ctx, rp.realm.ID, keyID, userID)
	if err != nil {
		return err
	}
	if !live {
		return errInactive
	}
	return nil
}

// apiKeyUserinfo answers userinfo for Authorization: Bearer <API key>. A key
// carries no scope, so the openid-scope check of access tokens does not
// apply: the key is the user's own credential.
func (s *Server) apiKeyUserinfo(w http.ResponseWriter, r *http.Request, rp *realmProvider, key string) {
	_, u, err := rp.apiKeyUser(r.Context(), key, RemoteIP(r))
	if err != nil {
		s.userinfoTokenError(w, rp, err)
		return
	}
	writeUserinfo(w, u)
}
