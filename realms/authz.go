package realms

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/store"
)

// Authorization services: a resource server's resources, scopes, policies
// and permissions, who may see and change them (the access modes), and
// the decisions (authz_eval.go).
//
// Who is who, for a resource server S:
//   - its admins: users holding S's client role "admin" (effectively:
//     through composites or groups), S's own service account, and callers
//     the admin API marks Admin (they hold view- or manage-authorization
//     of realm-management; the admin API checks which);
//   - the owner of a resource: OwnerID is that user, or that client's
//     service account;
//   - backend roles: realm roles and groups. A user holds a realm role
//     effectively (composites, groups), and belongs to a group when a
//     member of it or of one of its subgroups.
//
// Deleting a resource server's client deletes its resources, scopes and
// policies. Deleting a user (or a client) that owns resources on a server
// leaves them with their access mode: user and client IDs are never
// reused, so they then belong to nobody, and only the server's admins
// change (the owner field included) or delete them; a model group's
// children, perhaps other users', stay where they are.
//
// The resource server itself, calling with its own credentials (an
// AuthzCaller with ClientID = S and no UserID), acts for the owner of the
// resource it writes: it may set every field, add_all_backend_roles
// included (it registers resources on behalf of their owners).

// Access modes of a resource.
const (
	AccessPublic     = "public"
	AccessPrivate    = "private"
	AccessRestricted = "restricted"
)

// AdminRoleName is the client role of a resource server whose holders are
// that server's admins.
const AdminRoleName = "admin"

// AuthzCaller is who asks: a user (UserID, a person or a service account)
// or the resource server itself (ClientID and no UserID). Admin is set by
// the admin API for callers holding its authorization rights (they may be
// users of another realm, such as master admins: UserID is then empty).
// The zero value is anonymous: it sees nothing.
type AuthzCaller struct {
	UserID   string
	ClientID string // client UUID
	Admin    bool
}

// ResourceInput is a resource as a caller writes it. On update the
// descriptive fields replace the stored ones (Keycloak's PUT), while the
// access fields keep their value when absent: AccessMode "", Owner "",
// BackendRoles nil and AddAllBackendRoles false.
type ResourceInput struct {
	Name        string
	DisplayName string
	Type        string
	URIs        []string
	IconURI     string
	Description string
	Attributes  map[string][]string
	// Scopes are scope names (or IDs) of the server; a name not yet known
	// creates the scope, as Keycloak does.
	Scopes []string
	// Owner is a user (ID or username) or a client (UUID or clientId).
	// Empty on create: the calling user, or the server itself when an
	// admin or the server creates it.
	Owner              string
	OwnerManagedAccess bool
	AccessMode         string
	// BackendRoles are realm role names, or group paths ("/team/a").
	BackendRoles       []string
	AddAllBackendRoles bool
	ParentID           string
}

// ResourceFilter selects resources in ListResources; empty fields do not
// filter. Name, Type and URI match case-insensitive substrings unless
// ExactName; Owner is a user or client (ID, username or clientId); Scope
// a scope name.
type ResourceFilter struct {
	store.Page
	Name      string
	ExactName bool
	Owner     string
	Type      string
	URI       string
	Scope     string
	ParentID  string
}

// AccessKeyInfo is what may be known of a resource's access key.
type AccessKeyInfo struct {
	Exists    bool
	CreatedAt int64 // unix milliseconds, 0 when none
}

// ResourceServer returns client serverID when it is a resource server.
func (s *Service) ResourceServer(ctx context.Context, realmID, serverID string) (store.Client, error) {
	c, err := s.Client(ctx, realmID, serverID)
	if err != nil {
		return c, err
	}
	if c.Authorization == nil {
		return store.Client{}, store.ErrNotFound
	}
	return c, nil
}

