package oidc

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/store"
)

// session is the fosite.Session of one token request. Grant handlers record
// what they established in it during the request step and mint tokens from it
// in the response step.
type session struct {
	expires map[fosite.TokenType]time.Time
	grant   grant
	// ip is the caller's address, for brute-force records.
	ip string
	// exchange carries what only the token-exchange grant needs.
	exchange struct {
		verify  subjectVerifier
		refresh bool
	}
}

var _ fosite.Session = (*session)(nil)

func newSession(issuer string, c store.Client) *session {
	return &session{expires: map[fosite.TokenType]time.Time{}, grant: grant{issuer: issuer, client: c}}
}

func (s *session) SetExpiresAt(k fosite.TokenType, t time.Time) { s.expires[k] = t }
func (s *session) GetExpiresAt(k fosite.TokenType) time.Time    { return s.expires[k] }
func (s *session) GetUsername() string                          { return s.grant.user.Username }
func (s *session) GetSubject() string                           { return s.grant.user.ID }

// Clone returns a copy; fosite clones sessions it persists, which ours never
// does, but the copy must still not share the expiry map.
func (s *session) Clone() fosite.Session {
	c := *s
	c.expires = make(map[fosite.TokenType]time.Time, len(s.expires))
	for k, v := range s.expires {
		c.expires[k] = v
	}
	return &c
}

// client adapts a stored client to fosite.Client.
type client struct{ c store.Client }

var _ fosite.Client = client{}

func (c client) GetID() string                      { return c.c.ClientID }
func (c client) GetHashedSecret() []byte            { return nil }
func (c client) GetRedirectURIs() []string          { return c.c.RedirectURIs }
func (c client) GetResponseTypes() fosite.Arguments { return fosite.Arguments{"code"} }
func (c client) GetScopes() fosite.Arguments        { return nil }
func (c client) IsPublic() bool                     { return c.c.PublicClient }
func (c client) GetAudience() fosite.Arguments      { return nil }

// GetGrantTypes derives the grant types from Keycloak's client flags.
func (c client) GetGrantTypes() fosite.Arguments {
	g := fosite.Arguments{"refresh_token"}
	if c.c.DirectAccessGrantsEnabled {
		g = append(g, "password")
	}
	if c.c.ServiceAccountsEnabled && !c.c.PublicClient {
		g = append(g, "client_credentials")
	}
	if c.c.StandardFlowEnabled {
		g = append(g, "authorization_code")
	}
	return g
}

type authenticatedClientKey struct{}

// withAuthenticatedClient records the client the HTTP layer authenticated
// (with Keycloak's error semantics) so that fosite does not do it again.
func withAuthenticatedClient(ctx context.Context, c store.Client) context.Context {
	return context.WithValue(ctx, authenticatedClientKey{}, c)
}

// preAuthenticated is the fosite ClientAuthenticationStrategy of every realm
// provider: client authentication already happened at the HTTP edge.
func preAuthenticated(ctx context.Context, _ *http.Request, _ url.Values) (fosite.Client, error) {
	c, ok := ctx.Value(authenticatedClientKey{}).(store.Client)
	if !ok {
		return nil, errInvalidClient
	}
	return client{c}, nil
}

// sessionOf returns our session from a fosite request.
func sessionOf(ar fosite.AccessRequester) (*session, bool) {
	s, ok := ar.GetSession().(*session)
	return s, ok
}
