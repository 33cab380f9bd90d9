package oidc

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

//go:embed pages/pages.html
var pageFS embed.FS

var pages = template.Must(template.ParseFS(pageFS, "pages/pages.html"))

// Login-page messages, in Keycloak's wording.
const (
	msgInvalidUserCredentials = "Invalid username or password."
	msgAccountDisabled        = "Account is disabled, contact your administrator."
	msgLoginTimeout           = "Your login attempt timed out. Login will start from the beginning."
	msgMissingPassword        = "Please specify password."
	msgPasswordMismatch       = "Passwords don't match."
	msgInternal               = "An internal server error has occurred"
)

// Cookies. The SSO cookie holds the session ID sealed under the master key
// (the bare ID is the token's sid, which applications see); the login
// cookie is a random value the forms' CSRF token is derived from.
const (
	ssoCookie   = "GATEHOUSE_IDENTITY"
	loginCookie = "GATEHOUSE_LOGIN"
	// loginLifespan bounds a login form and its update-password step
	// (Keycloak's accessCodeLifespanLogin default).
	loginLifespan = 30 * time.Minute
)

type formField struct{ Name, Value string }

type pageData struct {
	Title, Realm, Error, Info string
	Client, UserCode          string
	Action, CSRF, Auth        string
	Username, Pending         string
	Fields                    []formField
	// FormTarget is the validated client URI that the answer to the page's
	// form redirects to (redirect_uri, post_logout_redirect_uri): browsers
	// apply form-action to the redirects that follow a form post, so the
	// policy must allow its origin.
	FormTarget string
}

// page renders a page of the login UI for the realm.
func (s *Server) page(w http.ResponseWriter, r *http.Request, rp *realmProvider, status int, name string, d pageData) {
	d.Realm = rp.realm.DisplayName
	if d.Realm == "" {
		d.Realm = rp.realm.Name
	}
	if d.Title == "" {
		d.Title = "Sign in to " + d.Realm
	}
	if d.Error != "" && status >= 400 {
		noteError(w, "login_error", d.Error)
	}
	s.render(w, status, name, d, true)
}

func (s *Server) render(w http.ResponseWriter, status int, name string, d pageData, strict bool) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	if strict {
		// No script at all, and forms post only back here (and on to the
		// client the answer redirects to).
		formAction := "'self'"
		if src := cspSource(d.FormTarget); src != "" {
			formAction += " " + src
		}
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	} else {
		h.Set("Content-Security-Policy", "frame-ancestors 'none'; base-uri 'none'")
	}
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, d); err != nil {
		s.log.Error("render page", "page", name, "err", err)
	}
}

// cspSource is the CSP source expression of a URI's origin (scheme://host
// for http and https, scheme: for an app's own scheme), or "" when the URI
// has none or holds anything a policy could not carry verbatim.
func cspSource(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" || !cspSafe.MatchString(u.Scheme) {
		return ""
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" || !cspSafe.MatchString(u.Host) {
			return ""
		}
		return u.Scheme + "://" + u.Host
	}
	return u.Scheme + ":"
}

var cspSafe = regexp.MustCompile(`^[A-Za-z0-9.+\-:\[\]]+$`)

// realmPath is the cookie path of a realm: its cookies never reach
// another realm's pages.
func (s *Server) realmPath(realm string) string {
	return s.cfg.RelativePath + "/realms/" + realm + "/"
}

func (s *Server) secureCookies(r *http.Request) bool {
	return s.cfg.TLS || r.TLS != nil || strings.HasPrefix(s.cfg.Hostname, "https://")
}

func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, rp *realmProvider, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: s.realmPath(rp.realm.Name), MaxAge: maxAge,
		HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode,
	})
}

// csrfToken binds a form to the login cookie: a page that cannot read the
// cookie cannot compute the token.
func csrfToken(cookie string) string {
	h := sha256.Sum256([]byte("gatehouse login form\x00" + cookie))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// loginPage shows the login form with a fresh login cookie.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, rp *realmProvider, ar *authRequest, status int, msg, username string) {
	cookie, err := s.newLoginCookie(w, r, rp)
	if err != nil {
		s.page(w, r, rp, http.StatusInternalServerError, "error", pageData{Error: msgInternal})
		return
	}
	s.page(w, r, rp, status, "login", pageData{
		Error: msg, Action: s.realmPath(rp.realm.Name) + "login-actions/authenticate",
		CSRF: csrfToken(cookie), Auth: ar.raw.Encode(), Username: username, FormTarget: ar.redirectURI,
	})
}