// DefaultAuthzSettings are a new resource server's settings (Keycloak's).
// Keycloak turns remote resource management on when it enables
// authorization services: the resource server may register its
// resources through the protection API.
func DefaultAuthzSettings() store.AuthzSettings {
	return store.AuthzSettings{PolicyEnforcementMode: "ENFORCING", DecisionStrategy: "UNANIMOUS", AllowRemoteResourceManagement: true}
}

// ValidateAuthzSettings checks a resource server's settings.
func ValidateAuthzSettings(st store.AuthzSettings) error {
	if !slices.Contains([]string{"ENFORCING", "PERMISSIVE", "DISABLED"}, st.PolicyEnforcementMode) {
		return invalid("policyEnforcementMode", "policyEnforcementMode must be ENFORCING, PERMISSIVE or DISABLED")
	}
	if !validStrategy(st.DecisionStrategy) {
		return invalid("decisionStrategy", "decisionStrategy must be UNANIMOUS, AFFIRMATIVE or CONSENSUS")
	}
	return nil
}

func validStrategy(v string) bool {
	return v == "UNANIMOUS" || v == "AFFIRMATIVE" || v == "CONSENSUS"
}

// UpdateAuthzSettings replaces a resource server's settings. Only its
// admins may.
func (s *Service) UpdateAuthzSettings(ctx context.Context, realmID, serverID string, caller AuthzCaller, st store.AuthzSettings) (store.AuthzSettings, error) {
	if err := ValidateAuthzSettings(st); err != nil {
		return st, err
	}
	srv, err := s.ResourceServer(ctx, realmID, serverID)
	if err != nil {
		return st, err
	}
	if err := s.requireServerAdmin(ctx, realmID, srv, caller); err != nil {
		return st, err
	}
	_, err = s.store.UpdateClient(ctx, realmID, serverID, func(c *store.Client) error {
		if c.Authorization == nil {
			return store.ErrNotFound
		}
		v := st
		c.Authorization = &v
		return nil
	})
	if err == nil {
		s.changed(ctx, realmID)
	}
	return st, err
}

// authzActor is a caller or a subject resolved once: who it is and what
// it holds.
type authzActor struct {
	userID   string
	clientID string // the client it speaks for (resource server, service account)
	admin    bool   // admin of this resource server
	roleIDs  map[string]bool
	// groups are the direct memberships; groupsUp adds their ancestors
	// (membership of a subgroup counts for the group).
	groups, groupsUp map[string]bool
}

func (a *authzActor) anonymous() bool { return !a.admin && a.userID == "" && a.clientID == "" }

func (a *authzActor) owns(r store.AuthzResource) bool {
	return r.OwnerID != "" && (r.OwnerID == a.userID || r.OwnerID == a.clientID)
}

func (a *authzActor) holds(b store.BackendRole) bool {
	switch b.Type {
	case store.BackendRoleRole:
		return a.roleIDs[b.ID]
	case store.BackendRoleGroup:
		return a.groupsUp[b.ID]
	}
	return false
}

func (a *authzActor) shares(r store.AuthzResource) bool {
	for _, b := range r.BackendRoles {
		if a.holds(b) {
			return true
		}
	}
	return false
}

// sees is the access-mode rule: who may read (and is granted) r.
func (a *authzActor) sees(r store.AuthzResource) bool {
	if a.anonymous() {
		return false
	}
	if a.admin || a.owns(r) {
		return true
	}
	switch r.AccessMode {
	case AccessPublic:
		return true
	case AccessRestricted:
		return a.shares(r)
	}
	return false
}

// manages: the owner and admins change access fields and delete.
func (a *authzActor) manages(r store.AuthzResource) bool {
	return !a.anonymous() && (a.admin || a.owns(r))
}

