package oidc

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// grantUMATicket asks for authorization decisions of a resource server
// (Keycloak's Authorization Services at the token endpoint).
const grantUMATicket = "urn:ietf:params:oauth:grant-type:uma-ticket"

// response_mode values of the UMA grant.
const (
	umaModeDecision    = "decision"
	umaModePermissions = "permissions"
)

// Keycloak's answers of the UMA grant.
var (
	errUMAInvalidBearer   = oauthErr(401, "invalid_grant", "Invalid bearer token")
	errUMAInvalidIdentity = oauthErr(400, "unauthorized_client", "Invalid identity")
	errUMANoAudience      = oauthErr(400, "invalid_request", "You must provide the issuedFor")
	errUMAResponseMode    = oauthErr(400, "invalid_request", "Invalid response_mode")
	errUMANoPermissions   = oauthErr(400, "invalid_request", "Client does not support permissions")
	errUMANotAuthorized   = oauthErr(403, "access_denied", "not_authorized")
	errUMABearerSecret    = oauthErr(400, "invalid_request", "client_secret cannot be sent with a bearer token")
	errUMABearerClient    = oauthErr(400, "invalid_request", "client_id does not name the client of the bearer token")
	errUMAEvaluation      = oauthErr(500, "server_error", "Unexpected error while evaluating permissions")
)

func errUMAUnknownServer(aud string) *fosite.RFC6749Error {
	return oauthErr(400, "invalid_request", "Unknown resource server id: ["+aud+"]")
}

func errUMAInvalidResource(ref string) *fosite.RFC6749Error {
	return oauthErr(400, "invalid_resource", "Resource with id ["+ref+"] does not exist.")
}

func errUMAInvalidScope(scopes []string) *fosite.RFC6749Error {
	return oauthErr(400, "invalid_scope", "One of the given scopes ["+strings.Join(scopes, ", ")+"] is invalid")
}

// umaUnsupported are UMA grant parameters Keycloak knows that Gatehouse
// does not serve (permission tickets, pushed claims, RPT upgrades, URI
// matching, extra scopes): refused rather than ignored, so that no caller
// takes a decision made without them for one made with them.
// submit_request is not among them: it means something only with a
// ticket (Keycloak ignores it otherwise), and client libraries send it.
var umaUnsupported = []string{
	"ticket", "claim_token", "claim_token_format", "pct", "rpt",
	"permission_resource_format", "permission_resource_matching_uri", "scope",
}

// umaIdentity is whom a UMA request asks for, and what an RPT for it would
// be bound to.
type umaIdentity struct {
	user store.User
	// client is the client an RPT is issued to (its azp): the client of the
	// presented token, or the authenticated client. Nil when the caller
	// presented only an API key: the resource server then is the client.
	client *store.Client
	// scopes of the presented token; nil takes the client's defaults.
	scopes []string
	sid    string
	// apiKeyID binds an RPT to the API key it was asked with.
	apiKeyID string
	// notAfter is when the presented credential ends; no RPT outlives it.
	notAfter time.Time
}

