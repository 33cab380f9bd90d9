package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors every backend returns (possibly wrapped) so callers can branch with
// errors.Is.
var (
	// ErrNotFound: the addressed record does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrAlreadyExists: a unique key (realm name, clientId, username, email,
	// role name) is taken. Backends return a *ConflictError wrapping it.
	ErrAlreadyExists = errors.New("store: already exists")
	// ErrTokenReused: a refresh token that was already rotated out was
	// presented again outside the grace policy. The whole session (token
	// family) has been deleted durably before this error is returned.
	ErrTokenReused = errors.New("store: refresh token reused")
	// ErrTokenExpired: the refresh token or its session is past its expiry.
	ErrTokenExpired = errors.New("store: refresh token expired")
	// ErrInvalidParent: a group move would make the group its own
	// ancestor.
	ErrInvalidParent = errors.New("store: a group cannot be moved under itself")
	// ErrUnavailable: the store cannot accept writes (read-only file system,
	// disk full, closed, a database that cannot be reached). Reads may still
	// work, or fail with it too when the database is gone.
	ErrUnavailable = errors.New("store: unavailable for writes")
)

// ConflictError names the unique field that is already taken.
type ConflictError struct {
	Kind  string // "realm", "client", "user", "role", "group", "clientScope"
	Field string // "name", "clientId", "username", "email"
	Value string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("store: %s with %s %q already exists", e.Kind, e.Field, e.Value)
}

func (e *ConflictError) Unwrap() error { return ErrAlreadyExists }