// actor resolves a caller against resource server srv. A user that is
// srv's service account is the server itself.
func (s *Service) actor(ctx context.Context, realmID string, srv store.Client, c AuthzCaller) (*authzActor, error) {
	// The client a user came through says nothing about who it is: only
	// the server itself, or a service account, speaks for a client.
	a := &authzActor{admin: c.Admin}
	if c.UserID == "" {
		if c.ClientID == srv.ID {
			a.clientID, a.admin = srv.ID, true
		}
		if c.ClientID != "" && c.ClientID != srv.ID {
			// A client other than the server speaks only through its
			// service account.
			cl, err := s.Client(ctx, realmID, c.ClientID)
			if errors.Is(err, store.ErrNotFound) {
				return a, nil // a deleted client is nobody
			}
			if err != nil {
				return nil, err
			}
			sa, err := s.ServiceAccount(ctx, realmID, cl)
			if errors.Is(err, store.ErrNotFound) {
				// No service account: the client holds no roles, and
				// owns what is registered for it.
				a.clientID = cl.ID
				return a, nil
			}
			if err != nil {
				return nil, err
			}
			c.UserID = sa.ID
		}
		if c.UserID == "" {
			return a, nil
		}
	}
	u, err := s.TokenUser(ctx, realmID, c.UserID)
	if errors.Is(err, store.ErrNotFound) || err == nil && !u.Enabled {
		// A deleted or disabled user holds nothing, from the next
		// request on; an admin of another realm (a master admin) keeps
		// the right the admin API found.
		return &authzActor{admin: c.Admin}, nil
	}
	if err != nil {
		return nil, err
	}
	a.userID = u.ID
	if u.ServiceAccountClientID != "" {
		a.clientID = u.ServiceAccountClientID
		if u.ServiceAccountClientID == srv.ID {
			a.admin = true
		}
	}
	if err := s.fillHoldings(ctx, realmID, u, a); err != nil {
		return nil, err
	}
	if !a.admin {
		adminRole, err := s.RoleByName(ctx, realmID, srv.ID, AdminRoleName)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if err == nil && a.roleIDs[adminRole.ID] {
			a.admin = true
		}
	}
	return a, nil
}

// clientAccount is the service account of client UUID id.
func (s *Service) clientAccount(ctx context.Context, realmID, id string) (store.User, error) {
	c, err := s.Client(ctx, realmID, id)
	if err != nil {
		return store.User{}, err
	}
	return s.ServiceAccount(ctx, realmID, c)
}

// fillHoldings sets a's roles and groups from user u, read fresh through
// the generation-keyed caches: a role or membership removed is gone for
// the next decision.
func (s *Service) fillHoldings(ctx context.Context, realmID string, u store.User, a *authzActor) error {
	eff, err := s.ResolveRoles(ctx, realmID, u)
	if err != nil {
		return err
	}
	a.roleIDs = eff.IDs
	a.groups, a.groupsUp = map[string]bool{}, map[string]bool{}
	for _, gid := range u.GroupIDs {
		chain, err := s.GroupChain(ctx, realmID, gid)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		a.groups[gid] = true
		for _, g := range chain {
			a.groupsUp[g.ID] = true
		}
	}
	return nil
}

func (s *Service) requireServerAdmin(ctx context.Context, realmID string, srv store.Client, c AuthzCaller) error {
	a, err := s.actor(ctx, realmID, srv, c)
	if err != nil {
		return err
	}
	if !a.admin {
		return ErrForbidden
	}
	return nil
}

// ownerHoldings resolves a resource owner (a user, or a client by its
// service account) to what it holds; a client without one holds nothing.
func (s *Service) ownerHoldings(ctx context.Context, realmID, ownerID string) (*authzActor, store.User, error) {
	a := &authzActor{roleIDs: map[string]bool{}, groups: map[string]bool{}, groupsUp: map[string]bool{}}
	u, err := s.TokenUser(ctx, realmID, ownerID)
	if errors.Is(err, store.ErrNotFound) {
		u, err = s.clientAccount(ctx, realmID, ownerID)
		if errors.Is(err, store.ErrNotFound) {
			return a, store.User{}, nil
		}
	}
	if err != nil {
		return nil, store.User{}, err
	}
	a.userID = u.ID
	return a, u, s.fillHoldings(ctx, realmID, u, a)
}

