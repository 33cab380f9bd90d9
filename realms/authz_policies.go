package realms

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/store"
)

// Policy types. Permissions are policies of type resource or scope.
const (
	PolicyRole      = "role"
	PolicyGroup     = "group"
	PolicyUser      = "user"
	PolicyClient    = "client"
	PolicyAggregate = "aggregate"
	PermResource    = "resource"
	PermScope       = "scope"
)

// IsPermission tells permissions from policies.
func IsPermission(p store.AuthzPolicy) bool { return p.Type == PermResource || p.Type == PermScope }

// authzScopes and authzPolicies read a server's scopes and policies
// through the realm's generation cache: a bounded population per server
// that every decision reads, and every write to it moves the generation.
func (s *Service) authzScopes(ctx context.Context, realmID, serverID string) ([]store.AuthzScope, error) {
	return getCached(s, &s.authzScopeLists, realmID, serverID, func() ([]store.AuthzScope, error) {
		return s.store.ListAuthzScopes(ctx, realmID, serverID)
	})
}

func (s *Service) authzPolicies(ctx context.Context, realmID, serverID string) ([]store.AuthzPolicy, error) {
	return getCached(s, &s.authzPolicyLists, realmID, serverID, func() ([]store.AuthzPolicy, error) {
		return s.store.ListAuthzPolicies(ctx, realmID, serverID)
	})
}

// manageServer checks that the caller administers the resource server.
func (s *Service) manageServer(ctx context.Context, realmID, serverID string, caller AuthzCaller) (store.Client, error) {
	srv, err := s.ResourceServer(ctx, realmID, serverID)
	if err != nil {
		return srv, err
	}
	return srv, s.requireServerAdmin(ctx, realmID, srv, caller)
}

func validateScope(sc store.AuthzScope) error {
	if err := printableName("name", sc.Name, 255); err != nil {
		return err
	}
	if sc.DisplayName != "" {
		return printableName("displayName", sc.DisplayName, 255)
	}
	return nil
}

// CreateScope adds a scope to the resource server (its admins only).
func (s *Service) CreateScope(ctx context.Context, realmID, serverID string, caller AuthzCaller, sc store.AuthzScope) (store.AuthzScope, error) {
	if err := validateScope(sc); err != nil {
		return sc, err
	}
	srv, err := s.manageServer(ctx, realmID, serverID, caller)
	if err != nil {
		return sc, err
	}
	sc.ID, sc.ServerID = NewID(), srv.ID
	if err := s.store.CreateAuthzScope(ctx, realmID, sc); err != nil {
		return store.AuthzScope{}, err
	}
	s.changed(ctx, realmID)
	return sc, nil
}

// Scope returns a scope of the server; every caller the server knows may
// read scopes (they name actions, not data).
func (s *Service) Scope(ctx context.Context, realmID, serverID, id string) (store.AuthzScope, error) {
	if _, err := s.ResourceServer(ctx, realmID, serverID); err != nil {
		return store.AuthzScope{}, err
	}
	scopes, err := s.authzScopes(ctx, realmID, serverID)
	if err != nil {
		return store.AuthzScope{}, err
	}
	for _, sc := range scopes {
		if sc.ID == id {
			return sc, nil
		}
	}
	return store.AuthzScope{}, store.ErrNotFound
}

// ListScopes lists the server's scopes whose name contains name
// (case-insensitive), ordered by name.
func (s *Service) ListScopes(ctx context.Context, realmID, serverID, name string, p store.Page) ([]store.AuthzScope, error) {
	if _, err := s.ResourceServer(ctx, realmID, serverID); err != nil {
		return nil, err
	}
	all, err := s.authzScopes(ctx, realmID, serverID)
	if err != nil {
		return nil, err
	}
	return window(filtered(all, func(sc store.AuthzScope) bool { return containsFold(sc.Name, name) }), p), nil
}

