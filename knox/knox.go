package knox

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/gatehouse/gatehouse/internal/metrics"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// Tokens is the Knox domain (realms.KnoxService).
type Tokens interface {
	TopologyRealm(ctx context.Context, name string) (store.Topology, *realms.RealmState, error)
	Passcode(ctx context.Context, r store.Realm, passcode string) (store.KnoxToken, *store.User, error)
	IssueManaged(ctx context.Context, realmID string, t store.Topology, rec store.KnoxToken) (string, error)
	// The lifecycle calls decide who may do what (realms.KnoxCaller);
	// this package only maps their refusals to Knox's answers.
	RenewToken(ctx context.Context, realmID string, t store.Topology, c realms.KnoxCaller, id string) (time.Time, error)
	RevokeToken(ctx context.Context, realmID string, t store.Topology, c realms.KnoxCaller, id string) error
	SetTokenEnabled(ctx context.Context, r store.Realm, c realms.KnoxCaller, id string, enable bool) error
	ListTokens(ctx context.Context, r store.Realm, c realms.KnoxCaller, f realms.KnoxTokenFilter) ([]store.KnoxToken, error)
}

// Realms is what Knox needs of the realm service (realms.Service).
type Realms interface {
	AuthenticateUser(ctx context.Context, r store.Realm, username, password, ip string) (store.User, error)
	Metrics() metrics.Recorder
	Now() time.Time
}

// Verifier is what Knox needs of the protocol layer (oidc.Server).
type Verifier interface {
	VerifyGatewayBearer(ctx context.Context, st *realms.RealmState, token string) (oidc.Principal, error)
	VerifyRealmToken(ctx context.Context, st *realms.RealmState, token string) (oidc.Principal, error)
	KnoxTokenID(st *realms.RealmState, token string) (string, error)
	SignJWT(st *realms.RealmState, payload []byte) (string, error)
	Issuer(r *http.Request, realm string) string
}

// API serves the Knox token API.
type API struct {
	tokens   Tokens
	realms   Realms
	verifier Verifier
	log      *slog.Logger
}

// Mount registers the Knox routes on srv's router (below its relative
// path), served with srv's request log and guards.
func Mount(srv *oidc.Server, tokens Tokens, rs Realms, log *slog.Logger) *API {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &API{tokens: tokens, realms: rs, verifier: srv, log: log}
	a.routes(srv.Router)
	return a
}

func (a *API) routes(r *mux.Router) {
	for _, v := range []string{"v1", "v2"} {
		base := "/gateway/{topology}/knoxtoken/api/" + v
		r.HandleFunc(base+"/token", a.gatewayHandler(a.issue)).Methods(http.MethodGet, http.MethodPost)
		r.HandleFunc(base+"/jwks.json", a.jwks).Methods(http.MethodGet)
		r.HandleFunc(base+"/token/renew", a.gatewayHandler(a.renew)).Methods(http.MethodPost, http.MethodPut)
		r.HandleFunc(base+"/token/revoke", a.gatewayHandler(a.revoke)).Methods(http.MethodPost, http.MethodDelete)
		r.HandleFunc(base+"/token/enable", a.gatewayHandler(a.setEnabled(true))).Methods(http.MethodPost, http.MethodPut)
		r.HandleFunc(base+"/token/disable", a.gatewayHandler(a.setEnabled(false))).Methods(http.MethodPost, http.MethodPut)
		r.HandleFunc(base+"/token/getUserTokens", a.gatewayHandler(a.userTokens)).Methods(http.MethodGet)
		r.HandleFunc(base+"/getUserTokens", a.gatewayHandler(a.userTokens)).Methods(http.MethodGet)
	}
}

