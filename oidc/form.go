package oidc

import (
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/ory/fosite"
)

// maxBodyBytes bounds every protocol request body.
const maxBodyBytes = 64 << 10

var (
	errBodyTooLarge     = oauthErr(413, "invalid_request", "Request body larger than 65536 bytes")
	errBadContentType   = oauthErr(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
	errMalformedForm    = oauthErr(400, "invalid_request", "Malformed form body")
	errInvalidUTF8      = oauthErr(400, "invalid_request", "Form parameters must be valid UTF-8")
	errMalformedBasic   = oauthErr(400, "invalid_request", "Malformed Basic authorization header")
	errMethodNotPost    = oauthErr(405, "invalid_request", "HTTP method must be POST")
	errClientIDMismatch = oauthErr(400, "invalid_request", "client_id in the body does not match the Authorization header")
)

// repeatable are the parameters a request may send more than once:
// audience (token exchange) and permission (the UMA grant).
var repeatable = map[string]bool{"audience": true, "permission": true}

// form is a parsed, validated request body.
type form struct {
	values url.Values
	// dup names a parameter sent more than once ("" if none). Keycloak checks
	// duplicates after client authentication, so the caller decides when it
	// matters.
	dup string
}

func (f form) get(k string) string { return f.values.Get(k) }

// parseForm reads a form-encoded POST body with a size limit, strict UTF-8
// and duplicate detection, and leaves r.PostForm/r.Form set so that fosite
// does not read the body again.
func parseForm(w http.ResponseWriter, r *http.Request) (form, *fosite.RFC6749Error) {
	if r.Method != http.MethodPost {
		return form{}, errMethodNotPost
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/x-www-form-urlencoded" {
		return form{}, errBadContentType
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return form{}, errBodyTooLarge
		}
		return form{}, errMalformedForm
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return form{}, errMalformedForm
	}
	f := form{values: values}
	for k, vs := range values {
		if !utf8.ValidString(k) {
			return form{}, errInvalidUTF8
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return form{}, errInvalidUTF8
			}
		}
		if len(vs) > 1 && !repeatable[k] && (f.dup == "" || k < f.dup) {
			f.dup = k
		}
	}
	r.PostForm = values
	r.Form = values
	return f, nil
}

// basicAuth returns the credentials of an Authorization: Basic header. Per
// RFC 6749 §2.3.1 both parts are form-url-encoded before base64, so they are
// decoded here (a secret containing '+' or '%' round-trips).
func basicAuth(r *http.Request) (id, secret string, present bool, bad *fosite.RFC6749Error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", "", false, nil
	}
	scheme, rest, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", "", false, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return "", "", true, errMalformedBasic
	}
	u, p, ok := strings.Cut(string(raw), ":")
	if !ok || !utf8.Valid(raw) {
		return "", "", true, errMalformedBasic
	}
	return formUnescape(u), formUnescape(p), true, nil
}

// formUnescape decodes a form-url-encoded credential, keeping the raw value
// when it is not valid encoding (clients that skip the encoding still work
// unless their secret happens to contain an escape sequence).
func formUnescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return s
}