// Store is the persistence contract. All methods are safe for concurrent use.
// Get methods return copies; mutating a returned record changes nothing until
// it is written back through an Update method.
//
// Update methods take a mutation function that runs inside the write
// transaction on a copy of the current record; returning an error aborts the
// write and is returned unchanged. The function may run more than once (batched
// commits retry) so it must be idempotent and must not do slow work such as
// hashing or signing: compute such values before calling Update.
type Store interface {
	// Realms. Names are unique case-insensitively (two realms must not pass
	// for one another); lookups by name are exact.
	CreateRealm(ctx context.Context, r Realm) error
	// CreateRealmWith creates a realm together with its initial keys, roles,
	// clients and users in one transaction: all of them or nothing.
	CreateRealmWith(ctx context.Context, r Realm, init RealmContents) error
	GetRealm(ctx context.Context, name string) (Realm, error)
	GetRealmByID(ctx context.Context, id string) (Realm, error)
	ListRealms(ctx context.Context) ([]Realm, error) // ordered by name
	// UpdateRealm may rename the realm (fn changes Name); the new name must be
	// free. The store increments Version on every successful update.
	UpdateRealm(ctx context.Context, id string, fn func(*Realm) error) (Realm, error)
	// UpdateRealmRotatingKey is UpdateRealm whose fn may also return a new
	// signing key: the realm update and RotateKey with that key then
	// commit in one transaction (a realm whose signature algorithm changes
	// is re-keyed with it, or changes not at all). A nil key is UpdateRealm.
	UpdateRealmRotatingKey(ctx context.Context, id string, fn func(*Realm) (*SigningKey, error)) (Realm, error)
	// DeleteRealm removes the realm and everything in it in one transaction.
	DeleteRealm(ctx context.Context, id string) error

	// Clients. ClientID is unique per realm (case-sensitive).
	CreateClient(ctx context.Context, realmID string, c Client) error
	// CreateClientWithServiceAccount creates client c and its
	// service-account user sa (sa.ServiceAccountClientID is c.ID) in one
	// transaction: both or neither, with CreateClient's and CreateUser's
	// conflicts.
	CreateClientWithServiceAccount(ctx context.Context, realmID string, c Client, sa User) error
	GetClient(ctx context.Context, realmID, id string) (Client, error)
	GetClientByClientID(ctx context.Context, realmID, clientID string) (Client, error)
	ListClients(ctx context.Context, realmID string, q ClientQuery) ([]Client, error) // ordered by ClientID
	UpdateClient(ctx context.Context, realmID, id string, fn func(*Client) error) (Client, error)
	// UpdateClientWithServiceAccount is UpdateClient that also stores, in
	// the same transaction, the service-account user sa returns for the
	// updated client (nil: none wanted), unless the realm has it already (a
	// user with its username and ServiceAccountClientID). Another user
	// holding the username is a ConflictError (Kind "user", Field
	// "username") and nothing is written. sa runs inside the transaction,
	// like fn.
	UpdateClientWithServiceAccount(ctx context.Context, realmID, id string, fn func(*Client) error, sa func(Client) *User) (Client, error)
	// DeleteClient also deletes the client's roles, its sessions and refresh
	// tokens, and its service-account user.
	DeleteClient(ctx context.Context, realmID, id string) error

	// Users. Username and non-empty email are unique per realm,
	// case-insensitively.
	CreateUser(ctx context.Context, realmID string, u User) error
	// CreateUsers creates users in one transaction, all or none, with
	// the checks of CreateUser (a conflict with a stored user or between
	// two of users writes nothing): imports load users in batches.
	CreateUsers(ctx context.Context, realmID string, users []User) error
	GetUser(ctx context.Context, realmID, id string) (User, error)
	GetUserByUsername(ctx context.Context, realmID, username string) (User, error)
	GetUserByEmail(ctx context.Context, realmID, email string) (User, error)
	ListUsers(ctx context.Context, realmID string, q UserQuery) ([]User, error) // ordered by lower-cased username
	CountUsers(ctx context.Context, realmID string, q UserQuery) (int, error)   // ignores First/Max
	// UpdateUser also maintains the federated identity links: a link
	// (provider alias, provider user ID) held by another user is a
	// ConflictError (Kind "user", Field "federatedIdentity").
	UpdateUser(ctx context.Context, realmID, id string, fn func(*User) error) (User, error)
	// GetUserByFederatedIdentity finds the user linked to the account
	// providerUserID of identity provider alias.
	GetUserByFederatedIdentity(ctx context.Context, realmID, alias, providerUserID string) (User, error)
	// DeleteUser also deletes the user's sessions and refresh tokens.
	DeleteUser(ctx context.Context, realmID, id string) error

	// Roles. (ClientID, Name) is unique per realm; ClientID "" = realm role.
	CreateRole(ctx context.Context, realmID string, r Role) error
	GetRole(ctx context.Context, realmID, id string) (Role, error)
	GetRoleByName(ctx context.Context, realmID, clientID, name string) (Role, error)
	ListRoles(ctx context.Context, realmID, clientID string, q Page) ([]Role, error) // ordered by Name
	UpdateRole(ctx context.Context, realmID, id string, fn func(*Role) error) (Role, error)
	DeleteRole(ctx context.Context, realmID, id string) error

	// Groups. (ParentID, Name) is unique per realm (case-sensitive); a
	// parent must exist.
	CreateGroup(ctx context.Context, realmID string, g Group) error
	GetGroup(ctx context.Context, realmID, id string) (Group, error)
	// ListGroups returns the children of parentID ("" = the top-level
	// groups), ordered by name.
	ListGroups(ctx context.Context, realmID, parentID string, q Page) ([]Group, error)
	// UpdateGroup may rename or move the group (fn changes Name or
	// ParentID); the new (ParentID, Name) must be free and the new parent
	// must exist and not be the group or one of its descendants.
	UpdateGroup(ctx context.Context, realmID, id string, fn func(*Group) error) (Group, error)
	// DeleteGroup removes the group and all its descendants. Memberships
	// (User.GroupIDs) that name them are ignored from then on.
	DeleteGroup(ctx context.Context, realmID, id string) error
	// Client scopes. Name is unique per realm (case-sensitive).
	CreateClientScope(ctx context.Context, realmID string, cs ClientScope) error
	GetClientScope(ctx context.Context, realmID, id string) (ClientScope, error)
	ListClientScopes(ctx context.Context, realmID string) ([]ClientScope, error) // ordered by Name
	UpdateClientScope(ctx context.Context, realmID, id string, fn func(*ClientScope) error) (ClientScope, error)
	DeleteClientScope(ctx context.Context, realmID, id string) error

	// Signing keys of a realm.
	CreateKey(ctx context.Context, realmID string, k SigningKey) error
	ListKeys(ctx context.Context, realmID string) ([]SigningKey, error) // ordered by CreatedAt
	UpdateKey(ctx context.Context, realmID, kid string, fn func(*SigningKey) error) (SigningKey, error)
	// RotateKey stores k and makes every other active key of the realm
	// passive (they still verify what they signed), in one transaction: a
	// failure changes nothing, and no reader sees the realm with two
	// active keys or none.
	RotateKey(ctx context.Context, realmID string, k SigningKey) error

	// Sessions and refresh tokens.
	//
	// CreateSession durably stores a new session together with its first
	// refresh token; when it returns nil both are fsync'd. A first token
	// with an empty Hash stores the session alone (a browser SSO session,
	// whose tokens come later through AddRefreshToken).
	CreateSession(ctx context.Context, realmID string, s Session, first RefreshToken) error
	// AddRefreshToken stores a new refresh token in an existing session:
	// ErrNotFound if the session is gone, ErrTokenExpired if it has expired
	// at now (nothing written).
	AddRefreshToken(ctx context.Context, realmID string, rt RefreshToken, now time.Time) error
	// TouchSession sets a live session's LastRefresh to now (activity that
	// is not a refresh, such as a silent browser sign-in): ErrNotFound if
	// the session is gone, ErrTokenExpired if it has expired at now.
	TouchSession(ctx context.Context, realmID, id string, now time.Time) error
	GetSession(ctx context.Context, realmID, id string) (Session, error)
	GetRefreshToken(ctx context.Context, realmID, hash string) (RefreshToken, error)
	// RotateRefreshToken atomically retires the token with hash oldHash and
	// stores next (same SessionID) in one durable commit, also setting the
	// session's LastRefresh to now. It returns the old token record.
	//
	//   - unknown token or session: ErrNotFound
	//   - token or session expired at now: ErrTokenExpired (nothing written)
	//   - token already rotated out: if now-UsedAt <= p.Grace and UseCount <=
	//     p.MaxReuse, the reuse is allowed (UseCount++ and next is stored);
	//     otherwise the whole session and all its tokens are deleted durably
	//     and ErrTokenReused is returned.
	RotateRefreshToken(ctx context.Context, realmID, oldHash string, next RefreshToken, p RotationPolicy, now time.Time) (RefreshToken, error)
	// DeleteSession ends a session: the session and all its refresh tokens
	// (GetRefreshToken and RotateRefreshToken answer ErrNotFound for them at
	// once; a backend may remove their rows later, when they expire).
	DeleteSession(ctx context.Context, realmID, id string) error
	// ListSessions returns the sessions of a user or of a client (either filter
	// may be empty, not both).
	ListSessions(ctx context.Context, realmID string, q SessionQuery) ([]Session, error)

	// Authorization codes. ConsumeAuthCode redeems a code atomically, so
	// a code is single-use across every replica sharing the store: the first
	// call marks it used and returns it; a later one returns the record
	// with ErrTokenReused; an expired code is ErrTokenExpired, an unknown
	// one ErrNotFound. DeleteExpired removes codes past their expiry.
	CreateAuthCode(ctx context.Context, realmID string, c AuthCode) error
	ConsumeAuthCode(ctx context.Context, realmID, hash string, now time.Time) (AuthCode, error)

	// Device authorization requests (RFC 8628), by the hash of the device
	// code; UserCode is unique among a realm's live requests.
	// DeleteExpired removes them past their expiry.
	CreateDeviceCode(ctx context.Context, realmID string, d DeviceCode) error
	GetDeviceCodeByUserCode(ctx context.Context, realmID, userCode string) (DeviceCode, error)
	UpdateDeviceCode(ctx context.Context, realmID, hash string, fn func(*DeviceCode) error) (DeviceCode, error)

	// Revoked access-token IDs (RFC 7009 on a JWT access token).
	RevokeAccessToken(ctx context.Context, realmID, jti string, exp time.Time) error
	IsAccessTokenRevoked(ctx context.Context, realmID, jti string) (bool, error)

	// Admin events: the audit log of a realm, kept until the realm is deleted.
	AppendAdminEvent(ctx context.Context, realmID string, e AdminEvent) error
	// ListAdminEvents returns a realm's events newest first.
	ListAdminEvents(ctx context.Context, realmID string, q Page) ([]AdminEvent, error)
	// DeleteAdminEvents clears a realm's admin events.
	DeleteAdminEvents(ctx context.Context, realmID string) error

	// Login events of a realm. AppendLoginEvents stores a batch in one
	// commit; ListLoginEvents returns matches newest first;
	// DeleteLoginEvents removes at most limit events older than before
	// (zero: any age), returning how many went.
	AppendLoginEvents(ctx context.Context, realmID string, events []LoginEvent) error
	ListLoginEvents(ctx context.Context, realmID string, q LoginEventQuery) ([]LoginEvent, error)
	DeleteLoginEvents(ctx context.Context, realmID string, before time.Time, limit int) (int, error)

	// Identity providers (trusted issuers) of a realm, by alias.
	CreateIdentityProvider(ctx context.Context, realmID string, p IdentityProvider) error
	GetIdentityProvider(ctx context.Context, realmID, alias string) (IdentityProvider, error)
	ListIdentityProviders(ctx context.Context, realmID string) ([]IdentityProvider, error) // ordered by alias
	UpdateIdentityProvider(ctx context.Context, realmID, alias string, fn func(*IdentityProvider) error) (IdentityProvider, error)
	// DeleteIdentityProvider also removes every user's link to it, so a
	// provider created later under the same alias inherits no links.
	DeleteIdentityProvider(ctx context.Context, realmID, alias string) error

	// Gateway topologies (global, by name). PutTopology creates or replaces.
	PutTopology(ctx context.Context, t Topology) error
	GetTopology(ctx context.Context, name string) (Topology, error)
	ListTopologies(ctx context.Context) ([]Topology, error) // ordered by name
	DeleteTopology(ctx context.Context, name string) error

	// Managed Knox tokens of a realm. CreateKnoxToken enforces the per-user
	// limit atomically: over it, ErrLimitExceeded, or with RemoveOldest the
	// user's oldest token is deleted in the same commit.
	CreateKnoxToken(ctx context.Context, realmID string, t KnoxToken, limit KnoxTokenLimit) error
	GetKnoxToken(ctx context.Context, realmID, id string) (KnoxToken, error)
	UpdateKnoxToken(ctx context.Context, realmID, id string, fn func(*KnoxToken) error) (KnoxToken, error)
	DeleteKnoxToken(ctx context.Context, realmID, id string) error
	// ListKnoxTokens returns the tokens of a user (UserID) and/or created by
	// someone (CreatedByID), or all of the realm's when both are empty,
	// oldest first. Rows without a user ID match no user.
	ListKnoxTokens(ctx context.Context, realmID string, q KnoxTokenQuery) ([]KnoxToken, error)
	// DeleteExpiredKnoxTokens removes tokens expired before the cutoff.
	DeleteExpiredKnoxTokens(ctx context.Context, before time.Time, limit int) (int, error)

	// Brute-force state. UpdateLoginFailure creates the record when missing
	// (fn sees a zero record with Key set).
	GetLoginFailure(ctx context.Context, realmID, key string) (LoginFailure, error)
	UpdateLoginFailure(ctx context.Context, realmID, key string, fn func(*LoginFailure) error) (LoginFailure, error)
	DeleteLoginFailure(ctx context.Context, realmID, key string) error
	// ListLoginFailures returns the records whose key starts with prefix,
	// ordered by key (a client's records, one per remote address).
	ListLoginFailures(ctx context.Context, realmID, prefix string) ([]LoginFailure, error)
	// PruneLoginFailures deletes the records under prefix for which stale
	// returns true, deciding on each record's current value in the deleting
	// transaction (a failure recorded meanwhile is not lost), and returns
	// how many went. A realm with nothing stale costs no write.
	PruneLoginFailures(ctx context.Context, realmID, prefix string, stale func(LoginFailure) bool) (int, error)

	// Personal API keys of a realm's users. IDs are unique per realm;
	// DeleteUser deletes the user's keys too.
	CreateAPIKey(ctx context.Context, realmID string, k APIKey) error
	GetAPIKey(ctx context.Context, realmID, id string) (APIKey, error)
	// ListAPIKeys returns a user's keys, or every key of the realm when
	// userID is "", oldest first.
	ListAPIKeys(ctx context.Context, realmID, userID string) ([]APIKey, error)
	DeleteAPIKey(ctx context.Context, realmID, id string) error

	// Access keys (signed-request key pairs) of a realm's users, as API
	// keys.
	CreateAccessKey(ctx context.Context, realmID string, k AccessKey) error
	GetAccessKey(ctx context.Context, realmID, id string) (AccessKey, error)
	ListAccessKeys(ctx context.Context, realmID, userID string) ([]AccessKey, error)
	UpdateAccessKey(ctx context.Context, realmID, id string, fn func(*AccessKey) error) (AccessKey, error)
	DeleteAccessKey(ctx context.Context, realmID, id string) error

	// ClaimNonce records a single-use value (a signed request's signature)
	// until exp. Claiming a value whose record is still live at now answers
	// a *ConflictError (Kind "nonce"); an expired record is claimed anew.
	// DeleteExpired removes records past their exp.
	ClaimNonce(ctx context.Context, realmID, nonce string, exp, now time.Time) error

	// Authorization services (see authz.go). Names are unique per
	// resource server and kind (ConflictError Kind "resource", "scope" or
	// "policy", Field "name"). DeleteClient deletes the records of the
	// resource server it was; DeleteRealm, all of them.
	//
	// CreateAuthzResource: a ParentID must name a resource of the same
	// server (else ErrNotFound); a set AccessKey hash is unique per realm.
	CreateAuthzResource(ctx context.Context, realmID string, r AuthzResource) error
	GetAuthzResource(ctx context.Context, realmID, id string) (AuthzResource, error)
	GetAuthzResourceByName(ctx context.Context, realmID, serverID, name string) (AuthzResource, error)
	// GetAuthzResourceByAccessKey finds the resource whose current access
	// key has this hash.
	GetAuthzResourceByAccessKey(ctx context.Context, realmID, hash string) (AuthzResource, error)
	ListAuthzResources(ctx context.Context, realmID, serverID string, q AuthzResourceQuery) ([]AuthzResource, error)
	// UpdateAuthzResource may rename the resource, change its parent (to a
	// resource of the same server, not itself or a descendant:
	// ErrInvalidParent) and replace its access key (the old hash stops
	// matching in the same commit).
	UpdateAuthzResource(ctx context.Context, realmID, id string, fn func(*AuthzResource) error) (AuthzResource, error)
	// DeleteAuthzResource refuses a resource with children: ErrHasChildren.
	DeleteAuthzResource(ctx context.Context, realmID, id string) error
	CreateAuthzScope(ctx context.Context, realmID string, sc AuthzScope) error
	GetAuthzScope(ctx context.Context, realmID, id string) (AuthzScope, error)
	ListAuthzScopes(ctx context.Context, realmID, serverID string) ([]AuthzScope, error) // ordered by name
	UpdateAuthzScope(ctx context.Context, realmID, id string, fn func(*AuthzScope) error) (AuthzScope, error)
	DeleteAuthzScope(ctx context.Context, realmID, id string) error
	CreateAuthzPolicy(ctx context.Context, realmID string, p AuthzPolicy) error
	GetAuthzPolicy(ctx context.Context, realmID, id string) (AuthzPolicy, error)
	ListAuthzPolicies(ctx context.Context, realmID, serverID string) ([]AuthzPolicy, error) // ordered by name
	UpdateAuthzPolicy(ctx context.Context, realmID, id string, fn func(*AuthzPolicy) error) (AuthzPolicy, error)
	DeleteAuthzPolicy(ctx context.Context, realmID, id string) error

	// DeleteExpired removes at most limit expired refresh tokens, sessions,
	// revoked-jti rows and nonces whose expiry is before now, returning how
	// many went.
	DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error)

	Close() error
}

