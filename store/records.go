package store

import "time"

// Realm is a tenant: its own clients, users, roles, keys and sessions.
type Realm struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName,omitempty"`
	Enabled     bool   `json:"enabled"`
	// Version increases with every update; caches key on it.
	Version uint64 `json:"version"`

	// Lifetimes in seconds.
	AccessTokenLifespan   int `json:"accessTokenLifespan"`
	SSOSessionIdleTimeout int `json:"ssoSessionIdleTimeout"`
	SSOSessionMaxLifespan int `json:"ssoSessionMaxLifespan"`

	// DefaultSignatureAlgorithm is RS256, ES256 or EdDSA.
	DefaultSignatureAlgorithm string `json:"defaultSignatureAlgorithm"`

	// Keycloak's refresh-token fields, kept for the admin representation.
	RevokeRefreshToken   bool `json:"revokeRefreshToken"`
	RefreshTokenMaxReuse int  `json:"refreshTokenMaxReuse"`
	// RefreshTokenReuseGraceSeconds: a rotated-out refresh token presented
	// again within this many seconds is honoured instead of revoking the
	// family (0 = strict).
	RefreshTokenReuseGraceSeconds int `json:"refreshTokenReuseGraceSeconds"`

	// NotBefore (unix seconds): tokens issued earlier are stale.
	NotBefore int64 `json:"notBefore"`

	BruteForce BruteForcePolicy `json:"bruteForce"`

	// DefaultRoleID is the composite role (default-roles-<realm>) every new
	// user is given.
	DefaultRoleID string `json:"defaultRoleId,omitempty"`

	// AdminRoleIDs maps each built-in admin right (the realm-management
	// roles by their original names; in master also "admin" and
	// "create-realm") to the ID of the role that grants it. Rights are
	// resolved through these IDs, never through current role names, which
	// an admin could otherwise change.
	AdminRoleIDs map[string]string `json:"adminRoleIds,omitempty"`
	// Personal API keys: the lifetime of a key created without an expiry,
	// and the longest a user may ask for (0 = no maximum), in days.
	APIKeyDefaultLifespanDays int `json:"apiKeyDefaultLifespanDays,omitempty"`
	APIKeyMaxLifespanDays     int `json:"apiKeyMaxLifespanDays,omitempty"`
	// WorkloadTokenLifespan (seconds) of tokens minted by
	// generateWorkloadAuthToken.
	WorkloadTokenLifespan int `json:"workloadTokenLifespan,omitempty"`

	// DefaultScopeIDs and OptionalScopeIDs are the realm's default-default
	// and default-optional client scopes, given to each new client.
	DefaultScopeIDs  []string `json:"defaultClientScopeIds,omitempty"`
	OptionalScopeIDs []string `json:"optionalClientScopeIds,omitempty"`

	Attributes map[string]string `json:"attributes,omitempty"`
	CreatedAt  time.Time         `json:"createdAt"`

	// Keycloak's realm settings (RealmRepresentation), in seconds where
	// they are durations. README ("Realm settings") says which take effect.
	DisplayNameHTML     string `json:"displayNameHtml,omitempty"`
	SSLRequired         string `json:"sslRequired,omitempty"`
	RegistrationAllowed bool   `json:"registrationAllowed,omitempty"`
	RememberMe          bool   `json:"rememberMe,omitempty"`
	VerifyEmail         bool   `json:"verifyEmail,omitempty"`
	// NoLoginWithEmail is Keycloak's loginWithEmailAllowed negated, so
	// that realms stored before it existed keep Keycloak's default (true).
	NoLoginWithEmail     bool `json:"noLoginWithEmail,omitempty"`
	ResetPasswordAllowed bool `json:"resetPasswordAllowed,omitempty"`
	EditUsernameAllowed  bool `json:"editUsernameAllowed,omitempty"`

	OfflineSessionIdleTimeout        int  `json:"offlineSessionIdleTimeout,omitempty"`
	OfflineSessionMaxLifespanEnabled bool `json:"offlineSessionMaxLifespanEnabled,omitempty"`
	OfflineSessionMaxLifespan        int  `json:"offlineSessionMaxLifespan,omitempty"`
	// ClientSession*: 0 = the SSO session's value.
	ClientSessionIdleTimeout            int `json:"clientSessionIdleTimeout,omitempty"`
	ClientSessionMaxLifespan            int `json:"clientSessionMaxLifespan,omitempty"`
	AccessCodeLifespan                  int `json:"accessCodeLifespan,omitempty"`
	AccessCodeLifespanUserAction        int `json:"accessCodeLifespanUserAction,omitempty"`
	AccessCodeLifespanLogin             int `json:"accessCodeLifespanLogin,omitempty"`
	ActionTokenGeneratedByAdminLifespan int `json:"actionTokenGeneratedByAdminLifespan,omitempty"`
	ActionTokenGeneratedByUserLifespan  int `json:"actionTokenGeneratedByUserLifespan,omitempty"`

	Events EventsConfig `json:"events"`
}

