package oidc

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// Authorization endpoint pages: refusals shown to the user (never
// redirected, since the redirect target is not trusted yet), in Keycloak's
// wording.
const (
	msgClientNotFound    = "Client not found."
	msgClientDisabled    = "Client disabled."
	msgBearerOnlyBrowser = "Bearer-only applications are not allowed to initiate browser login."
	msgInvalidRedirect   = "Invalid parameter: redirect_uri"
	msgInvalidRequest    = "Invalid Request"
)

// authRequest is a validated authorization request. raw is what the client
// sent: the login forms carry it along and every step validates it again,
// so nothing the browser posts back is trusted more than the original.
type authRequest struct {
	raw    url.Values
	client store.Client
	// redirectURI is where the answer goes; redirectParam is the
	// redirect_uri parameter as sent ("" when absent), which the token
	// request must repeat.
	redirectURI, redirectParam string
	responseMode               string
	state, nonce, loginHint    string
	scopes                     []string
	codeChallenge              string
	prompt                     string
	maxAge                     int // -1: absent
	// device, when set, makes this the browser half of a device
	// authorization: no redirect, the user approves the device instead.
	device *store.DeviceCode
}

// authError is a refusal of a request whose redirect URI is trusted: it is
// sent to the client in the requested response mode.
type authError struct{ code, description string }

// authorize is GET|POST P/auth.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, rp *realmProvider) {
	var raw url.Values
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		if err := r.ParseForm(); err != nil {
			s.page(w, r, rp, http.StatusBadRequest, "error", pageData{Error: msgInvalidRequest})
			return
		}
		raw = r.PostForm
	} else {
		raw = r.URL.Query()
	}
	if raw.Has(deviceUserCodeParam) {
		// Device approvals start at the device page only.
		s.page(w, r, rp, http.StatusBadRequest, "error", pageData{Error: msgInvalidRequest})
		return
	}
	ar, msg, aerr := s.parseAuthRequest(r, rp, raw)
	if msg != "" {
		s.page(w, r, rp, http.StatusBadRequest, "error", pageData{Error: msg})
		return
	}
	if aerr != nil {
		s.authRedirectError(w, r, rp, ar, *aerr)
		return
	}
	ctx := r.Context()
	if sess, u, ok := s.ssoSession(r, rp); ok {
		if ar.prompt != "login" && (ar.maxAge < 0 || rp.now().Sub(sess.AuthTime).Seconds() <= float64(ar.maxAge)) {
			infoOf(ctx).client = ar.client.ClientID
			if err := rp.svc.TouchSSOSession(ctx, rp.realm.ID, sess.ID); err != nil {
				// The session ended or expired since it was read.
				s.log.Info("SSO session not touched", "realm", rp.realm.Name, "err", err)
			} else {
				s.issueCode(w, r, rp, ar, sess, u)
				return
			}
		}
	}
	if ar.prompt == "none" {
		s.authRedirectError(w, r, rp, ar, authError{"login_required", "Login required"})
		return
	}
	s.loginPage(w, r, rp, ar, http.StatusOK, "", ar.loginHint)
}

