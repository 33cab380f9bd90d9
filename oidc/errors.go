package oidc

import (
	"encoding/json"
	"net/http"

	"github.com/ory/fosite"
)

// oauthErr builds an RFC 6749 error with Keycloak's exact wording. fosite's
// writer emits ErrorField, DescriptionField and CodeField as given (no hint or
// debug is added), so these reach clients verbatim.
func oauthErr(status int, code, description string) *fosite.RFC6749Error {
	return &fosite.RFC6749Error{ErrorField: code, DescriptionField: description, CodeField: status}
}

// Keycloak 26 token-endpoint errors, status and text as Keycloak answers.
var (
	errMissingGrantType     = oauthErr(400, "invalid_request", "Missing form parameter: grant_type")
	errUnsupportedGrantType = oauthErr(400, "unsupported_grant_type", "Unsupported grant_type")
	errDuplicatedParameter  = oauthErr(400, "invalid_request", "duplicated parameter")
	errRealmDisabled        = oauthErr(403, "access_denied", "Realm not enabled")
	errMissingClientID      = oauthErr(400, "invalid_client", "Missing client_id parameter")
	errInvalidClient        = oauthErr(401, "invalid_client", "Invalid client or Invalid client credentials")
	errInvalidClientSecret  = oauthErr(401, "unauthorized_client", "Invalid client or Invalid client credentials")
	errBearerOnly           = oauthErr(400, "invalid_client", "Bearer-only not allowed")
	errDirectGrantsOff      = oauthErr(400, "unauthorized_client", "Client not allowed for direct access grants")
	errConsentRequired      = oauthErr(400, "invalid_client", "Client requires user consent")
	errMissingUsername      = oauthErr(401, "invalid_request", "Missing parameter: username")
	errUnknownUser          = oauthErr(400, "invalid_grant", "Invalid user credentials")
	errBadPassword          = oauthErr(401, "invalid_grant", "Invalid user credentials")
	errAccountDisabled      = oauthErr(400, "invalid_grant", "Account disabled")
	errAccountNotSetUp      = oauthErr(400, "invalid_grant", "Account is not fully set up")
	errCCPublicClient       = oauthErr(401, "unauthorized_client", "Public client not allowed to retrieve service account")
	errCCNotEnabled         = oauthErr(401, "unauthorized_client", "Client not enabled to retrieve service account")
	errNoRefreshToken       = oauthErr(400, "invalid_request", "No refresh token")
	errRefreshNotActive     = oauthErr(400, "invalid_grant", "Token is not active")
	errInvalidRefreshToken  = oauthErr(400, "invalid_grant", "Invalid refresh token")
	errRefreshWrongClient   = oauthErr(400, "invalid_grant", "Invalid refresh token. Token client and authorized client don't match")
	errSessionNotActive     = oauthErr(400, "invalid_grant", "Session not active")
	errStaleToken           = oauthErr(400, "invalid_grant", "Stale token")
	errRefreshReused        = oauthErr(400, "invalid_grant", "Maximum allowed refresh token reuse exceeded")
	errUserDisabledLater    = oauthErr(400, "invalid_grant", "User disabled")
	errOfflineNotAllowed    = oauthErr(400, "not_allowed", "Offline tokens not allowed for the user or client")
	errServerError          = oauthErr(500, "server_error", "Internal server error")
	errUnavailable          = oauthErr(503, "temporarily_unavailable", "The server cannot store the new token state right now; try again later")
	errCannotRead           = oauthErr(503, "temporarily_unavailable", "The server cannot read the token state right now; try again later")
)

func errSAUserDisabled(username string) *fosite.RFC6749Error {
	// fosite rewrites double quotes to single ones; Keycloak uses single.
	return oauthErr(401, "invalid_request", "User '"+username+"' disabled")
}

func errInvalidScope(scope string) *fosite.RFC6749Error {
	return oauthErr(400, "invalid_scope", "Invalid scopes: "+scope)
}

// writeJSON writes v as JSON with no-store caching, as every protocol answer
// carries tokens or token metadata.
func writeJSON(w http.ResponseWriter, status int, v any) {
	if status >= 400 {
		noteErrorBody(w, v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"error":"server_error","error_description":"unencodable response"}`)
		status = http.StatusInternalServerError
	}
	writeJSONBytes(w, status, append(b, '\n'))
}

// writeJSONBytes writes an already encoded JSON body with the headers every
// protocol response carries.
func writeJSONBytes(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Cache-Control"] = []string{"no-store"}
	h["Pragma"] = []string{"no-cache"}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeOAuthError writes {"error","error_description"}, and gives the
// request log the error code and its reason (see reasons.go).
func writeOAuthError(w http.ResponseWriter, e *fosite.RFC6749Error) {
	writeOAuthErrorReason(w, e, reasonOf(e))
}

func writeOAuthErrorReason(w http.ResponseWriter, e *fosite.RFC6749Error, reason string) {
	noteError(w, e.ErrorField, reason)
	writeJSON(w, e.CodeField, map[string]string{"error": e.ErrorField, "error_description": e.DescriptionField})
}