// EventsConfig is Keycloak's RealmEventsConfigRepresentation for login
// events. (Admin events are always recorded.)
type EventsConfig struct {
	Enabled bool `json:"enabled,omitempty"`
	// EnabledTypes: empty = every type.
	EnabledTypes []string `json:"enabledTypes,omitempty"`
	// ExpirationSeconds: events older than this are deleted; 0 = kept.
	ExpirationSeconds int64    `json:"expirationSeconds,omitempty"`
	Listeners         []string `json:"listeners,omitempty"`
}

// BruteForcePolicy mirrors Keycloak's realm brute-force settings.
type BruteForcePolicy struct {
	Protected                    bool `json:"bruteForceProtected"`
	PermanentLockout             bool `json:"permanentLockout"`
	FailureFactor                int  `json:"failureFactor"`
	WaitIncrementSeconds         int  `json:"waitIncrementSeconds"`
	MaxFailureWaitSeconds        int  `json:"maxFailureWaitSeconds"`
	MaxDeltaTimeSeconds          int  `json:"maxDeltaTimeSeconds"`
	QuickLoginCheckMilliSeconds  int  `json:"quickLoginCheckMilliSeconds"`
	MinimumQuickLoginWaitSeconds int  `json:"minimumQuickLoginWaitSeconds"`
}

// Client is an OAuth2 client of a realm.
type Client struct {
	ID          string `json:"id"` // UUID, immutable
	ClientID    string `json:"clientId"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`

	Enabled                   bool `json:"enabled"`
	PublicClient              bool `json:"publicClient"`
	BearerOnly                bool `json:"bearerOnly"`
	ConsentRequired           bool `json:"consentRequired"`
	StandardFlowEnabled       bool `json:"standardFlowEnabled"`
	DirectAccessGrantsEnabled bool `json:"directAccessGrantsEnabled"`
	ServiceAccountsEnabled    bool `json:"serviceAccountsEnabled"`

	RedirectURIs []string          `json:"redirectUris,omitempty"`
	WebOrigins   []string          `json:"webOrigins,omitempty"`
	Attributes   map[string]string `json:"attributes,omitempty"`

	// Secret is the current secret; Rotated, when set, is the previous one,
	// still accepted until its ExpiresAt.
	Secret  *Secret `json:"secret,omitempty"`
	Rotated *Secret `json:"rotated,omitempty"`

	// NotBefore (unix seconds): the client's tokens issued earlier are stale.
	NotBefore int64 `json:"notBefore,omitempty"`

	// ScopesAssigned says DefaultScopeIDs and OptionalScopeIDs were set;
	// clients stored before client scopes existed have neither and take
	// the realm's defaults.
	ScopesAssigned   bool     `json:"scopesAssigned,omitempty"`
	DefaultScopeIDs  []string `json:"defaultClientScopeIds,omitempty"`
	OptionalScopeIDs []string `json:"optionalClientScopeIds,omitempty"`
	// ProtocolMappers are the client's own mappers (besides its scopes').
	ProtocolMappers []ProtocolMapper `json:"protocolMappers,omitempty"`
	// ScopeRoleIDs are the client's scope mappings: with RestrictScope
	// (Keycloak's fullScopeAllowed=false) its tokens carry only these
	// roles, its own and its scopes' mappings.
	ScopeRoleIDs  []string `json:"scopeRoleIds,omitempty"`
	RestrictScope bool     `json:"restrictScope,omitempty"`

	// Authorization is set when the client is a resource server
	// (Keycloak's authorizationServicesEnabled).
	Authorization *AuthzSettings `json:"authorization,omitempty"`

	CreatedAt time.Time `json:"createdAt"`
}

