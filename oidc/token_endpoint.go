package oidc

import (
	"context"
	"net/http"

	"github.com/ory/fosite"
)

// token is POST P/token. The HTTP edge does what must happen in Keycloak's
// order and with its wording (form parsing, grant type, client
// authentication, duplicate parameters); the realm's fosite provider then
// runs the grant handler.
func (s *Server) token(w http.ResponseWriter, r *http.Request, rp *realmProvider) {
	f, ferr := parseForm(w, r)
	if ferr != nil {
		writeOAuthError(w, ferr)
		return
	}
	gt := f.get("grant_type")
	if gt == "" {
		writeOAuthError(w, errMissingGrantType)
		return
	}
	if !supportedGrantTypes[gt] {
		writeOAuthError(w, errUnsupportedGrantType)
		return
	}
	ctx := r.Context()
	infoOf(ctx).grant = gt
	if gt == grantUMATicket {
		// The caller may authenticate with a bearer credential instead of
		// client credentials, and the answer is not always a token: the
		// grant runs outside fosite.
		s.umaTicket(w, r, rp, f)
		return
	}
	c, cerr := s.authenticateClient(ctx, rp, r, f)
	if cerr != nil {
		s.tokenEvent(rp, r, gt, infoOf(ctx).client, f, nil, cerr)
		writeOAuthError(w, cerr)
		return
	}
	if f.dup != "" {
		s.tokenEvent(rp, r, gt, c.ClientID, f, nil, errDuplicatedParameter)
		writeOAuthError(w, errDuplicatedParameter)
		return
	}
	if c.BearerOnly {
		s.tokenEvent(rp, r, gt, c.ClientID, f, nil, errBearerOnly)
		writeOAuthError(w, errBearerOnly)
		return
	}
	ctx = withAuthenticatedClient(ctx, c)
	sess := newSession(s.issuer(r, rp.realm.Name), c)
	sess.ip = RemoteIP(r)
	sess.exchange.verify = func(ctx context.Context, token, subjectIssuer string) (*trustedToken, error) {
		return s.verifyTrusted(ctx, rp, token, subjectIssuer)
	}
	ar, err := rp.oauth2.NewAccessRequest(ctx, r, sess)
	if err != nil {
		s.tokenEvent(rp, r, gt, c.ClientID, f, sess, err)
		s.writeGrantError(w, rp, err)
		return
	}
	resp, err := rp.oauth2.NewAccessResponse(ctx, ar)
	if err != nil {
		s.tokenEvent(rp, r, gt, c.ClientID, f, sess, err)
		s.writeGrantError(w, rp, err)
		return
	}
	rp.oauth2.WriteAccessResponse(ctx, w, ar, resp)
	s.svc.Metrics().TokenIssued(rp.realm.Name, gt)
	s.tokenEvent(rp, r, gt, c.ClientID, f, sess, nil)
}

// writeGrantError writes a grant handler's error. Our handlers return
// Keycloak-worded errors; anything else from fosite is passed through in its
// RFC 6749 shape, and server errors are logged with their cause (never sent).
func (s *Server) writeGrantError(w http.ResponseWriter, rp *realmProvider, err error) {
	e := fosite.ErrorToRFC6749Error(err)
	if e.CodeField >= 500 {
		s.log.Error("token endpoint", "realm", rp.realm.Name, "err", err, "cause", e.Cause())
		if e.ErrorField == errUnavailable.ErrorField {
			writeOAuthError(w, errUnavailable)
			return
		}
		writeOAuthError(w, errServerError)
		return
	}
	// The copy drops fosite's hint and debug fields; the reason is the
	// original's.
	writeOAuthErrorReason(w, &fosite.RFC6749Error{ErrorField: e.ErrorField, DescriptionField: e.GetDescription(), CodeField: e.CodeField}, reasonOf(e))
}
