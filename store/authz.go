package store

import (
	"errors"
	"time"
)

// Authorization services (Keycloak's "authz"): a client with
// Client.Authorization set is a resource server; it owns resources, scopes
// and policies (permissions are policies of type "resource" or "scope", as
// Keycloak stores them). ServerID is always the resource server's client
// UUID (creating a record for any ID that is no client of the realm is
// ErrNotFound, so none outlives DeleteClient), and names are unique per
// server and kind.

// ErrHasChildren: a record that still has children (a resource that is the
// parent of other resources) cannot be deleted.
var ErrHasChildren = errors.New("store: record still has children")

// AuthzSettings are a resource server's settings (Keycloak's
// ResourceServerRepresentation).
type AuthzSettings struct {
	// PolicyEnforcementMode is ENFORCING, PERMISSIVE or DISABLED.
	PolicyEnforcementMode string `json:"policyEnforcementMode"`
	// DecisionStrategy combines the permissions that apply to one
	// resource and scope: UNANIMOUS or AFFIRMATIVE.
	DecisionStrategy              string `json:"decisionStrategy"`
	AllowRemoteResourceManagement bool   `json:"allowRemoteResourceManagement"`
}

// BackendRole is a realm role or a group a restricted resource is shared
// with, by ID (a rename changes nothing about who shares it).
type BackendRole struct {
	Type string `json:"type"` // BackendRoleRole or BackendRoleGroup
	ID   string `json:"id"`
}

// Backend role types.
const (
	BackendRoleRole  = "role"
	BackendRoleGroup = "group"
)

// AuthzResource is a protected resource of a resource server.
type AuthzResource struct {
	ID          string              `json:"id"`
	ServerID    string              `json:"serverId"`
	Name        string              `json:"name"`
	DisplayName string              `json:"displayName,omitempty"`
	Type        string              `json:"type,omitempty"`
	URIs        []string            `json:"uris,omitempty"`
	IconURI     string              `json:"iconUri,omitempty"`
	ScopeIDs    []string            `json:"scopeIds,omitempty"`
	Attributes  map[string][]string `json:"attributes,omitempty"`
	Description string              `json:"description,omitempty"`
	// OwnerID is a user ID, or a client UUID (the resource server's own
	// resources have OwnerID = ServerID).
	OwnerID            string `json:"ownerId"`
	OwnerManagedAccess bool   `json:"ownerManagedAccess,omitempty"`
	// AccessMode is public, private or restricted (never empty once
	// stored); BackendRoles are set only for restricted.
	AccessMode   string        `json:"accessMode"`
	BackendRoles []BackendRole `json:"backendRoles,omitempty"`
	// ParentID makes this resource a child (a model of a model group);
	// a parent with children cannot be deleted.
	ParentID  string    `json:"parentId,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	// AccessKey is the resource's one access key, by hash.
	AccessKey *ResourceAccessKey `json:"accessKey,omitempty"`
}

// ResourceAccessKey is the SHA-256 (hex) of a resource's access key and
// when it was made; the plaintext is shown once and never stored.
type ResourceAccessKey struct {
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"createdAt"`
}

// AuthzScope is a scope of a resource server (an action on resources).
type AuthzScope struct {
	ID          string `json:"id"`
	ServerID    string `json:"serverId"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName,omitempty"`
	IconURI     string `json:"iconUri,omitempty"`
}

// AuthzPolicy is a policy or a permission of a resource server.
type AuthzPolicy struct {
	ID          string `json:"id"`
	ServerID    string `json:"serverId"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Type: role, group, user, client, aggregate (policies); resource,
	// scope (permissions).
	Type string `json:"type"`
	// Logic is POSITIVE or NEGATIVE.
	Logic string `json:"logic"`
	// DecisionStrategy (UNANIMOUS, AFFIRMATIVE, CONSENSUS) combines
	// PolicyIDs for aggregates and permissions.
	DecisionStrategy string `json:"decisionStrategy"`

	Roles     []AuthzRoleRef  `json:"roles,omitempty"`
	Groups    []AuthzGroupRef `json:"groups,omitempty"`
	UserIDs   []string        `json:"userIds,omitempty"`
	ClientIDs []string        `json:"clientIds,omitempty"` // client UUIDs
	// PolicyIDs are an aggregate's policies or a permission's applied
	// policies.
	PolicyIDs []string `json:"policyIds,omitempty"`
	// ResourceIDs, ResourceType and ScopeIDs select what a permission
	// covers.
	ResourceIDs  []string `json:"resourceIds,omitempty"`
	ResourceType string   `json:"resourceType,omitempty"`
	ScopeIDs     []string `json:"scopeIds,omitempty"`
}

// AuthzRoleRef is a role of a role policy; Required roles must all be
// held, besides any one of the others.
type AuthzRoleRef struct {
	ID       string `json:"id"`
	Required bool   `json:"required,omitempty"`
}

// AuthzGroupRef is a group of a group policy; ExtendChildren also matches
// members of its subgroups.
type AuthzGroupRef struct {
	ID             string `json:"id"`
	ExtendChildren bool   `json:"extendChildren,omitempty"`
}

// AuthzResourceQuery filters ListAuthzResources; empty fields do not
// filter. Results are ordered by name.
type AuthzResourceQuery struct {
	OwnerID  string
	ParentID string
}

// AccessKeyHash is the hash of r's access key, "" when it has none (the
// access-key index holds only resources that have one).
func (r AuthzResource) AccessKeyHash() string {
	if r.AccessKey == nil {
		return ""
	}
	return r.AccessKey.Hash
}

// maxResourceDepth bounds CheckParent's walk up the parent chain.
const maxResourceDepth = 1024

// CheckParent is the parent rule every backend applies in its write
// transaction: r's parent must be a resource of r's server, and r may not
// become its own ancestor (ErrInvalidParent). old is r's value before an
// update (nil on create); an unchanged parent is not walked again. get
// reads a resource by ID in the caller's transaction (ErrNotFound when
// there is none).
func (r AuthzResource) CheckParent(old *AuthzResource, get func(id string) (AuthzResource, error)) error {
	if r.ParentID == "" || old != nil && old.ParentID == r.ParentID {
		return nil
	}
	for p, n := r.ParentID, 0; p != ""; n++ {
		if p == r.ID || n > maxResourceDepth {
			return ErrInvalidParent
		}
		parent, err := get(p)
		if err != nil {
			return err
		}
		if parent.ServerID != r.ServerID {
			return ErrNotFound
		}
		p = parent.ParentID
	}
	return nil
}

// UpdatedAuthzResource applies an update fn to a copy of old (its access
// key copied too, so fn cannot reach the stored value) and keeps the rules
// every backend enforces: the ID stays, and a resource never changes
// server (ErrNotFound, as if it were not there).
func UpdatedAuthzResource(old AuthzResource, fn func(*AuthzResource) error) (AuthzResource, error) {
	r := old
	if old.AccessKey != nil {
		k := *old.AccessKey
		r.AccessKey = &k
	}
	if err := fn(&r); err != nil {
		return AuthzResource{}, err
	}
	r.ID = old.ID
	if r.ServerID != old.ServerID {
		return AuthzResource{}, ErrNotFound
	}
	return r, nil
}