// ClientScope is Keycloak's client scope: a named set of protocol mappers
// and scope mappings that clients take by default or on request. Name is
// unique per realm.
type ClientScope struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Protocol    string            `json:"protocol"`
	Attributes  map[string]string `json:"attributes,omitempty"`
	// ProtocolMappers run in this order.
	ProtocolMappers []ProtocolMapper `json:"protocolMappers,omitempty"`
	ScopeRoleIDs    []string         `json:"scopeRoleIds,omitempty"`
}

// ProtocolMapper is Keycloak's protocol mapper: a mapper type
// (ProtocolMapper, e.g. oidc-usermodel-attribute-mapper) with its config.
// Name is unique within its client or client scope.
type ProtocolMapper struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	Protocol       string            `json:"protocol"`
	ProtocolMapper string            `json:"protocolMapper"`
	Config         map[string]string `json:"config,omitempty"`
}

// Secret is a client secret at rest: the value AES-GCM-sealed under the
// master key (admins may read it back) and an HMAC-SHA256 digest for the
// constant-time fast path on every token request.
type Secret struct {
	Sealed    []byte    `json:"sealed"`
	Digest    []byte    `json:"digest"`
	CreatedAt time.Time `json:"createdAt"`
	// ExpiresAt zero means no expiry.
	ExpiresAt time.Time `json:"expiresAt,omitempty"`
}

// User is a person or a client's service account.
type User struct {
	ID            string              `json:"id"` // UUID, the token's sub
	Username      string              `json:"username"`
	Email         string              `json:"email,omitempty"`
	EmailVerified bool                `json:"emailVerified"`
	FirstName     string              `json:"firstName,omitempty"`
	LastName      string              `json:"lastName,omitempty"`
	Enabled       bool                `json:"enabled"`
	Attributes    map[string][]string `json:"attributes,omitempty"`
	// RoleIDs are the directly mapped realm and client roles.
	RoleIDs []string `json:"roleIds,omitempty"`
	// GroupIDs are the groups the user is a direct member of. IDs of
	// groups deleted since are ignored (group IDs are never reused).
	GroupIDs        []string     `json:"groupIds,omitempty"`
	Credentials     []Credential `json:"credentials,omitempty"`
	RequiredActions []string     `json:"requiredActions,omitempty"`
	// ServiceAccountClientID is the UUID of the client whose service account
	// this user is; empty for people.
	ServiceAccountClientID string    `json:"serviceAccountClientId,omitempty"`
	NotBefore              int64     `json:"notBefore,omitempty"`
	CreatedAt              time.Time `json:"createdAt"`
	// FederatedIdentities link the user to accounts at the realm's identity
	// providers: tokens of a provider speak for this user only through a
	// link (or the provider's configured principal claim).
	FederatedIdentities []FederatedIdentity `json:"federatedIdentities,omitempty"`
}

// FederatedIdentity is Keycloak's federated identity link: the account
// UserID (the provider's sub) at identity provider IdentityProvider (its
// alias). (IdentityProvider, UserID) is unique per realm and a user has at
// most one link per provider.
type FederatedIdentity struct {
	IdentityProvider string `json:"identityProvider"`
	UserID           string `json:"userId"`
	UserName         string `json:"userName"`
}