// resolveOwner turns an owner reference (user ID or username, client UUID
// or clientId) into an owner ID.
func (s *Service) resolveOwner(ctx context.Context, realmID, ref string) (string, error) {
	if u, err := s.userByRef(ctx, realmID, ref); err == nil {
		if u.ServiceAccountClientID != "" {
			return u.ServiceAccountClientID, nil
		}
		return u.ID, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	c, err := s.clientByRef(ctx, realmID, ref)
	if errors.Is(err, store.ErrNotFound) {
		return "", invalid("owner", "owner %q is no user or client of the realm", ref)
	}
	return c.ID, err
}

// OwnerName is a resource owner's username, or clientId for a client
// owner ("" when it no longer exists), for representations.
func (s *Service) OwnerName(ctx context.Context, realmID, ownerID string) (string, error) {
	u, err := s.TokenUser(ctx, realmID, ownerID)
	if err == nil {
		return u.Username, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	c, err := s.Client(ctx, realmID, ownerID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return c.ClientID, err
}

// BackendRoleNames turns stored backend roles into their names: realm
// role names and group paths; deleted ones are left out.
func (s *Service) BackendRoleNames(ctx context.Context, realmID string, roles []store.BackendRole) ([]string, error) {
	out := []string{}
	for _, b := range roles {
		var name string
		var err error
		switch b.Type {
		case store.BackendRoleRole:
			var r store.Role
			r, err = s.Role(ctx, realmID, b.ID)
			name = r.Name
		case store.BackendRoleGroup:
			name, err = s.GroupPath(ctx, realmID, b.ID)
		}
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, name)
	}
	return out, nil
}

// backendRoles resolves names (a realm role, or a group path when it
// starts with "/") to backend roles the owner holds.
func (s *Service) backendRoles(ctx context.Context, realmID string, owner *authzActor, names []string) ([]store.BackendRole, error) {
	var out []store.BackendRole
	for _, n := range names {
		var b store.BackendRole
		if strings.HasPrefix(n, "/") {
			g, err := s.GroupByPath(ctx, realmID, n)
			if errors.Is(err, store.ErrNotFound) {
				return nil, invalid("backend_roles", "no group %q", n)
			}
			if err != nil {
				return nil, err
			}
			b = store.BackendRole{Type: store.BackendRoleGroup, ID: g.ID}
		} else {
			r, err := s.RoleByName(ctx, realmID, "", n)
			if errors.Is(err, store.ErrNotFound) {
				return nil, invalid("backend_roles", "no realm role %q", n)
			}
			if err != nil {
				return nil, err
			}
			b = store.BackendRole{Type: store.BackendRoleRole, ID: r.ID}
		}
		if !owner.holds(b) {
			return nil, invalid("backend_roles", "backend role %q is not one of the owner's", n)
		}
		if !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	return out, nil
}

// allBackendRoles are the owner's own backend roles: its directly mapped
// realm roles (but the realm's default role, which everyone holds) and
// the groups it is a direct member of.
func (s *Service) allBackendRoles(ctx context.Context, realmID string, u store.User) ([]store.BackendRole, error) {
	realm, err := s.store.GetRealmByID(ctx, realmID)
	if err != nil {
		return nil, err
	}
	var out []store.BackendRole
	for _, id := range u.RoleIDs {
		if id == realm.DefaultRoleID {
			continue
		}
		r, err := s.Role(ctx, realmID, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if r.ClientID == "" {
			out = append(out, store.BackendRole{Type: store.BackendRoleRole, ID: id})
		}
	}
	for _, gid := range u.GroupIDs {
		if _, err := s.group(ctx, realmID, gid); errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, store.BackendRole{Type: store.BackendRoleGroup, ID: gid})
	}
	return out, nil
}