// filtered keeps the elements of all that keep accepts (a new slice,
// never nil: the admin API answers [] rather than null).
func filtered[T any](all []T, keep func(T) bool) []T {
	out := []T{}
	for _, x := range all {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

// UpdateScope replaces a scope's name, display name and icon.
func (s *Service) UpdateScope(ctx context.Context, realmID, serverID string, caller AuthzCaller, id string, sc store.AuthzScope) (store.AuthzScope, error) {
	if err := validateScope(sc); err != nil {
		return sc, err
	}
	if _, err := s.manageServer(ctx, realmID, serverID, caller); err != nil {
		return sc, err
	}
	out, err := s.store.UpdateAuthzScope(ctx, realmID, id, func(cur *store.AuthzScope) error {
		if cur.ServerID != serverID {
			return store.ErrNotFound
		}
		cur.Name, cur.DisplayName, cur.IconURI = sc.Name, sc.DisplayName, sc.IconURI
		return nil
	})
	if err == nil {
		s.changed(ctx, realmID)
	}
	return out, err
}

// DeleteScope removes a scope. Resources and permissions naming it keep
// the dangling ID, which matches nothing from then on (scope IDs are
// never reused).
func (s *Service) DeleteScope(ctx context.Context, realmID, serverID string, caller AuthzCaller, id string) error {
	if _, err := s.manageServer(ctx, realmID, serverID, caller); err != nil {
		return err
	}
	if _, err := s.Scope(ctx, realmID, serverID, id); err != nil {
		return err
	}
	err := s.store.DeleteAuthzScope(ctx, realmID, id)
	if err == nil {
		s.changed(ctx, realmID)
	}
	return err
}

// PolicyFilter selects policies in ListPolicies; empty fields do not
// filter. Permission nil lists policies and permissions, true only
// permissions, false only policies.
type PolicyFilter struct {
	store.Page
	Name       string
	Type       string
	Permission *bool
	// Resource and Scope keep permissions naming that resource or scope
	// (ID or name).
	Resource string
	Scope    string
}

// Policy returns a policy or permission of the server (admins only).
func (s *Service) Policy(ctx context.Context, realmID, serverID string, caller AuthzCaller, id string) (store.AuthzPolicy, error) {
	if _, err := s.manageServer(ctx, realmID, serverID, caller); err != nil {
		return store.AuthzPolicy{}, err
	}
	all, err := s.authzPolicies(ctx, realmID, serverID)
	if err != nil {
		return store.AuthzPolicy{}, err
	}
	for _, p := range all {
		if p.ID == id {
			return p, nil
		}
	}
	return store.AuthzPolicy{}, store.ErrNotFound
}

// ListPolicies lists the server's policies and permissions matching f,
// ordered by name (admins only).
func (s *Service) ListPolicies(ctx context.Context, realmID, serverID string, caller AuthzCaller, f PolicyFilter) ([]store.AuthzPolicy, error) {
	if _, err := s.manageServer(ctx, realmID, serverID, caller); err != nil {
		return nil, err
	}
	all, err := s.authzPolicies(ctx, realmID, serverID)
	if err != nil {
		return nil, err
	}
	var resID, scopeID string
	if f.Resource != "" {
		if resID, err = s.resourceRef(ctx, realmID, serverID, f.Resource); err != nil {
			return []store.AuthzPolicy{}, nil
		}
	}
	if f.Scope != "" {
		if scopeID, err = s.scopeRef(ctx, realmID, serverID, f.Scope); err != nil {
			return []store.AuthzPolicy{}, nil
		}
	}
	return window(filtered(all, func(p store.AuthzPolicy) bool {
		return containsFold(p.Name, f.Name) && (f.Type == "" || p.Type == f.Type) &&
			(f.Permission == nil || *f.Permission == IsPermission(p)) &&
			(resID == "" || slices.Contains(p.ResourceIDs, resID)) &&
			(scopeID == "" || slices.Contains(p.ScopeIDs, scopeID))
	}), f.Page), nil
}

// policyFields are the reference fields each policy type takes.
var policyFields = map[string][]string{
	PolicyRole: {"roles"}, PolicyGroup: {"groups"}, PolicyUser: {"users"}, PolicyClient: {"clients"},
	PolicyAggregate: {"policies"}, PermResource: {"policies", "resources", "resourceType"},
	PermScope: {"policies", "resources", "scopes"},
}

// CreatePolicy adds a policy or permission. References in p (roles,
// groups, users, clients, policies, resources, scopes) may be given by ID
// or by name (role names, "clientId/role" for client roles, group paths,
// usernames, clientIds, policy, resource and scope names); they are stored
// as IDs.
func (s *Service) CreatePolicy(ctx context.Context, realmID, serverID string, caller AuthzCaller, p store.AuthzPolicy) (store.AuthzPolicy, error) {
	srv, err := s.manageServer(ctx, realmID, serverID, caller)
	if err != nil {
		return p, err
	}
	p.ID, p.ServerID = NewID(), srv.ID
	if p, err = s.normalizePolicy(ctx, realmID, p); err != nil {
		return p, err
	}
	if err := s.store.CreateAuthzPolicy(ctx, realmID, p); err != nil {
		return store.AuthzPolicy{}, err
	}
	s.changed(ctx, realmID)
	return p, nil
}

// UpdatePolicy replaces a policy; its type cannot change.
func (s *Service) UpdatePolicy(ctx context.Context, realmID, serverID string, caller AuthzCaller, id string, p store.AuthzPolicy) (store.AuthzPolicy, error) {
	cur, err := s.Policy(ctx, realmID, serverID, caller, id)
	if err != nil {
		return p, err
	}
	if p.Type == "" {
		p.Type = cur.Type
	}
	if p.Type != cur.Type {
		return p, invalid("type", "the type of a policy cannot change")
	}
	p.ID, p.ServerID = id, serverID
	if p, err = s.normalizePolicy(ctx, realmID, p); err != nil {
		return p, err
	}
	out, err := s.store.UpdateAuthzPolicy(ctx, realmID, id, func(x *store.AuthzPolicy) error {
		*x = p
		return nil
	})
	if err == nil {
		s.changed(ctx, realmID)
	}
	return out, err
}

// DeletePolicy removes a policy. Aggregates and permissions naming it
// keep the dangling ID, which evaluates to nothing (see authz_eval.go).
func (s *Service) DeletePolicy(ctx context.Context, realmID, serverID string, caller AuthzCaller, id string) error {
	if _, err := s.Policy(ctx, realmID, serverID, caller, id); err != nil {
		return err
	}
	err := s.store.DeleteAuthzPolicy(ctx, realmID, id)
	if err == nil {
		s.changed(ctx, realmID)
	}
	return err
}

// normalizePolicy validates p and resolves its references to IDs.
func (s *Service) normalizePolicy(ctx context.Context, realmID string, p store.AuthzPolicy) (store.AuthzPolicy, error) {
	if err := printableName("name", p.Name, 255); err != nil {
		return p, err
	}
	if p.Logic == "" {
		p.Logic = "POSITIVE"
	}
	if p.Logic != "POSITIVE" && p.Logic != "NEGATIVE" {
		return p, invalid("logic", "logic must be POSITIVE or NEGATIVE")
	}
	if p.DecisionStrategy == "" {
		p.DecisionStrategy = "UNANIMOUS"
	}
	if !validStrategy(p.DecisionStrategy) {
		return p, invalid("decisionStrategy", "decisionStrategy must be UNANIMOUS, AFFIRMATIVE or CONSENSUS")
	}
	// Every field that does not belong to the type is refused by name.
	used := map[string]bool{
		"roles": len(p.Roles) > 0, "groups": len(p.Groups) > 0, "users": len(p.UserIDs) > 0,
		"clients": len(p.ClientIDs) > 0, "policies": len(p.PolicyIDs) > 0, "resources": len(p.ResourceIDs) > 0,
		"resourceType": p.ResourceType != "", "scopes": len(p.ScopeIDs) > 0,
	}
	fields, ok := policyFields[p.Type]
	if !ok {
		return p, invalid("type", "type must be role, group, user, client, aggregate, resource or scope")
	}
	for _, f := range []string{"roles", "groups", "users", "clients", "policies", "resources", "resourceType", "scopes"} {
		if used[f] && !slices.Contains(fields, f) {
			return p, invalid(f, "%s is not a field of a %s policy", f, p.Type)
		}
	}
	if IsPermission(p) && p.Logic != "POSITIVE" {
		return p, invalid("logic", "a permission's logic is POSITIVE")
	}
	var err error
	switch p.Type {
	case PolicyRole:
		if len(p.Roles) == 0 {
			return p, invalid("roles", "a role policy needs roles")
		}
		for i := range p.Roles {
			if p.Roles[i].ID, err = s.roleRef(ctx, realmID, p.Roles[i].ID); err != nil {
				return p, err
			}
		}
	case PolicyGroup:
		if len(p.Groups) == 0 {
			return p, invalid("groups", "a group policy needs groups")
		}
		for i := range p.Groups {
			if p.Groups[i].ID, err = s.groupRef(ctx, realmID, p.Groups[i].ID); err != nil {
				return p, err
			}
		}
	case PolicyUser:
		if len(p.UserIDs) == 0 {
			return p, invalid("users", "a user policy needs users")
		}
		if err := resolveRefs(p.UserIDs, func(ref string) (string, error) { return s.userRef(ctx, realmID, ref) }); err != nil {
			return p, err
		}
	case PolicyClient:
		if len(p.ClientIDs) == 0 {
			return p, invalid("clients", "a client policy needs clients")
		}
		if err := resolveRefs(p.ClientIDs, func(ref string) (string, error) { return s.clientRef(ctx, realmID, ref) }); err != nil {
			return p, err
		}
	case PolicyAggregate:
		if len(p.PolicyIDs) == 0 {
			return p, invalid("policies", "an aggregate policy needs policies")
		}
	case PermResource:
		if len(p.ResourceIDs) > 0 && p.ResourceType != "" {
			return p, invalid("resourceType", "a resource permission names resources or a resourceType, not both")
		}
		if len(p.ResourceIDs) == 0 && p.ResourceType == "" {
			return p, invalid("resources", "a resource permission needs resources or a resourceType")
		}
	case PermScope:
		if len(p.ScopeIDs) == 0 {
			return p, invalid("scopes", "a scope permission needs scopes")
		}
	}
	if err := resolveRefs(p.ResourceIDs, onServer("resources", "resource", func(ref string) (string, error) {
		return s.resourceRef(ctx, realmID, p.ServerID, ref)
	})); err != nil {
		return p, err
	}
	if err := resolveRefs(p.ScopeIDs, onServer("scopes", "scope", func(ref string) (string, error) {
		return s.scopeRef(ctx, realmID, p.ServerID, ref)
	})); err != nil {
		return p, err
	}
	p.ResourceIDs, p.ScopeIDs = dedupe(p.ResourceIDs), dedupe(p.ScopeIDs)
	if len(p.PolicyIDs) > 0 {
		if err := s.policyRefs(ctx, realmID, &p); err != nil {
			return p, err
		}
	}
	return p, nil
}

// resolveRefs replaces every reference (ID or name) in refs by the ID
// resolve finds for it.
func resolveRefs(refs []string, resolve func(ref string) (string, error)) error {
	for i, ref := range refs {
		id, err := resolve(ref)
		if err != nil {
			return err
		}
		refs[i] = id
	}
	return nil
}

// onServer refuses, as an invalid field, a reference that find (a lookup
// among a resource server's records) finds nothing for.
func onServer(field, what string, find func(ref string) (string, error)) func(ref string) (string, error) {
	return func(ref string) (string, error) {
		id, err := find(ref)
		if errors.Is(err, store.ErrNotFound) {
			return "", invalid(field, "no %s %q on this resource server", what, ref)
		}
		return id, err
	}
}

// policyRefs resolves an aggregate's or permission's policies: policies
// of the same server (not permissions), and no aggregate containing
// itself.
func (s *Service) policyRefs(ctx context.Context, realmID string, p *store.AuthzPolicy) error {
	all, err := s.store.ListAuthzPolicies(ctx, realmID, p.ServerID)
	if err != nil {
		return err
	}
	byID := map[string]store.AuthzPolicy{}
	for _, x := range all {
		byID[x.ID] = x
	}
	for i, ref := range p.PolicyIDs {
		found := false
		for _, x := range all {
			if x.ID == ref || x.Name == ref {
				p.PolicyIDs[i], found = x.ID, true
				if IsPermission(x) {
					return invalid("policies", "%q is a permission, not a policy", ref)
				}
				break
			}
		}
		if !found {
			return invalid("policies", "no policy %q on this resource server", ref)
		}
	}
	// A cycle can only pass through p: walk down from its policies.
	seen := map[string]bool{}
	var walk func(ids []string) bool
	walk = func(ids []string) bool {
		for _, id := range ids {
			if id == p.ID {
				return true
			}
			if seen[id] {
				continue
			}
			seen[id] = true
			if walk(byID[id].PolicyIDs) {
				return true
			}
		}
		return false
	}
	if walk(p.PolicyIDs) {
		return invalid("policies", "an aggregate policy cannot contain itself")
	}
	p.PolicyIDs = dedupe(p.PolicyIDs)
	return nil
}

func dedupe(ids []string) []string {
	var out []string
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// roleRef resolves a role by ID, realm role name or "clientId/role".
func (s *Service) roleRef(ctx context.Context, realmID, ref string) (string, error) {
	if r, err := s.Role(ctx, realmID, ref); err == nil {
		return r.ID, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	if r, err := s.RoleByName(ctx, realmID, "", ref); err == nil {
		return r.ID, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	if cid, name, ok := strings.Cut(ref, "/"); ok {
		c, err := s.ClientByClientID(ctx, realmID, cid)
		if err == nil {
			r, err := s.RoleByName(ctx, realmID, c.ID, name)
			if err == nil {
				return r.ID, nil
			}
		}
	}
	return "", invalid("roles", "no role %q", ref)
}

// groupRef resolves a group by ID or path.
func (s *Service) groupRef(ctx context.Context, realmID, ref string) (string, error) {
	if strings.HasPrefix(ref, "/") {
		g, err := s.GroupByPath(ctx, realmID, ref)
		if err == nil {
			return g.ID, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
	} else if g, err := s.group(ctx, realmID, ref); err == nil {
		return g.ID, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	return "", invalid("groups", "no group %q", ref)
}

// userRef resolves a user by ID or username.
func (s *Service) userRef(ctx context.Context, realmID, ref string) (string, error) {
	u, err := s.userByRef(ctx, realmID, ref)
	if errors.Is(err, store.ErrNotFound) {
		return "", invalid("users", "no user %q", ref)
	}
	return u.ID, err
}

// userByRef finds a user by ID, else by username (ErrNotFound when
// neither names one).
func (s *Service) userByRef(ctx context.Context, realmID, ref string) (store.User, error) {
	if u, err := s.TokenUser(ctx, realmID, ref); err == nil || !errors.Is(err, store.ErrNotFound) {
		return u, err
	}
	return s.store.GetUserByUsername(ctx, realmID, ref)
}

// clientRef resolves a client by UUID or clientId.
func (s *Service) clientRef(ctx context.Context, realmID, ref string) (string, error) {
	c, err := s.clientByRef(ctx, realmID, ref)
	if errors.Is(err, store.ErrNotFound) {
		return "", invalid("clients", "no client %q", ref)
	}
	return c.ID, err
}

// clientByRef finds a client by UUID, else by clientId (ErrNotFound when
// neither names one).
func (s *Service) clientByRef(ctx context.Context, realmID, ref string) (store.Client, error) {
	if c, err := s.Client(ctx, realmID, ref); err == nil || !errors.Is(err, store.ErrNotFound) {
		return c, err
	}
	return s.ClientByClientID(ctx, realmID, ref)
}

// resourceRef resolves a resource of the server by ID or name.
func (s *Service) resourceRef(ctx context.Context, realmID, serverID, ref string) (string, error) {
	r, err := s.resourceByRef(ctx, realmID, serverID, ref)
	return r.ID, err
}

func (s *Service) resourceByRef(ctx context.Context, realmID, serverID, ref string) (store.AuthzResource, error) {
	r, err := s.store.GetAuthzResource(ctx, realmID, ref)
	if err == nil && r.ServerID == serverID {
		return r, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return r, err
	}
	return s.store.GetAuthzResourceByName(ctx, realmID, serverID, ref)
}

// scopeRef resolves a scope of the server by ID or name.
func (s *Service) scopeRef(ctx context.Context, realmID, serverID, ref string) (string, error) {
	all, err := s.authzScopes(ctx, realmID, serverID)
	if err != nil {
		return "", err
	}
	for _, sc := range all {
		if sc.ID == ref || sc.Name == ref {
			return sc.ID, nil
		}
	}
	return "", store.ErrNotFound
}