// Credential is a stored password hash in Keycloak's terms.
type Credential struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"` // "password"
	UserLabel  string            `json:"userLabel,omitempty"`
	CreatedAt  time.Time         `json:"createdAt"`
	Algorithm  string            `json:"algorithm"` // argon2, pbkdf2-sha256, pbkdf2-sha512, bcrypt
	Iterations int               `json:"iterations"`
	Salt       []byte            `json:"salt,omitempty"`
	Hash       []byte            `json:"hash"`
	Params     map[string]string `json:"params,omitempty"`
	Temporary  bool              `json:"temporary,omitempty"`
}

// Role is a realm role (ClientID "") or a client role.
type Role struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// ClientID is the owning client's UUID for client roles.
	ClientID string `json:"clientId,omitempty"`
	// Composites are IDs of roles this role implies.
	Composites []string            `json:"composites,omitempty"`
	Attributes map[string][]string `json:"attributes,omitempty"`
}

// Group is a node of a realm's group tree (Keycloak's GroupModel). Name is
// unique among its siblings; members inherit RoleIDs of the group and of
// every ancestor.
type Group struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// ParentID is the parent group's ID, "" for a top-level group.
	ParentID   string              `json:"parentId,omitempty"`
	Attributes map[string][]string `json:"attributes,omitempty"`
	// RoleIDs are the realm and client roles mapped to the group.
	RoleIDs []string `json:"roleIds,omitempty"`
}

// SigningKey is a realm's token-signing key pair.
type SigningKey struct {
	KID       string `json:"kid"`
	Algorithm string `json:"alg"` // RS256, ES256, EdDSA
	// Status: "active" signs and verifies; "passive" only verifies;
	// "disabled" does neither.
	Status string `json:"status"`
	// SealedPrivate is the private JWK (JSON) sealed under the master key.
	SealedPrivate []byte `json:"sealedPrivate"`
	// PublicJWK is the public JWK (JSON), published at the JWKS endpoint.
	PublicJWK []byte    `json:"publicJwk"`
	CreatedAt time.Time `json:"createdAt"`
}

// Key statuses.
const (
	KeyActive   = "active"
	KeyPassive  = "passive"
	KeyDisabled = "disabled"
)

// Session is a user (or service-account) session: the family of refresh
// tokens that descend from one login. Its ID is the token's sid claim.
type Session struct {
	ID          string    `json:"id"`
	ClientID    string    `json:"clientId"` // client UUID
	UserID      string    `json:"userId"`
	Scope       string    `json:"scope"`
	AuthTime    time.Time `json:"authTime"`
	LastRefresh time.Time `json:"lastRefresh"`
	// ExpiresAt is the hard end (SSO max lifespan).
	ExpiresAt time.Time `json:"expiresAt"`
	// IPAddress is the address the session was started from (Keycloak's
	// UserSessionRepresentation.ipAddress); LastRefresh is its lastAccess.
	IPAddress string `json:"ipAddress,omitempty"`
}

// AuthCode is an authorization code, stored by the SHA-256 of the code
// handed to the client; the code itself is never stored. It is bound to the
// client, the redirect URI and the PKCE challenge it was issued for.
type AuthCode struct {
	Hash      string `json:"hash"`
	ClientID  string `json:"clientId"` // client UUID
	UserID    string `json:"userId"`
	SessionID string `json:"sessionId"` // the SSO session it was issued in
	// RedirectURI is the redirect_uri of the authorization request ("" when
	// it had none and the client's only URI was used).
	RedirectURI   string    `json:"redirectUri"`
	Scope         string    `json:"scope"`
	Nonce         string    `json:"nonce,omitempty"`
	CodeChallenge string    `json:"codeChallenge,omitempty"` // S256
	IssuedAt      time.Time `json:"issuedAt"`
	ExpiresAt     time.Time `json:"expiresAt"`
	UsedAt        time.Time `json:"usedAt,omitempty"`
}

