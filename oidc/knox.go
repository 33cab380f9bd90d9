package oidc

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// knoxClaims is a KnoxToken JWT: Knox's claims plus iat, jti
// and preferred_username, signed with the realm's key.
type knoxClaims struct {
	Iss               string   `json:"iss"`
	Sub               string   `json:"sub"`
	Aud               audience `json:"aud,omitempty"`
	Exp               int64    `json:"exp"`
	Iat               int64    `json:"iat"`
	Jti               string   `json:"jti"`
	KnoxID            string   `json:"knox.id"`
	Managed           string   `json:"managed.token"`
	PreferredUsername string   `json:"preferred_username"`
	// UserID binds the token to its realm user (absent for a principal
	// with no local user): sub is Knox's username, which a later user may
	// share.
	UserID string `json:"user_id,omitempty"`
}

// knoxToken is a verified, currently valid Knox token of a realm.
type knoxToken struct {
	claims map[string]any
	id     string
	exp    time.Time
	// state is the managed token's record (nil for unmanaged tokens).
	state *store.KnoxToken
	// user is the realm user the token speaks for (nil for an unmanaged
	// token of a principal with no local user).
	user *store.User
}

// validateKnoxToken checks a Knox token of this realm. A managed token is
// valid only while its record exists, is enabled and unexpired (its
// server-side expiry, which renewal moves, wins over the JWT's exp), and
// while its owner (by user ID) exists, is enabled and has no realm or user
// not-before after its issue; an unmanaged token bound to a user follows
// that user the same way.
func (rp *realmProvider) validateKnoxToken(ctx context.Context, token string) (*knoxToken, error) {
	m, id, err := rp.knoxClaims(token)
	if err != nil {
		return nil, err
	}
	now := rp.now()
	if nbf, ok := claimTime(m, "nbf"); ok && nbf.After(now.Add(clockSkew)) {
		return nil, errInactive
	}
	t := &knoxToken{claims: m, id: id}
	if claimString(m, "managed.token") == "true" {
		rec, err := rp.svc.KnoxToken(ctx, rp.realm.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errInactive
		}
		if err != nil {
			return nil, err
		}
		if !rec.Enabled || (!rec.ExpiresAt.IsZero() && !rec.ExpiresAt.After(now)) {
			return nil, errInactive
		}
		if t.user, err = rp.knoxOwner(ctx, rec.UserID, rec.IssuedAt); err != nil {
			return nil, err
		}
		t.state, t.exp = &rec, rec.ExpiresAt
		return t, nil
	}
	exp, ok := claimTime(m, "exp")
	if !ok || !exp.After(now) {
		return nil, errInactive
	}
	if uid := claimString(m, "user_id"); uid != "" {
		iat, ok := claimTime(m, "iat")
		if !ok {
			return nil, errInactive
		}
		var err error
		if t.user, err = rp.knoxOwner(ctx, uid, iat); err != nil {
			return nil, err
		}
	}
	t.exp = exp
	return t, nil
}

// knoxOwner is the user a Knox token issued at issuedAt speaks for, or
// errInactive when that user is gone, disabled or behind a not-before.
func (rp *realmProvider) knoxOwner(ctx context.Context, userID string, issuedAt time.Time) (*store.User, error) {
	u, err := rp.svc.TokenOwner(ctx, rp.realm, userID, issuedAt)
	switch {
	case errors.Is(err, realms.ErrUserNotFound), errors.Is(err, realms.ErrUserDisabled), errors.Is(err, realms.ErrTokenStale):
		return nil, errInactive
	case err != nil:
		return nil, err
	}
	return &u, nil
}

// knoxClaims verifies the signature and issuer of a Knox token, whatever
// its expiry (renewal of an expired token must say "expired", not
// "unknown").
func (rp *realmProvider) knoxClaims(token string) (map[string]any, string, error) {
	payload, _, err := rp.signer.Verify(token)
	if err != nil {
		return nil, "", errInactive
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, "", errInactive
	}
	id := claimString(m, "knox.id")
	if id == "" || !strings.HasSuffix(claimString(m, "iss"), "/realms/"+rp.realm.Name) || claimString(m, "sub") == "" {
		return nil, "", errInactive
	}
	return m, id, nil
}