// gateway is one request's topology context.
type gateway struct {
	topo  store.Topology
	realm *realms.RealmState
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

func (g *gateway) realmID() string { return g.realm.Realm.ID }

// errInternal is the body of a 500 that is not a store failure.
var errInternal = map[string]string{"error": "server_error", "error_description": "Internal server error"}

// storeError logs a failed call and answers 503 (store cannot write now) or 500.
func (a *API) storeError(w http.ResponseWriter, g *gateway, op string, err error) {
	a.log.Error(op, "realm", g.realm.Realm.Name, "topology", g.topo.Name, "err", err)
	oidc.WriteStoreError(w, err)
}

// loadTopology resolves {topology} to itself and its realm, by the realm's
// ID: a renamed realm keeps its topologies.
func (a *API) loadTopology(w http.ResponseWriter, r *http.Request) (*gateway, bool) {
	name := mux.Vars(r)["topology"]
	notFound := func(desc string) (*gateway, bool) {
		oidc.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "Topology not found", "error_description": desc})
		return nil, false
	}
	if !realms.ValidRealmName(name) {
		return notFound("No topology named " + name)
	}
	t, st, err := a.tokens.TopologyRealm(r.Context(), name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound("No topology named " + name)
	case errors.Is(err, realms.ErrRealmNotFound):
		return notFound("The topology's realm does not exist")
	case err != nil:
		a.log.Error("load topology", "topology", name, "err", err)
		oidc.WriteStoreError(w, err)
		return nil, false
	}
	oidc.SetLogFields(r.Context(), st.Realm.Name, "")
	if !st.Realm.Enabled {
		oidc.WriteRealmDisabled(w)
		return nil, false
	}
	return &gateway{topo: t, realm: st}, true
}

func (a *API) jwks(w http.ResponseWriter, r *http.Request) {
	if g, ok := a.loadTopology(w, r); ok {
		oidc.WriteJSON(w, http.StatusOK, g.realm.Keys.JWKS)
	}
}

// gatewayHandler authenticates the caller with the topology's method before
// calling h. Failures are 401 with a challenge, as Knox's providers answer.
func (a *API) gatewayHandler(h func(http.ResponseWriter, *http.Request, *gateway)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		g, ok := a.loadTopology(w, r)
		if !ok {
			return
		}
		if err := a.authenticate(r, g); err != nil {
			if !errors.Is(err, oidc.ErrInvalidToken) {
				a.storeError(w, g, "gateway authentication", err)
				return
			}
			scheme := "Basic"
			if g.topo.Authentication == realms.AuthBearer {
				scheme = "Bearer"
			}
			desc := oidc.DeniedReason(err)
			if desc == "" {
				desc = "Authentication required"
			}
			w.Header().Set("WWW-Authenticate", scheme+` realm="`+g.topo.Name+`"`)
			oidc.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": desc})
			return
		}
		oidc.SetLogFields(r.Context(), g.realm.Realm.Name, g.principal)
		h(w, r, g)
	}
}

// authenticate establishes the principal: for basic topologies a realm
// user's password (or Basic "Passcode"/"Token" with a managed token's
// passcode or JWT), for bearer topologies a JWT of the realm or of one of
// its identity providers. A refused credential is oidc.ErrInvalidToken.
func (a *API) authenticate(r *http.Request, g *gateway) error {
	ctx := r.Context()
	if g.topo.Authentication == realms.AuthBearer {
		tok, ok := oidc.BearerToken(r)
		if !ok {
			return oidc.ErrInvalidToken
		}
		p, err := a.verifier.VerifyGatewayBearer(ctx, g.realm, tok)
		if err != nil {
			return err
		}
		g.principal, g.user, g.viaToken = p.Username, p.User, p.KnoxID
		return nil
	}
	// Knox's Basic credentials are not form-encoded (unlike OAuth client
	// credentials), so they are used as sent.
	user, pass, ok := r.BasicAuth()
	if !ok || user == "" {
		return oidc.ErrInvalidToken
	}
	switch strings.ToLower(user) {
	case "passcode":
		rec, u, err := a.tokens.Passcode(ctx, g.realm.Realm, pass)
		if errors.Is(err, realms.ErrKnoxInactive) {
			return oidc.ErrInvalidToken
		}
		if err != nil {
			return err
		}
		g.principal, g.user, g.viaToken = u.Username, u, rec.ID
		return nil
	case "token":
		p, err := a.verifier.VerifyRealmToken(ctx, g.realm, pass)
		if err != nil {
			return err
		}
		g.principal, g.user, g.viaToken = p.Username, p.User, p.KnoxID
		return nil
	}
	u, err := a.realms.AuthenticateUser(ctx, g.realm.Realm, user, pass, oidc.RemoteIP(r))
	switch {
	case errors.Is(err, realms.ErrUserNotFound), errors.Is(err, realms.ErrBadPassword),
		errors.Is(err, realms.ErrUserDisabled), errors.Is(err, realms.ErrUserNotSetUp):
		return oidc.ErrInvalidToken
	case err != nil:
		return err
	}
	g.principal, g.user, g.byPassword = u.Username, &u, true
	return nil
}