// Device authorization states.
const (
	DevicePending  = "pending"
	DeviceApproved = "approved"
	DeviceDenied   = "denied"
	DeviceConsumed = "consumed"
)

// DeviceCode is a device authorization request (RFC 8628), stored by the
// SHA-256 of the device code; the user code is what the user types.
type DeviceCode struct {
	Hash     string `json:"hash"`
	UserCode string `json:"userCode"`
	ClientID string `json:"clientId"` // client UUID
	Scope    string `json:"scope"`
	Status   string `json:"status"`
	// UserID and SessionID are set when the user approves.
	UserID    string    `json:"userId,omitempty"`
	SessionID string    `json:"sessionId,omitempty"`
	IssuedAt  time.Time `json:"issuedAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	LastPoll  time.Time `json:"lastPoll,omitempty"`
}

// RefreshToken is one refresh token of a session, stored by the SHA-256 of
// the opaque value handed to the client; the value itself is never stored.
type RefreshToken struct {
	Hash      string    `json:"hash"` // hex SHA-256 of the opaque token
	SessionID string    `json:"sessionId"`
	ClientID  string    `json:"clientId"` // client UUID
	UserID    string    `json:"userId"`
	Scope     string    `json:"scope"`
	IssuedAt  time.Time `json:"issuedAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	// UsedAt is set when the token is rotated out; zero while it is current.
	UsedAt   time.Time `json:"usedAt,omitempty"`
	UseCount int       `json:"useCount,omitempty"`
}

// AdminEvent is one entry of a realm's admin audit log (Keycloak's
// AdminEventRepresentation).
type AdminEvent struct {
	ID            string    `json:"id"`
	Time          time.Time `json:"time"`
	OperationType string    `json:"operationType"` // CREATE, UPDATE, DELETE, ACTION
	ResourceType  string    `json:"resourceType"`  // REALM, CLIENT, USER, REALM_ROLE, ...
	ResourcePath  string    `json:"resourcePath"`
	// Representation is the JSON written, with secrets and passwords removed.
	Representation string `json:"representation,omitempty"`
	// Who: the caller's realm, client, user and address.
	AuthRealmID string `json:"authRealmId"`
	AuthClient  string `json:"authClientId"`
	AuthUserID  string `json:"authUserId"`
	AuthUser    string `json:"authUsername"`
	IPAddress   string `json:"ipAddress"`
}

// LoginEvent is one entry of a realm's login events (Keycloak's
// EventRepresentation). It never holds a secret, password or token.
type LoginEvent struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
	Type string    `json:"type"` // LOGIN, LOGIN_ERROR, CLIENT_LOGIN, ...
	// ClientID is the client's clientId, as Keycloak records it.
	ClientID  string            `json:"clientId,omitempty"`
	UserID    string            `json:"userId,omitempty"`
	SessionID string            `json:"sessionId,omitempty"`
	IPAddress string            `json:"ipAddress,omitempty"`
	Error     string            `json:"error,omitempty"`
	Details   map[string]string `json:"details,omitempty"`
}

// IdentityProvider is a trusted token issuer of a realm (Keycloak's
// IdentityProviderRepresentation, OIDC only).
type IdentityProvider struct {
	Alias       string            `json:"alias"`
	DisplayName string            `json:"displayName,omitempty"`
	ProviderID  string            `json:"providerId"`
	Enabled     bool              `json:"enabled"`
	Config      map[string]string `json:"config,omitempty"`
	// RealmID is set when the provider is a realm of this server: its
	// tokens are then verified with that realm's keys and state. It is an
	// ID, fixed when the provider is configured, so renaming realms never
	// retargets the trust.
	RealmID string `json:"realmId,omitempty"`
	// SealedClientSecret is config.clientSecret sealed under the master key
	// (the secret is never kept in Config).
	SealedClientSecret []byte `json:"sealedClientSecret,omitempty"`
}