// RealmContents are the records a new realm starts with.
type RealmContents struct {
	Keys         []SigningKey
	Roles        []Role
	ClientScopes []ClientScope
	Clients      []Client
	// Users are stored as given, with their credentials and role mappings
	// (first start creates master's admin with the realm, so no crash can
	// leave a master realm nobody can administer).
	Users []User
}

// Page selects a window of an ordered list. Max <= 0 means the backend's
// default of 100.
type Page struct {
	First int
	Max   int
}

// DefaultMax is the page size used when Page.Max <= 0.
const DefaultMax = 100

// ClientQuery filters ListClients.
type ClientQuery struct {
	Page
	// ClientID matches exactly unless Search is set, then it is a
	// case-insensitive substring.
	ClientID string
	Search   bool
}

// UserQuery filters ListUsers and CountUsers. Empty fields do not filter.
type UserQuery struct {
	Page
	// Search matches username, email, first or last name with Keycloak's
	// pattern rules (see MatchSearch: prefix, "*" wildcard, quoted exact).
	Search    string
	Username  string
	Email     string
	FirstName string
	LastName  string
	// Exact makes Username, Email, FirstName and LastName match whole
	// values (case-insensitive) instead of substrings.
	Exact bool
	// Attributes: the user has, for each key, the value among its values
	// (exact, case-sensitive).
	Attributes map[string]string
	// IDPAlias selects users linked to that identity provider, and with
	// IDPUserID to that account there.
	IDPAlias  string
	IDPUserID string
	Enabled   *bool
	// ServiceAccounts includes service-account users; Keycloak hides them
	// from user searches.
	ServiceAccounts bool
	// RoleID keeps users with this role directly mapped; GroupID keeps
	// direct members of this group.
	RoleID  string
	GroupID string
}

