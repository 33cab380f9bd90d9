package oidc

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"
)

// Errors that answer exactly as another one (the caller learns nothing
// more) but give the request log a precise reason.
var (
	errUserLocked     = oauthErr(errUnknownUser.CodeField, errUnknownUser.ErrorField, errUnknownUser.DescriptionField)
	errClientLocked   = oauthErr(errInvalidClientSecret.CodeField, errInvalidClientSecret.ErrorField, errInvalidClientSecret.DescriptionField)
	errClientDisabled = oauthErr(errInvalidClient.CodeField, errInvalidClient.ErrorField, errInvalidClient.DescriptionField)
)

// reasons say, for the request log, why an error was answered where the
// wire description is shared by several causes or terse. Reasons name the
// cause, never a credential or token. Errors without one are logged with
// their (public) description.
var reasons = map[*fosite.RFC6749Error]string{
	errMissingGrantType:     "missing grant_type",
	errUnsupportedGrantType: "unsupported grant type",
	errDuplicatedParameter:  "duplicated form parameter",
	errRealmDisabled:        "realm disabled",
	errMissingClientID:      "missing client_id",
	errInvalidClient:        "unknown client",
	errClientDisabled:       "client disabled",
	errInvalidClientSecret:  "wrong client secret",
	errClientLocked:         "client locked by brute-force detection",
	errBearerOnly:           "bearer-only client",
	errDirectGrantsOff:      "direct access grants disabled for the client",
	errConsentRequired:      "client requires consent",
	errMissingUsername:      "missing username",
	errUnknownUser:          "unknown user",
	errUserLocked:           "user locked by brute-force detection",
	errBadPassword:          "wrong password",
	errAccountDisabled:      "user disabled",
	errAccountNotSetUp:      "required action pending (e.g. temporary password)",
	errCCPublicClient:       "public client cannot use client_credentials",
	errCCNotEnabled:         "service account disabled for the client",
	errNoRefreshToken:       "missing refresh_token",
	errRefreshNotActive:     "refresh token expired or revoked",
	errInvalidRefreshToken:  "invalid refresh token",
	errRefreshWrongClient:   "refresh token of another client",
	errSessionNotActive:     "session ended",
	errStaleToken:           "token issued before the not-before time",
	errRefreshReused:        "refresh token reused",
	errUserDisabledLater:    "user disabled since the token was issued",
	errServerError:          "internal error (logged above)",
	errUnavailable:          "store cannot write (logged above)",
}

// reasonOf is e's log reason: its entry in reasons, else its description,
// which the client already receives.
func reasonOf(e *fosite.RFC6749Error) string {
	if r, ok := reasons[e]; ok {
		return r
	}
	return e.GetDescription()
}

// recorderOf finds the request's statusRecorder below any wrappers.
func recorderOf(w http.ResponseWriter) *statusRecorder {
	for {
		switch t := w.(type) {
		case *statusRecorder:
			return t
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return nil
		}
	}
}

// noteError gives the request log the error code and reason of an error
// answer; the first one noted wins.
func noteError(w http.ResponseWriter, code, reason string) {
	if rec := recorderOf(w); rec != nil && rec.info != nil {
		rec.info.setError(code, reason)
	}
}

// noteErrorBody notes an error answer written as a JSON object with an
// "error" member (and maybe "error_description"): the shapes of the realm
// lookup, Knox and the router's 404/405.
func noteErrorBody(w http.ResponseWriter, v any) {
	var code, desc string
	switch m := v.(type) {
	case map[string]string:
		code, desc = m["error"], m["error_description"]
	case map[string]any:
		code, _ = m["error"].(string)
		desc, _ = m["error_description"].(string)
	}
	if desc == "" {
		desc = code
	}
	noteError(w, code, desc)
}

// SetLogError gives the request log the error code (the OAuth error, or
// Keycloak's errorMessage) and the reason of an error answer written by a
// handler mounted outside this package. The reason must not carry a
// credential or token.
func SetLogError(ctx context.Context, code, reason string) {
	infoOf(ctx).setError(code, reason)
}

func (i *requestInfo) setError(code, reason string) {
	if i.errCode == "" && i.reason == "" {
		i.errCode, i.reason = code, reason
	}
}

// routeTemplate records the matched route's path template for metrics: the
// template, not the path, so realm names and IDs do not become labels.
func routeTemplate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt := mux.CurrentRoute(r); rt != nil {
			if t, err := rt.GetPathTemplate(); err == nil {
				infoOf(r.Context()).route = t
			}
		}
		next.ServeHTTP(w, r)
	})
}
