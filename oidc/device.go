package oidc

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

const grantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// deviceUserCodeParam marks the login forms of a device authorization.
const deviceUserCodeParam = "device_user_code"

// Device grant errors (RFC 8628 codes, Keycloak's descriptions).
var (
	errDeviceGrantOff     = oauthErr(400, "unauthorized_client", "Client is not allowed to initiate OAuth 2.0 Device Authorization Grant. The flow is disabled for the client.")
	errMissingDeviceCode  = oauthErr(400, "invalid_request", "Missing parameter: device_code")
	errDeviceCodeInvalid  = oauthErr(400, "invalid_grant", "Device code not valid")
	errDeviceCodeExpired  = oauthErr(400, "expired_token", "Device code is expired")
	errDevicePending      = oauthErr(400, "authorization_pending", "The authorization request is still pending")
	errDeviceSlowDown     = oauthErr(400, "slow_down", "Slow down")
	errDeviceDenied       = oauthErr(400, "access_denied", "The end user denied the authorization request")
	msgInvalidUserCode    = "Invalid code, please try again."
	msgDeviceLoginSuccess = "Device Login Successful"
	msgDeviceLoginDenied  = "Device login denied"
)

// userCodeAlphabet has no vowels (no words) and no look-alike digits.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// newUserCode returns 8 characters (about 34 bits): guessing one of the few
// live codes in its 10 minutes takes far more requests than brute-force
// throttles and logs allow to go unnoticed.
func newUserCode() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	out := make([]byte, 8)
	for i, x := range b {
		// 256 is not a multiple of 20; the bias (a few per cent towards
		// the first letters) costs well under a bit.
		out[i] = userCodeAlphabet[int(x)%len(userCodeAlphabet)]
	}
	return string(out), nil
}

// normalizeUserCode accepts what users type: any case, with or without
// the dash and spaces.
func normalizeUserCode(v string) string {
	v = strings.ToUpper(v)
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, v)
}

func displayUserCode(c string) string {
	if len(c) != 8 {
		return c
	}
	return c[:4] + "-" + c[4:]
}

// deviceAuthorization is POST P/auth/device.
func (s *Server) deviceAuthorization(w http.ResponseWriter, r *http.Request, rp *realmProvider) {
	f, c, ok := s.clientForm(w, r, rp, nil)
	if !ok {
		return
	}
	if c.BearerOnly {
		writeOAuthError(w, errBearerOnly)
		return
	}
	if c.Attributes[realms.AttrDeviceGrantEnabled] != "true" {
		writeOAuthError(w, errDeviceGrantOff)
		return
	}
	scopes, _, scopeFail := rp.svc.SelectScopes(r.Context(), rp.realm, c, f.get("scope"))
	var inv *realms.InvalidScopeError
	if errors.As(scopeFail, &inv) {
		writeOAuthError(w, errInvalidScope(inv.Requested))
		return
	}
	if scopeFail != nil {
		s.serverError(w, rp, "device authorization", scopeFail)
		return
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		s.serverError(w, rp, "device authorization", err)
		return
	}
	deviceCode := base64.RawURLEncoding.EncodeToString(b[:])
	now := rp.now()
	var userCode string
	var err error
	// A clash with a live user code is rare; try a few times.
	for range 3 {
		if userCode, err = newUserCode(); err != nil {
			break
		}
		err = rp.svc.CreateDeviceCode(r.Context(), rp.realm.ID, store.DeviceCode{
			Hash: codeHash(deviceCode), UserCode: userCode, ClientID: c.ID, Scope: strings.Join(scopes, " "),
			Status: store.DevicePending, IssuedAt: now, ExpiresAt: now.Add(realms.DeviceCodeLifespan),
		})
		if !errors.Is(err, store.ErrAlreadyExists) {
			break
		}
	}
	if err != nil {
		s.storeWriteError(w, rp, "device authorization", err)
		return
	}
	verify := s.issuer(r, rp.realm.Name) + "/device"
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":               deviceCode,
		"user_code":                 displayUserCode(userCode),
		"verification_uri":          verify,
		"verification_uri_complete": verify + "?user_code=" + url.QueryEscape(displayUserCode(userCode)),
		"expires_in":                int(realms.DeviceCodeLifespan.Seconds()),
		"interval":                  int(realms.DevicePollInterval.Seconds()),
	})
}