// newLoginCookie sets a fresh login cookie and returns its value.
func (s *Server) newLoginCookie(w http.ResponseWriter, r *http.Request, rp *realmProvider) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	cookie := base64.RawURLEncoding.EncodeToString(b[:])
	s.setCookie(w, r, rp, loginCookie, cookie, int(loginLifespan.Seconds()))
	return cookie, nil
}

// ssoSession returns the live SSO session of the request's cookie and its
// user, who must still be allowed to sign in.
func (s *Server) ssoSession(r *http.Request, rp *realmProvider) (store.Session, store.User, bool) {
	ck, err := r.Cookie(ssoCookie)
	if err != nil {
		return store.Session{}, store.User{}, false
	}
	sealed, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return store.Session{}, store.User{}, false
	}
	id, err := rp.svc.Sealer().Open(sealed, ssoAAD(rp.realm.ID))
	if err != nil {
		return store.Session{}, store.User{}, false
	}
	ctx := r.Context()
	sess, err := rp.svc.SSOSession(ctx, rp.realm, string(id))
	if err != nil {
		return store.Session{}, store.User{}, false
	}
	u, err := rp.svc.TokenUser(ctx, rp.realm.ID, sess.UserID)
	if err != nil || !u.Enabled || realms.IssuedBeforeNotBefore(sess.AuthTime.Unix(), rp.realm, store.Client{}, u) {
		return store.Session{}, store.User{}, false
	}
	return sess, u, true
}

func ssoAAD(realmID string) []byte { return []byte("sso-cookie\x00" + realmID) }

// loginForm reads a login-actions POST: the form, the authorization request
// it continues (validated again), and whether its CSRF token matches the
// login cookie. A false ok means the answer was written.
func (s *Server) loginForm(w http.ResponseWriter, r *http.Request, rp *realmProvider) (url.Values, *authRequest, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if err := r.ParseForm(); err != nil {
		s.page(w, r, rp, http.StatusBadRequest, "error", pageData{Error: msgInvalidRequest})
		return nil, nil, false
	}
	f := r.PostForm
	raw, err := url.ParseQuery(f.Get("auth"))
	if err != nil {
		s.page(w, r, rp, http.StatusBadRequest, "error", pageData{Error: msgInvalidRequest})
		return nil, nil, false
	}
	ar, msg, aerr := s.parseAuthRequest(r, rp, raw)
	if msg != "" {
		s.page(w, r, rp, http.StatusBadRequest, "error", pageData{Error: msg})
		return nil, nil, false
	}
	if aerr != nil {
		s.authRedirectError(w, r, rp, ar, *aerr)
		return nil, nil, false
	}
	infoOf(r.Context()).client = ar.client.ClientID
	ck, err := r.Cookie(loginCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(csrfToken(ck.Value)), []byte(f.Get("csrf"))) != 1 {
		s.loginPage(w, r, rp, ar, http.StatusBadRequest, msgLoginTimeout, "")
		return nil, nil, false
	}
	return f, ar, true
}

// authenticate is POST /realms/{r}/login-actions/authenticate.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, rp *realmProvider) {
	f, ar, ok := s.loginForm(w, r, rp)
	if !ok {
		return
	}
	username := f.Get("username")
	u, err := rp.svc.AuthenticateUser(r.Context(), rp.realm, username, f.Get("password"), RemoteIP(r))
	switch {
	case errors.Is(err, realms.ErrUserNotFound), errors.Is(err, realms.ErrBadPassword):
		// A locked user reads the same: the lock must not confirm the
		// account exists.
		s.loginPage(w, r, rp, ar, http.StatusUnauthorized, msgInvalidUserCredentials, username)
	case errors.Is(err, realms.ErrUserDisabled):
		s.loginPage(w, r, rp, ar, http.StatusUnauthorized, msgAccountDisabled, username)
	case errors.Is(err, realms.ErrUserNotSetUp) && onlyUpdatePassword(u.RequiredActions):
		s.updatePasswordPage(w, r, rp, ar, f, u.ID, http.StatusOK, "")
	case errors.Is(err, realms.ErrUserNotSetUp):
		// Other required actions have no page here.
		s.loginPage(w, r, rp, ar, http.StatusBadRequest, "Account is not fully set up", username)
	case err != nil:
		s.log.Error("browser login", "realm", rp.realm.Name, "err", err)
		s.page(w, r, rp, http.StatusInternalServerError, "error", pageData{Error: msgInternal})
	default:
		s.completeLogin(w, r, rp, ar, u)
	}
}

// onlyUpdatePassword reports whether UPDATE_PASSWORD is the only
// pending required action (temporary passwords carry it; see SetPassword).
func onlyUpdatePassword(actions []string) bool {
	for _, a := range actions {
		if a != realms.RequiredActionUpdatePassword {
			return false
		}
	}
	return true
}

