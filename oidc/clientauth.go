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
	c, err := rp.svc.AuthenticateClient(ctx, rp.realm, id, secret, remoteIP(r))
	switch {
	case errors.Is(err, realms.ErrClientNotFound):
		return store.Client{}, errInvalidClient
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

// remoteIP is the caller's address, recorded with login failures.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