// gateway is one request's topology context.
type gateway struct {
	topo store.Topology
	rp   *realmProvider
	// principal is the authenticated username.
	principal string
	user      *store.User
	// byPassword: the caller proved the user's password (not a token or
	// passcode).
	byPassword bool
	// viaToken is the knox.id of the Knox token (JWT or passcode) the
	// caller authenticated with, so that it cannot renew itself.
	viaToken string
}

func (s *Server) knoxRoutes() {
	for _, v := range []string{"v1", "v2"} {
		base := "/gateway/{topology}/knoxtoken/api/" + v
		r := s.Router
		r.HandleFunc(base+"/token", s.gatewayHandler(s.knoxIssue)).Methods(http.MethodGet, http.MethodPost)
		r.HandleFunc(base+"/jwks.json", s.gatewayJWKS).Methods(http.MethodGet)
		r.HandleFunc(base+"/token/renew", s.gatewayHandler(s.knoxRenew)).Methods(http.MethodPost, http.MethodPut)
		r.HandleFunc(base+"/token/revoke", s.gatewayHandler(s.knoxRevoke)).Methods(http.MethodPost, http.MethodDelete)
		r.HandleFunc(base+"/token/enable", s.gatewayHandler(s.knoxEnable(true))).Methods(http.MethodPost, http.MethodPut)
		r.HandleFunc(base+"/token/disable", s.gatewayHandler(s.knoxEnable(false))).Methods(http.MethodPost, http.MethodPut)
		r.HandleFunc(base+"/token/getUserTokens", s.gatewayHandler(s.knoxUserTokens)).Methods(http.MethodGet)
		r.HandleFunc(base+"/getUserTokens", s.gatewayHandler(s.knoxUserTokens)).Methods(http.MethodGet)
	}
}

// loadTopology resolves {topology} to its realm provider.
func (s *Server) loadTopology(w http.ResponseWriter, r *http.Request) (store.Topology, *realmProvider, bool) {
	name := mux.Vars(r)["topology"]
	var t store.Topology
	err := errInactive
	if realms.ValidRealmName(name) {
		t, err = s.svc.Topology(r.Context(), name)
	}
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, errInactive) {
			s.log.Error("load topology", "topology", name, "err", err)
			writeJSON(w, http.StatusInternalServerError, errInternal)
			return t, nil, false
		}
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Topology not found", "error_description": "No topology named " + name})
		return t, nil, false
	}
	rp, err := s.providers.realm(r.Context(), t.Realm)
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Topology not found", "error_description": "The topology's realm does not exist"})
		return t, nil, false
	}
	infoOf(r.Context()).realm = t.Realm
	if !rp.realm.Enabled {
		writeOAuthError(w, errRealmDisabled)
		return t, nil, false
	}
	return t, rp, true
}

func (s *Server) gatewayJWKS(w http.ResponseWriter, r *http.Request) {
	if _, rp, ok := s.loadTopology(w, r); ok {
		writeJSON(w, http.StatusOK, rp.state.Keys.JWKS)
	}
}