// LoginEventQuery filters ListLoginEvents. Empty fields do not filter.
type LoginEventQuery struct {
	Page
	Types     []string // any of
	ClientID  string   // clientId, exact
	UserID    string
	IPAddress string
	// From and To bound the event time (inclusive); zero = open.
	From, To time.Time
}

// SessionQuery filters ListSessions.
type SessionQuery struct {
	UserID   string
	ClientID string
}

// KnoxTokenQuery filters ListKnoxTokens.
type KnoxTokenQuery struct {
	UserID      string
	CreatedByID string
}

// ErrLimitExceeded: the per-user token limit is reached.
var ErrLimitExceeded = errors.New("store: per-user token limit exceeded")

// RotationPolicy is the refresh-token reuse policy of a realm.
type RotationPolicy struct {
	Grace    time.Duration
	MaxReuse int
}

// Use records the presentation of rt for rotation at now, as
// RotateRefreshToken's contract says: a first use, or a reuse within the
// policy's grace, updates rt and returns true; any other reuse returns
// false (the family is to be revoked) and leaves rt alone.
func (p RotationPolicy) Use(rt *RefreshToken, now time.Time) bool {
	switch {
	case rt.UsedAt.IsZero():
		rt.UsedAt, rt.UseCount = now, 1
	case p.Grace > 0 && now.Sub(rt.UsedAt) <= p.Grace && rt.UseCount <= p.MaxReuse:
		rt.UseCount++
	default:
		return false
	}
	return true
}
