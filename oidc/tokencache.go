package oidc

import (
	"encoding/json"
	"time"

	"github.com/gatehouse/gatehouse/internal/bounded"
)

// verifiedAccess is what verifying an access token's signature and decoding
// its payload established; none of it can change until the token expires,
// so entries are immutable. The state that can change (revocation, session,
// user, client) is not kept here: validateAccessToken reads it each time,
// the user and client through the realm service's generation caches.
type verifiedAccess struct {
	// rp is the realm snapshot (keys included) that verified the token: a
	// realm or key change builds a new provider, and its lookups miss.
	rp     *realmProvider
	claims accessClaims
	raw    map[string]any // every claim; read-only
	nbf    time.Time      // zero when the token has no nbf
	// introspection is the RFC 7662 body's claim members, rendered once:
	// the raw claims less the four introspection sets per request.
	introspection []byte
}

// verifiedTokens caches verified access tokens by their compact form until
// they expire, server-wide and bounded, so introspection, userinfo and
// bearer-authenticated admin calls pay the signature check and the JSON
// decoding once per token rather than once per request (they were most of
// an ES256 introspection; BENCHMARKS.md has the figures). Revocation,
// session, user and client state is still checked on every request.
type verifiedTokens = bounded.Map[string, *verifiedAccess]

// defaultVerifiedTokens bounds the cache: a few KiB per token, so at most
// a few tens of MiB however many distinct tokens arrive.
const defaultVerifiedTokens = 8192

func newVerifiedTokens(limit int, now func() time.Time) *verifiedTokens {
	return bounded.New[string](limit, func(v *verifiedAccess) bool { return v.claims.Exp <= now().Unix() })
}

// introspectionMembers renders raw's members other than the ones
// introspection sets itself, as JSON object members without the braces.
func introspectionMembers(raw map[string]any) ([]byte, error) {
	rest := make(map[string]any, len(raw))
	for k, v := range raw {
		switch k {
		case "active", "client_id", "username", "token_type":
		default:
			rest[k] = v
		}
	}
	b, err := json.Marshal(rest)
	if err != nil {
		return nil, err
	}
	return b[1 : len(b)-1], nil
}