// devicePage is GET /realms/{r}/device: the form for the user code.
func (s *Server) devicePage(w http.ResponseWriter, r *http.Request, rp *realmProvider) {
	s.deviceCodeForm(w, r, rp, http.StatusOK, "", r.URL.Query().Get("user_code"))
}

func (s *Server) deviceCodeForm(w http.ResponseWriter, r *http.Request, rp *realmProvider, status int, msg, userCode string) {
	cookie, err := s.newLoginCookie(w, r, rp)
	if err != nil {
		s.page(w, r, rp, http.StatusInternalServerError, "error", pageData{Error: msgInternal})
		return
	}
	s.page(w, r, rp, status, "device", pageData{
		Title: "Device Login", Error: msg, Action: s.realmPath(rp.realm.Name) + "device",
		CSRF: csrfToken(cookie), UserCode: userCode,
	})
}

// deviceSubmit is POST /realms/{r}/device: the user typed a code. With an
// SSO session the user is asked to approve at once, otherwise to sign in.
func (s *Server) deviceSubmit(w http.ResponseWriter, r *http.Request, rp *realmProvider) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if err := r.ParseForm(); err != nil {
		s.page(w, r, rp, http.StatusBadRequest, "error", pageData{Error: msgInvalidRequest})
		return
	}
	ck, err := r.Cookie(loginCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(csrfToken(ck.Value)), []byte(r.PostForm.Get("csrf"))) != 1 {
		s.deviceCodeForm(w, r, rp, http.StatusBadRequest, msgLoginTimeout, "")
		return
	}
	raw := url.Values{deviceUserCodeParam: {normalizeUserCode(r.PostForm.Get("user_code"))}}
	ar, msg, _ := s.parseAuthRequest(r, rp, raw)
	if msg != "" {
		s.deviceCodeForm(w, r, rp, http.StatusBadRequest, msg, "")
		return
	}
	if sess, u, ok := s.ssoSession(r, rp); ok {
		s.issueCode(w, r, rp, ar, sess, u)
		return
	}
	s.loginPage(w, r, rp, ar, http.StatusOK, "", "")
}

// parseDeviceRequest resolves the login context of a device authorization
// from its user code.
func (s *Server) parseDeviceRequest(r *http.Request, rp *realmProvider, raw url.Values) (*authRequest, string, *authError) {
	ctx := r.Context()
	d, err := rp.svc.DeviceCodeByUserCode(ctx, rp.realm.ID, raw.Get(deviceUserCodeParam))
	if err != nil || d.Status != store.DevicePending {
		return nil, msgInvalidUserCode, nil
	}
	c, err := rp.svc.Client(ctx, rp.realm.ID, d.ClientID)
	if err != nil || !c.Enabled {
		return nil, msgInvalidUserCode, nil
	}
	return &authRequest{raw: raw, client: c, scopes: strings.Fields(d.Scope), maxAge: -1, device: &d}, "", nil
}

// deviceConsentPage asks the signed-in user to approve the device.
func (s *Server) deviceConsentPage(w http.ResponseWriter, r *http.Request, rp *realmProvider, ar *authRequest, status int) {
	cookie, err := s.newLoginCookie(w, r, rp)
	if err != nil {
		s.page(w, r, rp, http.StatusInternalServerError, "error", pageData{Error: msgInternal})
		return
	}
	name := ar.client.Name
	if name == "" {
		name = ar.client.ClientID
	}
	s.page(w, r, rp, status, "device-consent", pageData{
		Title: "Grant access", Action: s.realmPath(rp.realm.Name) + "login-actions/device",
		CSRF: csrfToken(cookie), Auth: ar.raw.Encode(), Client: name, UserCode: displayUserCode(ar.device.UserCode),
	})
}