// parseAuthRequest validates raw. A non-empty msg means the client or its
// redirect URI cannot be trusted: the user sees msg and is not redirected.
// Otherwise aerr, when set, goes to the client's redirect URI.
func (s *Server) parseAuthRequest(r *http.Request, rp *realmProvider, raw url.Values) (*authRequest, string, *authError) {
	if raw.Has(deviceUserCodeParam) {
		return s.parseDeviceRequest(r, rp, raw)
	}
	ar := &authRequest{raw: raw, maxAge: -1}
	clientID := raw.Get("client_id")
	if clientID == "" {
		return nil, msgClientNotFound, nil
	}
	c, err := rp.svc.ClientByClientID(r.Context(), rp.realm.ID, clientID)
	if err != nil {
		return nil, msgClientNotFound, nil
	}
	if !c.Enabled {
		return nil, msgClientDisabled, nil
	}
	if c.BearerOnly {
		return nil, msgBearerOnlyBrowser, nil
	}
	ar.client = c
	ar.redirectParam = raw.Get("redirect_uri")
	ar.redirectURI = matchRedirectURI(ar.redirectParam, c.RedirectURIs, s.baseURL(r))
	if ar.redirectURI == "" {
		return nil, msgInvalidRedirect, nil
	}
	// From here on the client can be told.
	ar.state = raw.Get("state")
	ar.responseMode = raw.Get("response_mode")
	switch ar.responseMode {
	case "":
		ar.responseMode = "query"
	case "query", "fragment", "form_post":
	default:
		ar.responseMode = "query"
		return ar, "", &authError{"invalid_request", "Invalid parameter: response_mode"}
	}
	for k, v := range raw {
		if len(v) > 1 {
			return ar, "", &authError{"invalid_request", "duplicated parameter: " + k}
		}
	}
	if raw.Get("request") != "" || raw.Get("request_uri") != "" {
		return ar, "", &authError{"request_not_supported", "Request objects are not supported"}
	}
	rt := raw.Get("response_type")
	if rt == "" {
		return ar, "", &authError{"invalid_request", "Missing parameter: response_type"}
	}
	if rt != "code" {
		return ar, "", &authError{"unsupported_response_type", "Client is not allowed to initiate browser login with given response_type. Only the code flow is supported."}
	}
	if !c.StandardFlowEnabled {
		return ar, "", &authError{"unauthorized_client", "Client is not allowed to initiate browser login with given response_type. Standard flow is disabled for the client."}
	}
	if c.ConsentRequired {
		// There is no consent screen: signing in without the consent the
		// client was configured to ask for would be worse than refusing.
		return ar, "", &authError{"unauthorized_client", "Client requires user consent"}
	}
	scopes, _, err := rp.svc.SelectScopes(r.Context(), rp.realm, c, raw.Get("scope"))
	var inv *realms.InvalidScopeError
	if errors.As(err, &inv) {
		return ar, "", &authError{"invalid_scope", "Invalid scopes: " + inv.Requested}
	}
	if err != nil {
		return ar, "", &authError{"server_error", "Internal server error"}
	}
	ar.scopes = scopes
	ar.nonce = raw.Get("nonce")
	ar.loginHint = raw.Get("login_hint")
	ar.prompt = raw.Get("prompt")
	switch ar.prompt {
	case "", "none", "login":
	default:
		return ar, "", &authError{"invalid_request", "Invalid parameter: prompt"}
	}
	if v := raw.Get("max_age"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return ar, "", &authError{"invalid_request", "Invalid parameter: max_age"}
		}
		ar.maxAge = n
	}
	method, challenge := raw.Get("code_challenge_method"), raw.Get("code_challenge")
	switch {
	case challenge == "" && method == "":
		// Public clients cannot keep a secret, so the verifier is the
		// only thing tying a code to whoever asked for it.
		if c.PublicClient {
			return ar, "", &authError{"invalid_request", "Missing parameter: code_challenge_method"}
		}
	case method != "S256":
		// plain would put the verifier in the browser's history.
		return ar, "", &authError{"invalid_request", "Invalid parameter: code_challenge_method"}
	case !validPKCEValue(challenge) || len(challenge) != 43:
		return ar, "", &authError{"invalid_request", "Invalid parameter: code_challenge"}
	}
	ar.codeChallenge = challenge
	return ar, "", nil
}

// matchRedirectURI returns the URI to answer to, or "" when requested is
// not registered. Keycloak's rule: an exact match, or a registered value
// ending in * matching every URI it prefixes. Without a redirect_uri, a
// client with exactly one registered URI (without wildcard) uses it. A
// registered path ("/admin/...") is on this server: base is prepended.
func matchRedirectURI(requested string, registered []string, base string) string {
	abs := func(reg string) string {
		if strings.HasPrefix(reg, "/") && !strings.HasPrefix(reg, "//") {
			return base + reg
		}
		return reg
	}
	if requested == "" {
		if len(registered) == 1 && !strings.HasSuffix(registered[0], "*") {
			return abs(registered[0])
		}
		return ""
	}
	u, err := url.Parse(requested)
	if err != nil || u.Scheme == "" || u.Fragment != "" || strings.ContainsAny(requested, " \t\r\n#\\") {
		return ""
	}
	// Dot segments could climb out of a wildcard's prefix once resolved.
	if strings.Contains(u.EscapedPath(), "/..") || strings.Contains(u.EscapedPath(), "/./") {
		return ""
	}
	for _, reg := range registered {
		reg = abs(reg)
		if reg == requested {
			return requested
		}
		if prefix, ok := strings.CutSuffix(reg, "*"); ok && strings.HasPrefix(requested, prefix) {
			return requested
		}
	}
	return ""
}