// umaTicket is the UMA grant: decisions (response_mode=decision), the
// granted permissions (response_mode=permissions) or an RPT (no response
// mode) for the resource server named by audience. The rules live in
// realms.Service.Evaluate; this only resolves who asks and renders the
// answer in Keycloak's shapes.
func (s *Server) umaTicket(w http.ResponseWriter, r *http.Request, rp *realmProvider, f form) {
	ctx := r.Context()
	var sess *session
	var clientID string
	fail := func(e *fosite.RFC6749Error) {
		s.tokenEvent(rp, r, grantUMATicket, clientID, f, sess, e)
		if e.CodeField >= 500 {
			s.log.Error("uma-ticket grant", "realm", rp.realm.Name, "err", e.Cause())
		}
		reason := reasonOf(e)
		if e.ErrorField == errUMAInvalidResource("").ErrorField {
			// The description echoes the reference, which may be an
			// access key: the log keeps only the cause.
			reason = "no such resource (ID, name or current access key)"
		}
		writeOAuthErrorReason(w, e, reason)
	}
	id, err := s.umaCaller(ctx, rp, r, f)
	if err != nil {
		clientID = infoOf(ctx).client
		fail(err)
		return
	}
	if id.client != nil {
		clientID = id.client.ClientID
		infoOf(ctx).client = clientID
	}
	sess = newSession(s.issuer(r, rp.realm.Name), store.Client{ClientID: clientID})
	sess.grant.user = id.user
	sess.grant.sid = id.sid
	opts, err := parseUMAOptions(f)
	if err != nil {
		fail(err)
		return
	}
	rs, err := rp.umaResourceServer(ctx, f.values["audience"])
	if err != nil {
		fail(err)
		return
	}
	reqs, err := parsePermissions(f.values["permission"])
	if err != nil {
		fail(err)
		return
	}
	if err := s.umaKnownScopes(ctx, rp, rs, reqs); err != nil {
		fail(err)
		return
	}
	subject := realms.AuthzSubject{UserID: id.user.ID}
	if id.client != nil {
		subject.ClientID = id.client.ID
	}
	granted, eerr := s.svc.Evaluate(ctx, rp.realm.ID, rs.ID, subject, reqs)
	if errors.Is(eerr, realms.ErrUnknownResource) {
		fail(errUMAInvalidResource(s.unknownResourceRef(ctx, rp, rs, subject, reqs)))
		return
	}
	if err := umaEvalErr(eerr); err != nil {
		fail(err)
		return
	}
	if len(granted) == 0 {
		fail(errUMANotAuthorized)
		return
	}
	if opts.limit > 0 && len(granted) > opts.limit {
		granted = granted[:opts.limit]
	}
	perms := umaPermissions(granted, opts.includeName)
	switch opts.mode {
	case umaModeDecision:
		writeJSON(w, http.StatusOK, map[string]bool{"result": true})
	case umaModePermissions:
		writeJSON(w, http.StatusOK, perms)
	default:
		if err := s.mintRPT(ctx, w, rp, sess, id, rs, perms); err != nil {
			fail(err)
			return
		}
		s.svc.Metrics().TokenIssued(rp.realm.Name, grantUMATicket)
	}
	s.tokenEvent(rp, r, grantUMATicket, clientID, f, sess, nil)
}

// umaOptions are how the caller wants the answer.
type umaOptions struct {
	mode        string // "", umaModeDecision or umaModePermissions
	includeName bool
	limit       int // 0: no limit
}

// parseUMAOptions checks the request's parameters other than the caller,
// audience and permissions: no duplicates, none Gatehouse does not serve,
// and well-formed answer options.
func parseUMAOptions(f form) (umaOptions, *fosite.RFC6749Error) {
	o := umaOptions{mode: f.get("response_mode"), includeName: true}
	if f.dup != "" {
		return o, errDuplicatedParameter
	}
	for _, p := range umaUnsupported {
		if f.values.Has(p) {
			return o, oauthErr(400, "invalid_request", "Parameter '"+p+"' is not supported")
		}
	}
	if o.mode != "" && o.mode != umaModeDecision && o.mode != umaModePermissions {
		return o, errUMAResponseMode
	}
	if _, err := boolParam(f.get("submit_request"), "submit_request"); err != nil {
		return o, fosite.ErrorToRFC6749Error(err)
	}
	if v := f.get("response_include_resource_name"); v != "" {
		b, err := boolParam(v, "response_include_resource_name")
		if err != nil {
			return o, fosite.ErrorToRFC6749Error(err)
		}
		o.includeName = b
	}
	if v := f.get("response_permissions_limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return o, oauthErr(400, "invalid_request", "response_permissions_limit must be a positive integer")
		}
		o.limit = n
	}
	return o, nil
}