// pendingUpdate is what the update-password form carries, sealed: who
// proved their (temporary) password, to which login cookie, until when.
type pendingUpdate struct {
	UserID string `json:"u"`
	Login  string `json:"l"`
	Exp    int64  `json:"e"`
}

func pendingAAD(realmID string) []byte { return []byte("update-password\x00" + realmID) }

func (s *Server) updatePasswordPage(w http.ResponseWriter, r *http.Request, rp *realmProvider, ar *authRequest, f url.Values, userID string, status int, msg string) {
	ck, _ := r.Cookie(loginCookie) // loginForm checked it exists
	p, _ := json.Marshal(pendingUpdate{UserID: userID, Login: csrfToken(ck.Value), Exp: rp.now().Add(loginLifespan).Unix()})
	sealed, err := rp.svc.Sealer().Seal(p, pendingAAD(rp.realm.ID))
	if err != nil {
		s.page(w, r, rp, http.StatusInternalServerError, "error", pageData{Error: msgInternal})
		return
	}
	s.page(w, r, rp, status, "update-password", pageData{
		Title: "Update password", Error: msg, Action: s.realmPath(rp.realm.Name) + "login-actions/required-action",
		CSRF: f.Get("csrf"), Auth: ar.raw.Encode(), Pending: base64.RawURLEncoding.EncodeToString(sealed),
		FormTarget: ar.redirectURI,
	})
}

// requiredAction is POST /realms/{r}/login-actions/required-action: the
// new password replacing a temporary one.
func (s *Server) requiredAction(w http.ResponseWriter, r *http.Request, rp *realmProvider) {
	f, ar, ok := s.loginForm(w, r, rp)
	if !ok {
		return
	}
	var p pendingUpdate
	sealed, err := base64.RawURLEncoding.DecodeString(f.Get("pending"))
	if err == nil {
		var plain []byte
		if plain, err = rp.svc.Sealer().Open(sealed, pendingAAD(rp.realm.ID)); err == nil {
			err = json.Unmarshal(plain, &p)
		}
	}
	if err != nil || p.Login != f.Get("csrf") || rp.now().Unix() > p.Exp {
		s.loginPage(w, r, rp, ar, http.StatusBadRequest, msgLoginTimeout, "")
		return
	}
	pw, confirm := f.Get("password-new"), f.Get("password-confirm")
	switch {
	case pw == "":
		s.updatePasswordPage(w, r, rp, ar, f, p.UserID, http.StatusBadRequest, msgMissingPassword)
		return
	case pw != confirm:
		s.updatePasswordPage(w, r, rp, ar, f, p.UserID, http.StatusBadRequest, msgPasswordMismatch)
		return
	}
	ctx := r.Context()
	err = rp.svc.SetPassword(ctx, rp.realm.Name, p.UserID, pw, false)
	var verr *realms.ValidationError
	if errors.As(err, &verr) {
		s.updatePasswordPage(w, r, rp, ar, f, p.UserID, http.StatusBadRequest, verr.Message)
		return
	}
	if err != nil {
		s.log.Error("update password", "realm", rp.realm.Name, "err", err)
		s.page(w, r, rp, http.StatusInternalServerError, "error", pageData{Error: msgInternal})
		return
	}
	u, err := rp.svc.TokenUser(ctx, rp.realm.ID, p.UserID)
	if err != nil || !u.Enabled {
		s.loginPage(w, r, rp, ar, http.StatusBadRequest, msgLoginTimeout, "")
		return
	}
	s.completeLogin(w, r, rp, ar, u)
}

// completeLogin starts the SSO session of a user who has just signed in,
// sets its cookie and answers the authorization request.
func (s *Server) completeLogin(w http.ResponseWriter, r *http.Request, rp *realmProvider, ar *authRequest, u store.User) {
	sess, err := rp.svc.StartSSOSession(r.Context(), rp.realm, u.ID)
	if err == nil {
		var sealed []byte
		if sealed, err = rp.svc.Sealer().Seal([]byte(sess.ID), ssoAAD(rp.realm.ID)); err == nil {
			// A session cookie (no Max-Age): the server-side session
			// decides how long it lives.
			s.setCookie(w, r, rp, ssoCookie, base64.RawURLEncoding.EncodeToString(sealed), 0)
		}
	}
	if err != nil {
		s.log.Error("start SSO session", "realm", rp.realm.Name, "err", err)
		s.page(w, r, rp, http.StatusInternalServerError, "error", pageData{Error: msgInternal})
		return
	}
	if ar.device == nil {
		s.setCookie(w, r, rp, loginCookie, "", -1)
	}
	s.issueCode(w, r, rp, ar, sess, u)
}