// Topology binds a gateway URL name (/gateway/{name}/knoxtoken/...) to a
// realm and an authentication method, with Knox's KNOXTOKEN settings.
type Topology struct {
	Name string `json:"name"`
	// RealmID binds the topology to its realm by the realm's immutable ID:
	// renaming the realm keeps its topologies, and a realm created later
	// under a deleted realm's name inherits none of them.
	RealmID string `json:"realmId"`
	// Realm is the bound realm's current name, filled in on reads and
	// resolved to RealmID on writes by realms.KnoxService. It is never
	// stored: a stored name would go stale when the realm is renamed.
	Realm          string            `json:"-"`
	Authentication string            `json:"authentication"` // basic | bearer
	TTL            string            `json:"ttl"`            // ISO-8601 duration
	Audiences      []string          `json:"audiences"`
	TargetURL      string            `json:"targetUrl"`
	EndpointCert   string            `json:"endpointPublicCert,omitempty"`
	ClientData     map[string]string `json:"clientData"`
	Managed        bool              `json:"managed"`
	Renewers       []string          `json:"renewers"`
	// RenewerIDs are the user IDs the Renewers named when the topology
	// was saved, position for position ("" for a name with no realm user).
	RenewerIDs    []string `json:"renewerIds,omitempty"`
	MaxLifetime   string   `json:"maxLifetime"`
	RenewInterval string   `json:"renewInterval"`
	LimitPerUser  int      `json:"limitPerUser"`
	LimitAction   string   `json:"limitAction"` // RETURN_ERROR | REMOVE_OLDEST
}

// KnoxToken is the server-side state of a managed Knox token.
type KnoxToken struct {
	ID string `json:"id"` // token_id, the knox.id claim
	// UserID is the owner's user ID: the token follows that user, never a
	// later user given the same name. Rows written before tokens were bound
	// have none and belong to no user.
	UserID string `json:"userId,omitempty"`
	// Username and CreatedBy are the names at issue time, for display.
	Username    string    `json:"username"`
	CreatedBy   string    `json:"createdBy"`
	CreatedByID string    `json:"createdById,omitempty"`
	Topology    string    `json:"topology"`
	IssuedAt    time.Time `json:"issuedAt"`
	// ExpiresAt zero = never.
	ExpiresAt   time.Time `json:"expiresAt"`
	MaxLifetime time.Time `json:"maxLifetime"`
	Enabled     bool      `json:"enabled"`
	// DisabledBy says who disabled the token (KnoxDisabledByOwner or
	// KnoxDisabledByAdmin): an owner may undo only their own disabling.
	DisabledBy string            `json:"disabledBy,omitempty"`
	Comment    string            `json:"comment,omitempty"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	// PasscodeDigest is the HMAC of the passcode; the passcode itself is
	// shown once.
	PasscodeDigest []byte    `json:"passcodeDigest,omitempty"`
	LastUsedAt     time.Time `json:"lastUsedAt,omitempty"`
}

// Who disabled a Knox token.
const (
	KnoxDisabledByOwner = "owner"
	KnoxDisabledByAdmin = "admin"
)

// KnoxTokenLimit bounds the tokens one user (by UserID) may hold (Knox's
// per-user limit). Max <= 0 means no limit.
type KnoxTokenLimit struct {
	Max int
	// RemoveOldest evicts the user's oldest token instead of refusing.
	RemoveOldest bool
	// Now: tokens expired by then do not count.
	Now time.Time
}

// LoginFailure is brute-force state for one user, or one client as seen
// from one remote address (Keycloak's UserLoginFailure). Key is
// "user:<id>" or "client:<id>@<address>".
type LoginFailure struct {
	Key         string    `json:"key"`
	NumFailures int       `json:"numFailures"`
	LastFailure time.Time `json:"lastFailure"`
	LastIP      string    `json:"lastIp,omitempty"`
	// NotBefore: no login is accepted before it.
	NotBefore time.Time `json:"notBefore,omitempty"`
	// Permanent: locked until an admin clears it.
	Permanent bool `json:"permanent,omitempty"`
}