// gatewayHandler authenticates the caller with the topology's method before
// calling h. Failures are 401 with a challenge, as Knox's providers answer.
func (s *Server) gatewayHandler(h func(http.ResponseWriter, *http.Request, *gateway)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, rp, ok := s.loadTopology(w, r)
		if !ok {
			return
		}
		g := &gateway{topo: t, rp: rp}
		if err := s.authenticateGateway(r, g); err != nil {
			if !errors.Is(err, errInactive) {
				s.log.Error("gateway authentication", "topology", t.Name, "err", err)
				writeJSON(w, http.StatusInternalServerError, errInternal)
				return
			}
			scheme := "Basic"
			if t.Authentication == realms.AuthBearer {
				scheme = "Bearer"
			}
			desc := "Authentication required"
			var denied *authDenied
			if errors.As(err, &denied) {
				desc = denied.desc
			}
			w.Header().Set("WWW-Authenticate", scheme+` realm="`+t.Name+`"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": desc})
			return
		}
		infoOf(r.Context()).client = g.principal
		h(w, r, g)
	}
}

// authenticateGateway establishes the principal: for basic topologies a
// realm user's password (or Basic "Passcode"/"Token" with a managed token's
// passcode or JWT), for bearer topologies a JWT of the realm or of one of
// its identity providers.
func (s *Server) authenticateGateway(r *http.Request, g *gateway) error {
	ctx := r.Context()
	if g.topo.Authentication == realms.AuthBearer {
		tok, ok := bearerToken(r)
		if !ok {
			return errInactive
		}
		t, err := s.verifyTrusted(ctx, g.rp, tok, "")
		if err != nil {
			return err
		}
		if t.idp != nil {
			u, err := g.rp.svc.FederatedUser(ctx, g.rp.realm, *t.idp, t.claims)
			if err != nil {
				return federatedUserDenied(err)
			}
			g.principal, g.user = u.Username, &u
			return nil
		}
		if t.user != nil {
			g.setTokenUser(t)
			return nil
		}
		return s.setPrincipal(ctx, g, t.username)
	}
	// Knox's Basic credentials are not form-encoded (unlike OAuth client
	// credentials), so they are used as sent.
	user, pass, ok := r.BasicAuth()
	if !ok || user == "" {
		return errInactive
	}
	switch strings.ToLower(user) {
	case "passcode":
		rec, u, err := g.rp.checkPasscode(ctx, pass)
		if err != nil {
			return err
		}
		g.principal, g.user, g.viaToken = u.Username, u, rec.ID
		return nil
	case "token":
		t, err := s.verifyLocal(ctx, g.rp, pass)
		if err != nil {
			return err
		}
		g.setTokenUser(t)
		return nil
	}
	u, err := g.rp.svc.AuthenticateUser(ctx, g.rp.realm, user, pass, RemoteIP(r))
	switch {
	case errors.Is(err, realms.ErrUserNotFound), errors.Is(err, realms.ErrBadPassword),
		errors.Is(err, realms.ErrUserDisabled), errors.Is(err, realms.ErrUserNotSetUp):
		return errInactive
	case err != nil:
		return err
	}
	g.principal, g.user, g.byPassword = u.Username, &u, true
	return nil
}

// setTokenUser makes the realm user an own token is bound to (by ID) the
// principal; verifyLocal never returns a token without one.
func (g *gateway) setTokenUser(t *trustedToken) {
	g.principal, g.user = t.user.Username, t.user
	g.viaToken = claimString(t.claims, "knox.id")
}

// setPrincipal records the username a token speaks for; a realm user of
// that name who is disabled may not get Knox tokens.
func (s *Server) setPrincipal(ctx context.Context, g *gateway, username string) error {
	if username == "" {
		return errInactive
	}
	g.principal = username
	u, err := g.rp.svc.UserByUsername(ctx, g.rp.realm.ID, username)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !u.Enabled {
		return errInactive
	}
	g.user = &u
	return nil
}

// Passcodes are Knox's b64(b64(token_id) + "::" + b64(secret)).
func newPasscode(tokenID string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	inner := base64.StdEncoding.EncodeToString([]byte(tokenID)) + "::" + base64.StdEncoding.EncodeToString(b[:])
	return base64.StdEncoding.EncodeToString([]byte(inner)), nil
}

func passcodeTokenID(passcode string) (string, bool) {
	if len(passcode) > 512 {
		return "", false
	}
	inner, err := base64.StdEncoding.DecodeString(passcode)
	if err != nil {
		return "", false
	}
	idPart, _, ok := strings.Cut(string(inner), "::")
	if !ok {
		return "", false
	}
	id, err := base64.StdEncoding.DecodeString(idPart)
	return string(id), err == nil && len(id) > 0
}

// checkPasscode finds the enabled, unexpired managed token a passcode
// belongs to, and its owner while the token may speak for them.
func (rp *realmProvider) checkPasscode(ctx context.Context, passcode string) (store.KnoxToken, *store.User, error) {
	id, ok := passcodeTokenID(passcode)
	if !ok {
		return store.KnoxToken{}, nil, errInactive
	}
	rec, err := rp.svc.KnoxToken(ctx, rp.realm.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.KnoxToken{}, nil, errInactive
	}
	if err != nil {
		return store.KnoxToken{}, nil, err
	}
	// The digest binds the passcode to this token id: a passcode of one
	// token cannot unlock another (KNOX-3413).
	if !rp.svc.Sealer().DigestMatches(rec.PasscodeDigest, passcode) || !rec.Enabled ||
		(!rec.ExpiresAt.IsZero() && !rec.ExpiresAt.After(rp.now())) {
		return store.KnoxToken{}, nil, errInactive
	}
	u, err := rp.knoxOwner(ctx, rec.UserID, rec.IssuedAt)
	if err != nil {
		return store.KnoxToken{}, nil, err
	}
	return rec, u, nil
}

// knoxIssue is GET|POST …/knoxtoken/api/v1/token.
func (s *Server) knoxIssue(w http.ResponseWriter, r *http.Request, g *gateway) {
	q := r.URL.Query()
	ttl, err := realms.ParseISODuration(g.topo.TTL)
	if err != nil {
		s.log.Error("topology ttl", "topology", g.topo.Name, "err", err)
		writeJSON(w, http.StatusInternalServerError, errInternal)
		return
	}
	life := ttl
	if v := q.Get("lifespan"); v != "" {
		d, err := realms.ParseISODuration(v)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "lifespan: " + err.Error()})
			return
		}
		// As Knox: a lifespan beyond the topology's ttl is capped to it.
		life = min(d, ttl)
	}
	meta := map[string]string{}
	for k, vs := range q {
		if name, ok := strings.CutPrefix(k, "md_"); ok && name != "" && len(vs) > 0 {
			if len(name) > 32 || len(vs[0]) > 256 || len(meta) >= 32 {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "metadata names are at most 32 and values 256 characters, 32 entries"})
				return
			}
			meta[name] = vs[0]
		}
	}
	comment := q.Get("comment")
	if len(comment) > 256 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "comment is at most 256 characters"})
		return
	}
	now := g.rp.now()
	exp := now.Add(life)
	tokenID := realms.NewID()
	passcode := ""
	if g.topo.Managed {
		// A managed token is bound to a realm user's ID; a principal with
		// no local user has nothing to bind it to.
		if g.user == nil {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "Unable to get token - " + g.principal + " is not a user of this realm."})
			return
		}
		maxLife, err := realms.ParseISODuration(g.topo.MaxLifetime)
		if err != nil {
			s.log.Error("topology maxLifetime", "topology", g.topo.Name, "err", err)
			writeJSON(w, http.StatusInternalServerError, errInternal)
			return
		}
		if passcode, err = newPasscode(tokenID); err != nil {
			writeJSON(w, http.StatusInternalServerError, errInternal)
			return
		}
		rec := store.KnoxToken{ID: tokenID, UserID: g.user.ID, Username: g.principal, CreatedByID: g.user.ID, CreatedBy: g.principal, Topology: g.topo.Name,
			IssuedAt: now, ExpiresAt: exp, MaxLifetime: now.Add(maxLife), Enabled: true, Comment: comment, Metadata: meta,
			PasscodeDigest: g.rp.svc.Sealer().Digest(passcode)}
		limit := store.KnoxTokenLimit{Max: g.topo.LimitPerUser, RemoveOldest: g.topo.LimitAction == realms.LimitRemoveOldest, Now: now}
		if limit.Max == 0 {
			limit.Max = realms.DefaultKnoxLimitPerUser
		}
		err = g.rp.svc.CreateKnoxToken(r.Context(), g.rp.realm.ID, rec, limit)
		if errors.Is(err, store.ErrLimitExceeded) {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "Unable to get token - token limit exceeded."})
			return
		}
		if err != nil {
			s.storeWriteError(w, g.rp, "knox token", err)
			return
		}
	}
	managed := "false"
	if g.topo.Managed {
		managed = "true"
	}
	c := knoxClaims{Iss: s.issuer(r, g.rp.realm.Name), Sub: g.principal, Aud: audience(g.topo.Audiences),
		Exp: exp.Unix(), Iat: now.Unix(), Jti: tokenID, KnoxID: tokenID, Managed: managed, PreferredUsername: g.principal}
	if g.user != nil {
		c.UserID = g.user.ID
	}
	payload, err := json.Marshal(&c)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, errInternal)
		return
	}
	jwt, err := g.rp.signer.SignJSON(payload, "JWT")
	if err != nil {
		s.log.Error("sign knox token", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "Unable to acquire token."})
		return
	}
	out := map[string]any{}
	for k, v := range g.topo.ClientData {
		out[k] = v
	}
	out["access_token"] = jwt
	out["token_id"] = tokenID
	out["managed"] = managed
	out["token_type"] = "Bearer"
	out["expires_in"] = exp.UnixMilli()
	if g.topo.TargetURL != "" {
		out["target_url"] = g.topo.TargetURL
	}
	if g.topo.EndpointCert != "" {
		out["endpoint_public_cert"] = g.topo.EndpointCert
	}
	if passcode != "" {
		out["passcode"] = passcode
	}
	writeJSON(w, http.StatusOK, out)
	s.svc.Metrics().TokenIssued(g.rp.realm.Name, "knox")
}

// lifecycle answers: {"<op>":"false","error":…,"code":N} as Knox.
func knoxFail(w http.ResponseWriter, status int, op, msg string, code int) {
	writeJSON(w, status, map[string]any{op: "false", "error": msg, "code": code})
}

// Knox's token lifecycle API error codes.
const (
	codeUnauthorized    = 20
	codeInternal        = 30
	codeInvalid         = 40
	codeUnknownToken    = 50
	codeAlreadyDisabled = 60
	codeAlreadyEnabled  = 70
	codeExpired         = 90
)

// readBody reads a lifecycle request body (a token id or a JWT).
func readLifecycleBody(r *http.Request) (string, bool) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxTokenBytes+1))
	if err != nil || len(b) > maxTokenBytes {
		return "", false
	}
	return strings.TrimSpace(string(b)), len(b) > 0
}

// lifecycleTarget resolves a body (token id or Knox JWT) to its record.
func (g *gateway) lifecycleTarget(ctx context.Context, body string) (store.KnoxToken, error) {
	id := body
	if looksLikeJWT(body) {
		_, kid, err := g.rp.knoxClaims(body)
		if err != nil {
			return store.KnoxToken{}, errInactive
		}
		id = kid
	}
	rec, err := g.rp.svc.KnoxToken(ctx, g.rp.realm.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return rec, errInactive
	}
	return rec, err
}

// isRenewer: the caller is a configured renewer of this topology and the
// token was issued by it (a renewer of one topology has no say over
// another's tokens). A realm user is a renewer by the ID bound when the
// topology was saved; a name that had no realm user then matches only a
// principal with none (a subject of another issuer).
func (g *gateway) isRenewer(rec store.KnoxToken) bool {
	if rec.Topology != g.topo.Name {
		return false
	}
	for i, name := range g.topo.Renewers {
		id := ""
		if i < len(g.topo.RenewerIDs) {
			id = g.topo.RenewerIDs[i]
		}
		if g.user != nil && id != "" && id == g.user.ID || g.user == nil && id == "" && name == g.principal {
			return true
		}
	}
	return false
}

// owns: the caller is the token's owner, by user ID.
func (g *gateway) owns(rec store.KnoxToken) bool {
	return g.user != nil && rec.UserID != "" && rec.UserID == g.user.ID
}

// mayRenew: configured renewers, and the owner who proved their password.
// A token never renews itself, whether presented as JWT or passcode.
func (g *gateway) mayRenew(rec store.KnoxToken) bool {
	if g.viaToken == rec.ID {
		return false
	}
	return g.isRenewer(rec) || (g.byPassword && g.owns(rec))
}

// isRealmAdmin: realm-admin or manage-users in the topology's realm,
// resolved by the built-in roles' IDs (a renamed role grants nothing).
func (s *Server) isRealmAdmin(ctx context.Context, g *gateway) bool {
	if g.user == nil {
		return false
	}
	rights, err := g.rp.svc.AdminRights(ctx, g.rp.realm, *g.user)
	return err == nil && (rights.Has(realms.RealmAdminRole) || rights.Has("manage-users"))
}

func (s *Server) knoxRenew(w http.ResponseWriter, r *http.Request, g *gateway) {
	body, ok := readLifecycleBody(r)
	if !ok {
		knoxFail(w, http.StatusBadRequest, "renewed", "A token is required", codeInvalid)
		return
	}
	rec, err := g.lifecycleTarget(r.Context(), body)
	if err != nil {
		if errors.Is(err, errInactive) {
			knoxFail(w, http.StatusBadRequest, "renewed", "Unknown token", codeUnknownToken)
			return
		}
		s.storeWriteError(w, g.rp, "knox renew", err)
		return
	}
	if !g.mayRenew(rec) {
		knoxFail(w, http.StatusForbidden, "renewed", "Caller ("+g.principal+") not authorized to renew tokens.", codeUnauthorized)
		return
	}
	if !rec.Enabled {
		knoxFail(w, http.StatusBadRequest, "renewed", "Disabled token", codeInvalid)
		return
	}
	now := g.rp.now()
	if !rec.ExpiresAt.IsZero() && !rec.ExpiresAt.After(now) {
		knoxFail(w, http.StatusBadRequest, "renewed", "Expired token", codeExpired)
		return
	}
	interval, err := realms.ParseISODuration(g.topo.RenewInterval)
	if err != nil {
		knoxFail(w, http.StatusInternalServerError, "renewed", "Invalid renew interval", codeInternal)
		return
	}
	if !rec.MaxLifetime.IsZero() && !rec.MaxLifetime.After(now) {
		knoxFail(w, http.StatusBadRequest, "renewed", "The renewal limit for the token has been exceeded", codeInternal)
		return
	}
	exp := now.Add(interval)
	if !rec.MaxLifetime.IsZero() && exp.After(rec.MaxLifetime) {
		exp = rec.MaxLifetime
	}
	if _, err := g.rp.svc.UpdateKnoxToken(r.Context(), g.rp.realm.ID, rec.ID, func(t *store.KnoxToken) error {
		t.ExpiresAt = exp
		return nil
	}); err != nil {
		s.storeWriteError(w, g.rp, "knox renew", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"renewed": "true", "expires": strconv.FormatInt(exp.UnixMilli(), 10)})
}

func (s *Server) knoxRevoke(w http.ResponseWriter, r *http.Request, g *gateway) {
	body, ok := readLifecycleBody(r)
	if !ok {
		knoxFail(w, http.StatusBadRequest, "revoked", "A token is required", codeInvalid)
		return
	}
	rec, err := g.lifecycleTarget(r.Context(), body)
	if err != nil {
		if errors.Is(err, errInactive) {
			knoxFail(w, http.StatusBadRequest, "revoked", "Unknown token", codeUnknownToken)
			return
		}
		s.storeWriteError(w, g.rp, "knox revoke", err)
		return
	}
	if !g.owns(rec) && !(g.user != nil && rec.CreatedByID == g.user.ID) && !g.isRenewer(rec) {
		knoxFail(w, http.StatusForbidden, "revoked", "Caller ("+g.principal+") not authorized to revoke tokens.", codeUnauthorized)
		return
	}
	if err := g.rp.svc.DeleteKnoxToken(r.Context(), g.rp.realm.ID, rec.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.storeWriteError(w, g.rp, "knox revoke", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"revoked": "true"})
}

func (s *Server) knoxEnable(enable bool) func(http.ResponseWriter, *http.Request, *gateway) {
	return func(w http.ResponseWriter, r *http.Request, g *gateway) {
		const op = "setEnabledFlag"
		body, ok := readLifecycleBody(r)
		if !ok {
			knoxFail(w, http.StatusBadRequest, op, "A token id is required", codeInvalid)
			return
		}
		rec, err := g.lifecycleTarget(r.Context(), body)
		if err != nil {
			if errors.Is(err, errInactive) {
				knoxFail(w, http.StatusBadRequest, op, "Unknown token", codeUnknownToken)
				return
			}
			s.storeWriteError(w, g.rp, "knox enable", err)
			return
		}
		admin := s.isRealmAdmin(r.Context(), g)
		if !admin && !g.owns(rec) {
			knoxFail(w, http.StatusForbidden, op, "Caller ("+g.principal+") not authorized to change this token.", codeUnauthorized)
			return
		}
		// An owner may undo only their own disabling: what an admin
		// disabled stays disabled until an admin enables it.
		if enable && !admin && rec.DisabledBy == store.KnoxDisabledByAdmin {
			knoxFail(w, http.StatusForbidden, op, "Caller ("+g.principal+") not authorized to enable a token an administrator disabled.", codeUnauthorized)
			return
		}
		by := store.KnoxDisabledByOwner
		if admin {
			by = store.KnoxDisabledByAdmin
		}
		if rec.Enabled == enable {
			switch {
			case enable:
				knoxFail(w, http.StatusBadRequest, op, "Token is already enabled", codeAlreadyEnabled)
				return
			case rec.DisabledBy == by || by == store.KnoxDisabledByOwner:
				knoxFail(w, http.StatusBadRequest, op, "Token is already disabled", codeAlreadyDisabled)
				return
			}
			// An admin disabling what its owner disabled takes it over, so
			// the owner can no longer enable it.
		}
		if _, err := g.rp.svc.UpdateKnoxToken(r.Context(), g.rp.realm.ID, rec.ID, func(t *store.KnoxToken) error {
			t.Enabled = enable
			t.DisabledBy = ""
			if !enable {
				t.DisabledBy = by
			}
			return nil
		}); err != nil {
			s.storeWriteError(w, g.rp, "knox enable", err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{op: "true", "isEnabled": boolStr(enable)})
	}
}

func (s *Server) knoxUserTokens(w http.ResponseWriter, r *http.Request, g *gateway) {
	q := r.URL.Query()
	userName, createdBy := q.Get("userName"), q.Get("createdBy")
	if v := q.Get("userNameOrCreatedBy"); v != "" {
		userName, createdBy = v, ""
	}
	all := q.Get("allTokens") == "true"
	admin := s.isRealmAdmin(r.Context(), g)
	switch {
	case all && !admin:
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "Only realm administrators may list all tokens"})
		return
	case all:
		userName, createdBy = "", ""
	case userName == "" && createdBy == "":
		userName = g.principal
	}
	if !admin && (userName != "" && userName != g.principal || createdBy != "" && createdBy != g.principal) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "Caller (" + g.principal + ") may list only their own tokens"})
		return
	}
	toks, err := s.listKnoxTokens(r.Context(), g, userName, createdBy)
	if err != nil {
		s.serverError(w, g.rp, "knox list", err)
		return
	}
	type metadata struct {
		UserName          string            `json:"userName"`
		CreatedBy         string            `json:"createdBy"`
		Comment           string            `json:"comment,omitempty"`
		Enabled           bool              `json:"enabled"`
		KnoxSSOCookie     bool              `json:"knoxSsoCookie"`
		CustomMetadataMap map[string]string `json:"customMetadataMap"`
	}
	type tokenRep struct {
		TokenID         string   `json:"tokenId"`
		IssueTime       string   `json:"issueTime"`
		Expiration      string   `json:"expiration"`
		MaxLifetime     string   `json:"maxLifetime"`
		IssueTimeLong   int64    `json:"issueTimeLong"`
		ExpirationLong  int64    `json:"expirationLong"`
		MaxLifetimeLong int64    `json:"maxLifetimeLong"`
		Metadata        metadata `json:"metadata"`
	}
	out := []tokenRep{}
	for _, t := range toks {
		md := t.Metadata
		if md == nil {
			md = map[string]string{}
		}
		out = append(out, tokenRep{TokenID: t.ID,
			IssueTime: t.IssuedAt.UTC().Format(time.RFC3339), Expiration: t.ExpiresAt.UTC().Format(time.RFC3339),
			MaxLifetime: t.MaxLifetime.UTC().Format(time.RFC3339), IssueTimeLong: t.IssuedAt.UnixMilli(),
			ExpirationLong: t.ExpiresAt.UnixMilli(), MaxLifetimeLong: t.MaxLifetime.UnixMilli(),
			Metadata: metadata{UserName: t.Username, CreatedBy: t.CreatedBy, Comment: t.Comment, Enabled: t.Enabled, CustomMetadataMap: md}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

// listKnoxTokens lists the tokens of the users named userName and/or
// createdBy (all of the realm's when both are empty). A name means the user
// who holds it now: the caller's own name means the caller, by ID, and the
// tokens of an earlier user of that name belong to nobody who can list them.
func (s *Server) listKnoxTokens(ctx context.Context, g *gateway, userName, createdBy string) ([]store.KnoxToken, error) {
	ownerID := func(name string) (string, error) {
		if name == g.principal {
			if g.user == nil {
				return "", nil
			}
			return g.user.ID, nil
		}
		return g.rp.svc.KnoxOwnerID(ctx, g.rp.realm.ID, name)
	}
	var q store.KnoxTokenQuery
	for _, f := range []struct {
		name string
		id   *string
	}{{userName, &q.UserID}, {createdBy, &q.CreatedByID}} {
		if f.name == "" {
			continue
		}
		id, err := ownerID(f.name)
		if err != nil || id == "" {
			return nil, err
		}
		*f.id = id
	}
	return g.rp.svc.KnoxTokens(ctx, g.rp.realm.ID, q)
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