// umaCaller resolves who asks: the bearer credential of the request (an
// access token of the realm or an API key), or else the authenticated
// client, for the subject_token it presents or for its own service
// account.
func (s *Server) umaCaller(ctx context.Context, rp *realmProvider, r *http.Request, f form) (*umaIdentity, *fosite.RFC6749Error) {
	if tok, ok := bearerToken(r); ok {
		id, err := rp.umaSubject(ctx, tok, false, RemoteIP(r), errUMAInvalidBearer)
		if err != nil {
			return nil, err
		}
		// Browser adapters also send their client_id: it may only name
		// the client the token was issued to. A secret has no place here.
		if f.values.Has("client_secret") {
			return nil, errUMABearerSecret
		}
		if cid := f.get("client_id"); cid != "" && (id.client == nil || id.client.ClientID != cid) {
			return nil, errUMABearerClient
		}
		return id, nil
	}
	c, cerr := s.authenticateClient(ctx, rp, r, f)
	if cerr != nil {
		return nil, cerr
	}
	if c.BearerOnly {
		return nil, errBearerOnly
	}
	if subject := f.get("subject_token"); subject != "" {
		apiKey := false
		switch f.get("subject_token_type") {
		case "", tokenTypeAccessToken, tokenTypeJWT:
		case tokenTypeAPIKey:
			apiKey = true
		default:
			return nil, errBadSubjectTokenType // the token exchange grant's answer
		}
		id, err := rp.umaSubject(ctx, subject, apiKey, RemoteIP(r), errUMAInvalidIdentity)
		if err == nil && id.client == nil {
			id.client = &c
		}
		return id, err
	}
	u, err := rp.serviceAccountOf(ctx, c)
	if err != nil {
		return nil, fosite.ErrorToRFC6749Error(err)
	}
	return &umaIdentity{user: u, client: &c}, nil
}

// umaSubject verifies a presented credential: an API key (asKey, or a
// bearer that looks like one) or an access token of the realm. Every
// refusal is invalid.
func (rp *realmProvider) umaSubject(ctx context.Context, cred string, asKey bool, ip string, invalid *fosite.RFC6749Error) (*umaIdentity, *fosite.RFC6749Error) {
	if asKey || realms.LooksLikeAPIKey(cred) {
		k, u, err := rp.apiKeyUser(ctx, cred, ip)
		if errors.Is(err, errInactive) {
			return nil, invalid
		}
		if err != nil {
			return nil, fosite.ErrorToRFC6749Error(storeErr(err))
		}
		return &umaIdentity{user: u, apiKeyID: k.ID, notAfter: k.ExpiresAt}, nil
	}
	at, err := rp.validateAccessToken(ctx, cred)
	if errors.Is(err, errInactive) {
		return nil, invalid
	}
	if err != nil {
		return nil, fosite.ErrorToRFC6749Error(storeErr(err))
	}
	c := at.client
	return &umaIdentity{
		user: at.user, client: &c, scopes: strings.Fields(at.claims.Scope), sid: at.claims.Sid,
		apiKeyID: at.claims.APIKeyID, notAfter: time.Unix(at.claims.Exp, 0),
	}, nil
}

// umaResourceServer is the client named by audience, which must be a
// resource server of the realm.
func (rp *realmProvider) umaResourceServer(ctx context.Context, audience []string) (store.Client, *fosite.RFC6749Error) {
	if len(audience) == 0 || audience[0] == "" {
		return store.Client{}, errUMANoAudience
	}
	if len(audience) > 1 {
		return store.Client{}, errDuplicatedParameter
	}
	aud := audience[0]
	c, err := rp.svc.ClientByClientID(ctx, rp.realm.ID, aud)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !c.Enabled) {
		return store.Client{}, errUMAUnknownServer(aud)
	}
	if err != nil {
		return store.Client{}, fosite.ErrorToRFC6749Error(storeErr(err))
	}
	if c.Authorization == nil {
		return store.Client{}, errUMANoPermissions
	}
	return c, nil
}

// parsePermissions reads the permission parameters: RESOURCE,
// RESOURCE#SCOPE1,SCOPE2 or #SCOPE (any resource with the scope). A
// resource is named by its ID, its name or its access key.
func parsePermissions(values []string) ([]realms.PermissionRequest, *fosite.RFC6749Error) {
	var out []realms.PermissionRequest
	for _, v := range values {
		res, scopes, hasScopes := strings.Cut(v, "#")
		p := realms.PermissionRequest{Resource: res}
		if realms.LooksLikeResourceAccessKey(res) {
			p = realms.PermissionRequest{AccessKey: res}
		}
		if hasScopes {
			for _, sc := range strings.Split(scopes, ",") {
				if sc = strings.TrimSpace(sc); sc != "" {
					p.Scopes = append(p.Scopes, sc)
				}
			}
		}
		if res == "" && len(p.Scopes) == 0 {
			return nil, oauthErr(400, "invalid_request", "Invalid permission: "+strconv.Quote(v))
		}
		out = append(out, p)
	}
	return out, nil
}