// validPKCEValue: RFC 7636's unreserved characters, 43 to 128 of them.
func validPKCEValue(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, ch := range v {
		if !(ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || strings.ContainsRune("-._~", ch)) {
			return false
		}
	}
	return true
}

// s256 is the S256 code challenge of a verifier.
func s256(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// issueCode stores a code for the SSO session and sends it to the client.
func (s *Server) issueCode(w http.ResponseWriter, r *http.Request, rp *realmProvider, ar *authRequest, sess store.Session, u store.User) {
	if ar.device != nil {
		s.deviceConsentPage(w, r, rp, ar, http.StatusOK)
		return
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		s.page(w, r, rp, http.StatusInternalServerError, "error", pageData{Error: msgInternal})
		return
	}
	code := base64.RawURLEncoding.EncodeToString(b[:])
	now := rp.now()
	err := rp.svc.IssueAuthCode(r.Context(), rp.realm.ID, store.AuthCode{
		Hash: codeHash(code), ClientID: ar.client.ID, UserID: u.ID, SessionID: sess.ID,
		RedirectURI: ar.redirectParam, Scope: strings.Join(ar.scopes, " "), Nonce: ar.nonce,
		CodeChallenge: ar.codeChallenge, IssuedAt: now, ExpiresAt: now.Add(realms.AuthCodeLifespan),
	})
	if err != nil {
		s.log.Error("issue authorization code", "realm", rp.realm.Name, "err", err)
		s.page(w, r, rp, http.StatusInternalServerError, "error", pageData{Error: msgInternal})
		return
	}
	s.authRespond(w, r, rp, ar, [][2]string{{"code", code}, {"session_state", sess.ID}})
}

// codeHash is the store key of an authorization code.
func codeHash(code string) string {
	h := sha256.Sum256([]byte(code))
	return hex.EncodeToString(h[:])
}

func (s *Server) authRedirectError(w http.ResponseWriter, r *http.Request, rp *realmProvider, ar *authRequest, e authError) {
	noteError(w, e.code, e.description)
	s.authRespond(w, r, rp, ar, [][2]string{{"error", e.code}, {"error_description", e.description}})
}

// authRespond sends params (with state and iss) to the client's redirect
// URI in the request's response mode.
func (s *Server) authRespond(w http.ResponseWriter, r *http.Request, rp *realmProvider, ar *authRequest, params [][2]string) {
	if ar.state != "" {
		params = append(params, [2]string{"state", ar.state})
	}
	params = append(params, [2]string{"iss", s.issuer(r, rp.realm.Name)})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if ar.responseMode == "form_post" {
		fields := make([]formField, len(params))
		for i, p := range params {
			fields[i] = formField{p[0], p[1]}
		}
		s.render(w, http.StatusOK, "form-post", pageData{Action: ar.redirectURI, Fields: fields}, false)
		return
	}
	v := url.Values{}
	for _, p := range params {
		v.Set(p[0], p[1])
	}
	target := ar.redirectURI
	if ar.responseMode == "fragment" {
		target += "#" + v.Encode()
	} else if strings.Contains(target, "?") {
		target += "&" + v.Encode()
	} else {
		target += "?" + v.Encode()
	}
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusFound)
}

// clientAllowsPostLogout reports whether uri is one of the client's
// post-logout redirect URIs: the attribute post.logout.redirect.uris
// ("##"-separated; "+" stands for the redirect URIs), or the redirect URIs
// when the attribute is absent.
func clientAllowsPostLogout(c store.Client, uri, base string) bool {
	attr, ok := c.Attributes[realms.AttrPostLogoutRedirectURIs]
	var allowed []string
	if !ok {
		allowed = c.RedirectURIs
	} else {
		for _, v := range strings.Split(attr, "##") {
			if v == "+" {
				allowed = append(allowed, c.RedirectURIs...)
			} else if v != "" {
				allowed = append(allowed, v)
			}
		}
	}
	return uri != "" && matchRedirectURI(uri, allowed, base) != ""
}