// claims is a Knox token JWT: Knox's claims plus iat, jti and
// preferred_username, signed with the realm's key.
type claims struct {
	Iss string `json:"iss"`
	Sub string `json:"sub"`
	// Aud is one audience as a string, several as an array, as in the
	// realm's other tokens.
	Aud               any    `json:"aud,omitempty"`
	Exp               int64  `json:"exp"`
	Iat               int64  `json:"iat"`
	Jti               string `json:"jti"`
	KnoxID            string `json:"knox.id"`
	Managed           string `json:"managed.token"`
	PreferredUsername string `json:"preferred_username"`
	// UserID binds the token to its realm user (absent for a principal
	// with no local user): sub is Knox's username, which a later user may
	// share.
	UserID string `json:"user_id,omitempty"`
}

func audience(auds []string) any {
	switch len(auds) {
	case 0:
		return nil
	case 1:
		return auds[0]
	}
	return auds
}

func badRequest(w http.ResponseWriter, desc string) {
	oidc.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": desc})
}

// issue is GET|POST …/knoxtoken/api/v1/token.
func (a *API) issue(w http.ResponseWriter, r *http.Request, g *gateway) {
	q := r.URL.Query()
	ttl, err := realms.ParseISODuration(g.topo.TTL)
	if err != nil {
		a.log.Error("topology ttl", "topology", g.topo.Name, "err", err)
		oidc.WriteJSON(w, http.StatusInternalServerError, errInternal)
		return
	}
	life := ttl
	if v := q.Get("lifespan"); v != "" {
		d, err := realms.ParseISODuration(v)
		if err != nil {
			badRequest(w, "lifespan: "+err.Error())
			return
		}
		// As Knox: a lifespan beyond the topology's ttl is capped to it.
		life = min(d, ttl)
	}
	meta := map[string]string{}
	for k, vs := range q {
		if name, ok := strings.CutPrefix(k, "md_"); ok && name != "" && len(vs) > 0 {
			if len(name) > 32 || len(vs[0]) > 256 || len(meta) >= 32 {
				badRequest(w, "metadata names are at most 32 and values 256 characters, 32 entries")
				return
			}
			meta[name] = vs[0]
		}
	}
	comment := q.Get("comment")
	if len(comment) > 256 {
		badRequest(w, "comment is at most 256 characters")
		return
	}
	now := a.realms.Now()
	exp := now.Add(life)
	tokenID := realms.NewID()
	passcode := ""
	if g.topo.Managed {
		// A managed token is bound to a realm user's ID; a principal with
		// no local user has nothing to bind it to.
		if g.user == nil {
			oidc.WriteJSON(w, http.StatusForbidden, map[string]string{"error": "Unable to get token - " + g.principal + " is not a user of this realm."})
			return
		}
		rec := store.KnoxToken{ID: tokenID, UserID: g.user.ID, Username: g.principal, CreatedByID: g.user.ID, CreatedBy: g.principal,
			IssuedAt: now, ExpiresAt: exp, Enabled: true, Comment: comment, Metadata: meta}
		passcode, err = a.tokens.IssueManaged(r.Context(), g.realmID(), g.topo, rec)
		if errors.Is(err, store.ErrLimitExceeded) {
			oidc.WriteJSON(w, http.StatusForbidden, map[string]string{"error": "Unable to get token - token limit exceeded."})
			return
		}
		if err != nil {
			a.storeError(w, g, "knox token", err)
			return
		}
	}
	managed := boolStr(g.topo.Managed)
	c := claims{Iss: a.verifier.Issuer(r, g.realm.Realm.Name), Sub: g.principal, Aud: audience(g.topo.Audiences),
		Exp: exp.Unix(), Iat: now.Unix(), Jti: tokenID, KnoxID: tokenID, Managed: managed, PreferredUsername: g.principal}
	if g.user != nil {
		c.UserID = g.user.ID
	}
	payload, err := json.Marshal(&c)
	if err != nil {
		oidc.WriteJSON(w, http.StatusInternalServerError, errInternal)
		return
	}
	jwt, err := a.verifier.SignJWT(g.realm, payload)
	if err != nil {
		a.log.Error("sign knox token", "err", err)
		oidc.WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": "Unable to acquire token."})
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
	oidc.WriteJSON(w, http.StatusOK, out)
	a.realms.Metrics().TokenIssued(g.realm.Realm.Name, "knox")
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