// umaKnownScopes refuses, as Keycloak does, a permission none of whose
// scopes the resource server knows; one that names some known scopes is
// decided for those.
func (s *Server) umaKnownScopes(ctx context.Context, rp *realmProvider, rs store.Client, reqs []realms.PermissionRequest) *fosite.RFC6749Error {
	var known map[string]bool
	for _, req := range reqs {
		if len(req.Scopes) == 0 {
			continue
		}
		if known == nil {
			list, err := s.svc.ListScopes(ctx, rp.realm.ID, rs.ID, "", store.Page{Max: math.MaxInt32})
			if err != nil {
				return fosite.ErrorToRFC6749Error(storeErr(err))
			}
			known = make(map[string]bool, 2*len(list))
			for _, sc := range list {
				known[sc.Name], known[sc.ID] = true, true
			}
		}
		if !slices.ContainsFunc(req.Scopes, func(n string) bool { return known[n] }) {
			return errUMAInvalidScope(req.Scopes)
		}
	}
	return nil
}

// umaEvalErr maps an evaluation failure to Keycloak's answer.
func umaEvalErr(err error) *fosite.RFC6749Error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrUnavailable) {
		return errUnavailable.WithWrap(err)
	}
	return errUMAEvaluation.WithWrap(err)
}

// unknownResourceRef finds, for Keycloak's error message, the first
// requested resource the server does not know: the evaluation says only
// that one is unknown. This runs on the error path alone.
func (s *Server) unknownResourceRef(ctx context.Context, rp *realmProvider, rs store.Client, subject realms.AuthzSubject, reqs []realms.PermissionRequest) string {
	for _, req := range reqs {
		if req.Resource == "" && req.AccessKey == "" {
			continue
		}
		_, err := s.svc.Evaluate(ctx, rp.realm.ID, rs.ID, subject, []realms.PermissionRequest{req})
		if errors.Is(err, realms.ErrUnknownResource) {
			return req.Resource + req.AccessKey
		}
	}
	return ""
}

// umaPermission is a granted permission as Keycloak renders it, in the
// permissions answer and in an RPT's authorization.permissions.
type umaPermission struct {
	RSID   string   `json:"rsid,omitempty"`
	RSName string   `json:"rsname,omitempty"`
	Scopes []string `json:"scopes,omitempty"`
}

func umaPermissions(granted []realms.GrantedPermission, includeName bool) []umaPermission {
	out := make([]umaPermission, 0, len(granted))
	for _, g := range granted {
		p := umaPermission{RSID: g.ResourceID, Scopes: g.Scopes}
		if includeName {
			p.RSName = g.ResourceName
		}
		out = append(out, p)
	}
	return out
}

// rptAuthorization is an RPT's authorization claim.
type rptAuthorization struct {
	Permissions []umaPermission `json:"permissions"`
}

// mintRPT answers with an RPT: an access token of the caller's client (or
// of the resource server for a bare API key) for the caller's user, with
// the resource server in its audience and the granted permissions in
// authorization.permissions, signed like every access token. It carries the
// presented token's session and API key, so it ends with them, and never
// outlives the presented credential. No refresh token is issued.
func (s *Server) mintRPT(ctx context.Context, w http.ResponseWriter, rp *realmProvider, sess *session, id *umaIdentity, rs store.Client, perms []umaPermission) *fosite.RFC6749Error {
	g := &sess.grant
	g.client = rs
	if id.client != nil {
		g.client = *id.client
	}
	g.scopes = id.scopes
	if g.scopes == nil {
		sc, _, err := rp.svc.SelectScopes(ctx, rp.realm, g.client, "")
		if err != nil {
			return fosite.ErrorToRFC6749Error(scopeErr(err))
		}
		g.scopes = sc
	}
	g.apiKeyID = id.apiKeyID
	g.notAfter = id.notAfter
	g.rpt = &rptClaims{audience: rs.ClientID, authorization: rptAuthorization{Permissions: perms}}
	resp := fosite.NewAccessResponse()
	now := rp.now()
	if !id.notAfter.IsZero() && !id.notAfter.After(now) {
		return errUMAInvalidBearer
	}
	if err := rp.minter.mint(ctx, g, resp, now, false); err != nil {
		return fosite.ErrorToRFC6749Error(errServerError.WithWrap(err))
	}
	out := resp.ToMap()
	out["upgraded"] = false
	writeJSON(w, http.StatusOK, out)
	return nil
}
