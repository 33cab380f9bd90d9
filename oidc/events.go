package oidc

import (
	"errors"
	"net/http"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// tokenEventTypes is the login event each grant records.
var tokenEventTypes = map[string]string{
	grantPassword:          realms.EventLogin,
	grantClientCredentials: realms.EventClientLogin,
	grantRefreshToken:      realms.EventRefreshToken,
	grantTokenExchange:     realms.EventTokenExchange,
	grantUMATicket:         realms.EventPermissionToken,
}

// eventErrors are Keycloak's event error strings for the token endpoint's
// answers. An answer not listed records its OAuth error code.
var eventErrors = map[*fosite.RFC6749Error]string{
	errInvalidClient:        "client_not_found",
	errClientDisabled:       "client_disabled",
	errInvalidClientSecret:  "invalid_client_credentials",
	errClientLocked:         "invalid_client_credentials",
	errMissingClientID:      "invalid_client",
	errClientIDMismatch:     "invalid_client",
	errBearerOnly:           "invalid_client",
	errDirectGrantsOff:      "not_allowed",
	errConsentRequired:      "consent_denied",
	errMissingUsername:      "user_not_found",
	errUnknownUser:          "user_not_found",
	errUserLocked:           "user_temporarily_disabled",
	errBadPassword:          "invalid_user_credentials",
	errAccountDisabled:      "user_disabled",
	errAccountNotSetUp:      "resolve_required_actions",
	errCCPublicClient:       "invalid_client",
	errCCNotEnabled:         "invalid_client",
	errNoRefreshToken:       "invalid_token",
	errRefreshNotActive:     "invalid_token",
	errInvalidRefreshToken:  "invalid_token",
	errRefreshWrongClient:   "invalid_token",
	errSessionNotActive:     "invalid_token",
	errStaleToken:           "invalid_token",
	errRefreshReused:        "invalid_token",
	errUserDisabledLater:    "user_disabled",
	errOfflineNotAllowed:    "not_allowed",
	errInvalidSubjectToken:  "invalid_token",
	errExchangeNoUser:       "user_not_found",
	errExchangeUserDisabled: "user_disabled",
	errNotInAudience:        "not_allowed",
	errExchangePublic:       "invalid_client",
	errExchangeNotEnabled:   "not_allowed",
}

func eventError(err error) string {
	var e *fosite.RFC6749Error
	if !errors.As(err, &e) {
		return "invalid_request"
	}
	if s, ok := eventErrors[e]; ok {
		return s
	}
	return e.ErrorField
}

// tokenEvent records the outcome of one token request as Keycloak's event
// of its grant (or _ERROR with err). Only names and IDs are recorded: no
// form value other than the username, never a secret or token.
func (s *Server) tokenEvent(rp *realmProvider, r *http.Request, gt, clientID string, f form, sess *session, err error) {
	typ := tokenEventTypes[gt]
	if err != nil {
		typ = realms.ErrorType(typ)
	}
	if !realms.EventsWanted(rp.realm, typ) {
		return
	}
	e := store.LoginEvent{Type: typ, ClientID: clientID, IPAddress: RemoteIP(r), Details: map[string]string{"grant_type": gt}}
	if sess != nil {
		g := &sess.grant
		e.UserID = g.user.ID
		if g.user.Username != "" {
			e.Details["username"] = g.user.Username
		}
		switch {
		case g.session != nil:
			e.SessionID = g.session.ID
		case g.sid != "":
			e.SessionID = g.sid
		}
		if err == nil {
			e.Details["scope"] = g.scope()
			if g.jti != "" {
				e.Details["token_id"] = g.jti
			}
			auth := "client-secret"
			if g.client.PublicClient {
				auth = "none"
			}
			e.Details["client_auth_method"] = auth
		}
	}
	if err != nil {
		e.Error = eventError(err)
		if u := f.get("username"); gt == grantPassword && u != "" && e.Details["username"] == "" {
			e.Details["username"] = u
		}
	}
	rp.svc.RecordEvent(rp.realm, e)
}

// realmEvent records an event of the realm's other endpoints (logout,
// revocation, introspection) for a session's user and client.
func (s *Server) realmEvent(rp *realmProvider, r *http.Request, typ string, c store.Client, userID, sessionID, errStr string) {
	if errStr != "" {
		typ = realms.ErrorType(typ)
	}
	if !realms.EventsWanted(rp.realm, typ) {
		return
	}
	rp.svc.RecordEvent(rp.realm, store.LoginEvent{Type: typ, ClientID: c.ClientID, UserID: userID, SessionID: sessionID,
		IPAddress: RemoteIP(r), Error: errStr})
}
