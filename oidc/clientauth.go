package oidc

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// authenticateClient implements client_secret_basic and client_secret_post
// (and client_id alone for public clients) with Keycloak's error semantics.
// The Basic header wins over form fields; a form client_id that contradicts
// it is refused.
func (s *Server) authenticateClient(ctx context.Context, rp *realmProvider, r *http.Request, f form) (store.Client, *fosite.RFC6749Error) {
	id, secret, present, bad := basicAuth(r)
	if bad != nil {
		return store.Client{}, bad
	}
	if !present {
		id, secret = f.get("client_id"), f.get("client_secret")
	} else if fid := f.get("client_id"); fid != "" && fid != id {
		return store.Client{}, errClientIDMismatch
	}
	if id == "" {
		return store.Client{}, errMissingClientID
	}
	infoOf(ctx).client = id
	c, err := rp.svc.AuthenticateClient(ctx, rp.realm, id, secret, RemoteIP(r))
	switch {
	case errors.Is(err, realms.ErrClientDisabled):
		return store.Client{}, errClientDisabled
	case errors.Is(err, realms.ErrClientNotFound):
		return store.Client{}, errInvalidClient
	case errors.Is(err, realms.ErrClientLocked):
		return store.Client{}, errClientLocked
	case errors.Is(err, realms.ErrClientSecret):
		return store.Client{}, errInvalidClientSecret
	case errors.Is(err, store.ErrUnavailable):
		// Brute-force bookkeeping could not be written.
		s.log.Error("authenticate client: store unavailable for writes", "realm", rp.realm.Name, "err", err)
		return store.Client{}, errUnavailable
	case err != nil:
		s.log.Error("authenticate client", "realm", rp.realm.Name, "err", err)
		return store.Client{}, errServerError
	}
	return c, nil
}

// RemoteIP is the caller's address, recorded with login failures.
func RemoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// clientForm is the common front of introspection, revocation and logout:
// parse the form, authenticate the client and refuse duplicated parameters,
// writing the error itself. mapAuth, when set, rewords client-authentication
// failures (introspection answers them in its own terms).
func (s *Server) clientForm(w http.ResponseWriter, r *http.Request, rp *realmProvider, mapAuth func(*fosite.RFC6749Error) *fosite.RFC6749Error) (form, store.Client, bool) {
	f, ferr := parseForm(w, r)
	if ferr != nil {
		writeOAuthError(w, ferr)
		return form{}, store.Client{}, false
	}
	c, cerr := s.authenticateClient(r.Context(), rp, r, f)
	if cerr != nil {
		if mapAuth != nil {
			cerr = mapAuth(cerr)
		}
		writeOAuthError(w, cerr)
		return form{}, store.Client{}, false
	}
	if f.dup != "" {
		writeOAuthError(w, errDuplicatedParameter)
		return form{}, store.Client{}, false
	}
	return f, c, true
}

// badHint reports an RFC 7009/7662 token_type_hint we do not know.
func badHint(f form) bool {
	h := f.get("token_type_hint")
	return h != "" && h != "access_token" && h != "refresh_token"
}
