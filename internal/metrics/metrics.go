// Package metrics is what the server measures, as an interface: the
// protocol, realm and store packages report through a Recorder without
// knowing how (or whether) it is exported. Package prom implements it for
// Prometheus.
package metrics

import "time"

// Recorder receives measurements. Implementations are safe for concurrent
// use and cheap enough for every request: the token endpoint calls several
// of these per token.
type Recorder interface {
	// Request is one finished HTTP request: route is the router's path
	// template ("" when no route matched), realm the realm it addressed
	// ("" for none) and grant the token grant type ("" off the token
	// endpoint).
	Request(route, realm, grant string, status int, d time.Duration)
	// TokenIssued counts a successful token response.
	TokenIssued(realm, grant string)
	// LoginFailure counts a refused login; reason is one of the Login*
	// constants.
	LoginFailure(realm, reason string)
	// Lockout counts a failure that locked a user or client out (brute-force
	// detection imposed a wait or a permanent lockout).
	Lockout(realm string)
	// RefreshReuse counts a refresh token presented again after it was used
	// (reuse beyond the realm's allowance).
	RefreshReuse(realm string)
	// StoreCommit is one durable write transaction: its time from the first
	// write to the end of the commit, and how many writers shared it.
	StoreCommit(d time.Duration, writers int)
	// CacheLookup counts a hit or a miss in one of the Cache* caches.
	CacheLookup(cache string, hit bool)
}

// Reasons a login fails, as LoginFailure labels.
const (
	LoginUnknownUser     = "unknown_user"
	LoginBadPassword     = "bad_password"
	LoginLocked          = "locked"
	LoginDisabled        = "disabled"
	LoginNotSetUp        = "not_set_up"
	LoginBadClientSecret = "bad_client_secret"
)

// Caches that report lookups.
const (
	// CacheRealm is the realm snapshot (settings and keys) by name.
	CacheRealm = "realm"
	// CacheRealmData is per-realm data kept until the realm's next write:
	// clients, service accounts, roles, identity providers.
	CacheRealmData = "realm_data"
	// CachePerUser is per-user data for token grants (users, their roles).
	CachePerUser = "per_user"
	// CacheVerifiedToken is verified access tokens by their compact form.
	CacheVerifiedToken = "verified_token"
)

// Caches lists every Cache* name, so exporters can prepare their series.
func Caches() []string {
	return []string{CacheRealm, CacheRealmData, CachePerUser, CacheVerifiedToken}
}

// Nop records nothing; it is the default when no Recorder is configured.
type Nop struct{}

func (Nop) Request(string, string, string, int, time.Duration) {}
func (Nop) TokenIssued(string, string)                         {}
func (Nop) LoginFailure(string, string)                        {}
func (Nop) Lockout(string)                                     {}
func (Nop) RefreshReuse(string)                                {}
func (Nop) StoreCommit(time.Duration, int)                     {}
func (Nop) CacheLookup(string, bool)                           {}

// OrNop returns r, or Nop when r is nil.
func OrNop(r Recorder) Recorder {
	if r == nil {
		return Nop{}
	}
	return r
}