// deviceDecide is POST /realms/{r}/login-actions/device: the signed-in
// user approves or denies the device.
func (s *Server) deviceDecide(w http.ResponseWriter, r *http.Request, rp *realmProvider) {
	f, ar, ok := s.loginForm(w, r, rp)
	if !ok {
		return
	}
	if ar.device == nil {
		s.page(w, r, rp, http.StatusBadRequest, "error", pageData{Error: msgInvalidRequest})
		return
	}
	sess, u, ok := s.ssoSession(r, rp)
	if !ok {
		s.loginPage(w, r, rp, ar, http.StatusOK, "", "")
		return
	}
	approve := f.Get("accept") != ""
	_, err := rp.svc.UpdateDeviceCode(r.Context(), rp.realm.ID, ar.device.Hash, func(d *store.DeviceCode) error {
		if d.Status != store.DevicePending {
			return store.ErrNotFound
		}
		if approve {
			d.Status, d.UserID, d.SessionID = store.DeviceApproved, u.ID, sess.ID
		} else {
			d.Status = store.DeviceDenied
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		s.deviceCodeForm(w, r, rp, http.StatusBadRequest, msgInvalidUserCode, "")
		return
	}
	if err != nil {
		s.log.Error("device approval", "realm", rp.realm.Name, "err", err)
		s.page(w, r, rp, http.StatusInternalServerError, "error", pageData{Error: msgInternal})
		return
	}
	s.setCookie(w, r, rp, loginCookie, "", -1)
	if approve {
		s.page(w, r, rp, http.StatusOK, "info", pageData{Title: msgDeviceLoginSuccess, Info: "You may close this window and go back to your device."})
		return
	}
	s.page(w, r, rp, http.StatusOK, "info", pageData{Title: msgDeviceLoginDenied, Info: "The device was not signed in."})
}

// deviceCodeGrant is the token request of the device: pending until the
// user decides, then tokens once.
type deviceCodeGrant struct{ grantHandler }

func (h deviceCodeGrant) HandleTokenEndpointRequest(ctx context.Context, ar fosite.AccessRequester) error {
	s, err := h.requestSession(ar)
	if err != nil {
		return err
	}
	c := s.grant.client
	if c.Attributes[realms.AttrDeviceGrantEnabled] != "true" {
		return errDeviceGrantOff
	}
	raw := ar.GetRequestForm().Get("device_code")
	if raw == "" {
		return errMissingDeviceCode
	}
	realmID := h.rp.realm.ID
	now := h.rp.now()
	var prev store.DeviceCode
	d, err := h.rp.svc.UpdateDeviceCode(ctx, realmID, codeHash(raw), func(d *store.DeviceCode) error {
		prev = *d
		if d.ClientID != c.ID || !d.ExpiresAt.After(now) {
			return nil
		}
		switch d.Status {
		case store.DevicePending:
			d.LastPoll = now
		case store.DeviceApproved:
			d.Status = store.DeviceConsumed
		}
		return nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errDeviceCodeInvalid
	case err != nil:
		return storeErr(err)
	case prev.ClientID != c.ID:
		return errDeviceCodeInvalid
	case !prev.ExpiresAt.After(now):
		return errDeviceCodeExpired
	}
	switch prev.Status {
	case store.DevicePending:
		if !prev.LastPoll.IsZero() && now.Sub(prev.LastPoll) < realms.DevicePollInterval {
			return errDeviceSlowDown
		}
		return errDevicePending
	case store.DeviceDenied:
		return errDeviceDenied
	case store.DeviceApproved:
	default:
		return errDeviceCodeInvalid
	}
	if err := h.resumeSession(ctx, ar, s, d.SessionID, d.UserID, d.Scope); err != nil {
		return err
	}
	s.grant.jtiPrefix = "onrtdc:"
	return nil
}

func (h deviceCodeGrant) PopulateTokenEndpointResponse(ctx context.Context, ar fosite.AccessRequester, resp fosite.AccessResponder) error {
	return authorizationCodeGrant(h).PopulateTokenEndpointResponse(ctx, ar, resp)
}
