package realms

import (
	"context"
	"errors"
	"slices"

	"github.com/gatehouse/gatehouse/store"
)

// Decisions. For each resource asked about, a subject is granted:
//
//   - every scope of the resource, when the resource's access mode lets it
//     see the resource (owner, the server's admins, public to everyone
//     authenticated, restricted to those sharing a backend role): the
//     access mode is a permission of its own that always applies;
//   - otherwise the scopes Keycloak's permissions grant it: for each scope,
//     the resource permissions naming the resource (or its type) and the
//     scope permissions naming the scope (and the resource, or no
//     resource) are combined by the server's decision strategy; each
//     permission combines its policies by its own strategy; a policy's
//     logic NEGATIVE inverts its outcome. A scope no permission covers is
//     granted only in PERMISSIVE mode, and only on the server's own
//     resources (another owner's resource is covered by its access mode);
//     DISABLED grants everything.
//
// So the two grant alongside: policies can open a private resource to
// more subjects, never close it to its owner or admins. A resource without
// scopes is granted as a whole by the same rules.

// AuthzSubject is who a decision is for: a user (a person or a service
// account), and the client its token was issued to (client policies
// match that client).
type AuthzSubject struct {
	UserID   string
	ClientID string // client UUID
}

// PermissionRequest asks about one resource, named by ID or name, or by
// its access key (AccessKey, instead of Resource); no Scopes means all of
// the resource's scopes. A request with neither Resource nor AccessKey
// asks about every resource that has one of the Scopes.
type PermissionRequest struct {
	Resource  string
	AccessKey string
	Scopes    []string
}

// GrantedPermission is a resource granted with the scopes granted on it
// (names).
type GrantedPermission struct {
	ResourceID   string
	ResourceName string
	Scopes       []string
}

// Evaluate decides which of the requested permissions resource server
// serverID grants the subject; no request means every resource of the
// server. An unknown resource (or wrong or old access key) is
// ErrUnknownResource. Roles and memberships are read fresh for each
// decision (through caches that the next role change drops).
func (s *Service) Evaluate(ctx context.Context, realmID, serverID string, subject AuthzSubject, requested []PermissionRequest) ([]GrantedPermission, error) {
	srv, err := s.ResourceServer(ctx, realmID, serverID)
	if err != nil {
		return nil, err
	}
	caller := AuthzCaller{UserID: subject.UserID}
	if subject.UserID == "" {
		// A client speaking for itself: the server, or another client's
		// service account.
		caller.ClientID = subject.ClientID
	}
	a, err := s.actor(ctx, realmID, srv, caller)
	if err != nil {
		return nil, err
	}
	scopes, err := s.authzScopes(ctx, realmID, srv.ID)
	if err != nil {
		return nil, err
	}
	policies, err := s.authzPolicies(ctx, realmID, srv.ID)
	if err != nil {
		return nil, err
	}
	e := &evaluator{srv: srv, settings: *srv.Authorization, a: a, subject: subject,
		scopeName: map[string]string{}, scopeID: map[string]string{}, policies: map[string]store.AuthzPolicy{}, memo: map[string]bool{}}
	for _, sc := range scopes {
		e.scopeName[sc.ID], e.scopeID[sc.Name] = sc.Name, sc.ID
	}
	for _, p := range policies {
		e.policies[p.ID] = p
		if IsPermission(p) {
			e.perms = append(e.perms, p)
		}
	}
	out := []GrantedPermission{}
	add := func(r store.AuthzResource, wanted []string) {
		if g, ok := e.decide(r, wanted); ok {
			out = append(out, g)
		}
	}
	if len(requested) == 0 {
		all, err := s.serverResources(ctx, realmID, srv.ID)
		if err != nil {
			return nil, err
		}
		for _, r := range all {
			add(r, nil)
		}
		return out, nil
	}
	for _, req := range requested {
		wanted, err := e.scopeIDs(req.Scopes)
		if err != nil {
			return nil, err
		}
		switch {
		case req.AccessKey != "" || req.Resource != "":
			var r store.AuthzResource
			if req.AccessKey != "" {
				r, err = s.ResolveResourceByAccessKey(ctx, realmID, srv.ID, req.AccessKey)
			} else {
				r, err = s.resourceByRef(ctx, realmID, srv.ID, req.Resource)
			}
			if errors.Is(err, store.ErrNotFound) {
				return nil, ErrUnknownResource
			}
			if err != nil {
				return nil, err
			}
			add(r, wanted)
		default:
			all, err := s.serverResources(ctx, realmID, srv.ID)
			if err != nil {
				return nil, err
			}
			for _, r := range all {
				if slices.ContainsFunc(wanted, func(id string) bool { return slices.Contains(r.ScopeIDs, id) }) {
					add(r, wanted)
				}
			}
		}
	}
	return mergeGrants(out), nil
}

// maxCachedResources bounds the resource lists kept in memory: a server
// with more resources is read from the store on every listing.
var maxCachedResources = 20000

// serverResources lists every resource of a server, by name, through the
// realm's generation cache (every resource write moves the generation, so
// a listing never misses one): "what may this user see" decides them all,
// and decoding them was most of its cost. The list is shared: callers must
// not modify it.
func (s *Service) serverResources(ctx context.Context, realmID, serverID string) ([]store.AuthzResource, error) {
	rs, err := getCached(s, &s.authzResourceLists, realmID, serverID, func() ([]store.AuthzResource, error) {
		rs, err := s.store.ListAuthzResources(ctx, realmID, serverID, store.AuthzResourceQuery{})
		if err == nil && len(rs) > maxCachedResources {
			return nil, errTooManyToCache{rs}
		}
		return rs, err
	})
	var big errTooManyToCache
	if errors.As(err, &big) {
		return big.rs, nil
	}
	return rs, err
}

// errTooManyToCache carries a listing too large to keep; getCached does
// not cache an error.
type errTooManyToCache struct{ rs []store.AuthzResource }

func (errTooManyToCache) Error() string { return "realms: resource list not cached" }

// mergeGrants folds several grants of one resource into one.
func mergeGrants(in []GrantedPermission) []GrantedPermission {
	out := []GrantedPermission{}
	at := map[string]int{}
	for _, g := range in {
		i, ok := at[g.ResourceID]
		if !ok {
			at[g.ResourceID] = len(out)
			out = append(out, g)
			continue
		}
		for _, sc := range g.Scopes {
			if !slices.Contains(out[i].Scopes, sc) {
				out[i].Scopes = append(out[i].Scopes, sc)
			}
		}
	}
	return out
}

type evaluator struct {
	srv       store.Client
	settings  store.AuthzSettings
	a         *authzActor
	subject   AuthzSubject
	scopeName map[string]string // ID -> name
	scopeID   map[string]string // name -> ID
	policies  map[string]store.AuthzPolicy
	perms     []store.AuthzPolicy
	// memo holds policy outcomes: they depend on the subject only.
	memo map[string]bool
}

// scopeIDs resolves requested scope names (or IDs); a scope the server
// does not know can be granted nowhere, so it is kept as a name that
// matches no resource scope.
func (e *evaluator) scopeIDs(names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		switch {
		case e.scopeID[n] != "":
			out = append(out, e.scopeID[n])
		case e.scopeName[n] != "":
			out = append(out, n)
		default:
			out = append(out, "\x00"+n)
		}
	}
	return out, nil
}

// decide grants r (with the wanted scope IDs, or all its scopes).
func (e *evaluator) decide(r store.AuthzResource, wanted []string) (GrantedPermission, bool) {
	candidates := r.ScopeIDs
	if wanted != nil {
		candidates = nil
		for _, id := range wanted {
			if slices.Contains(r.ScopeIDs, id) {
				candidates = append(candidates, id)
			}
		}
	}
	g := GrantedPermission{ResourceID: r.ID, ResourceName: r.Name, Scopes: []string{}}
	if e.a.anonymous() {
		return g, false
	}
	whole := e.settings.PolicyEnforcementMode == "DISABLED" || e.a.sees(r)
	if len(r.ScopeIDs) == 0 {
		// Asking for scopes of a resource that has none grants nothing.
		if wanted != nil {
			return g, false
		}
		return g, whole || e.combine(r, e.applicable(r, ""))
	}
	for _, id := range candidates {
		if whole || e.combine(r, e.applicable(r, id)) {
			if name, ok := e.scopeName[id]; ok {
				g.Scopes = append(g.Scopes, name)
			}
		}
	}
	return g, len(g.Scopes) > 0
}

// applicable lists the permissions covering r (and scope ID scope, when
// not "").
func (e *evaluator) applicable(r store.AuthzResource, scope string) []store.AuthzPolicy {
	var out []store.AuthzPolicy
	for _, p := range e.perms {
		switch p.Type {
		case PermResource:
			if slices.Contains(p.ResourceIDs, r.ID) || p.ResourceType != "" && p.ResourceType == r.Type {
				out = append(out, p)
			}
		case PermScope:
			if scope != "" && slices.Contains(p.ScopeIDs, scope) &&
				(len(p.ResourceIDs) == 0 || slices.Contains(p.ResourceIDs, r.ID)) {
				out = append(out, p)
			}
		}
	}
	return out
}

// combine applies the server's decision strategy to the permissions that
// cover one scope of r. With none, PERMISSIVE grants the server's own
// resources; another owner's resource is covered by its access mode.
func (e *evaluator) combine(r store.AuthzResource, perms []store.AuthzPolicy) bool {
	if len(perms) == 0 {
		return e.settings.PolicyEnforcementMode == "PERMISSIVE" && r.OwnerID == e.srv.ID
	}
	results := make([]bool, len(perms))
	for i, p := range perms {
		results[i] = e.strategy(p.DecisionStrategy, p.PolicyIDs, 0)
	}
	return decideBy(e.settings.DecisionStrategy, results)
}

// decideBy combines outcomes: UNANIMOUS needs all to grant, AFFIRMATIVE
// one, CONSENSUS more grants than denials. Nothing to combine denies.
func decideBy(strategy string, results []bool) bool {
	grants := 0
	for _, r := range results {
		if r {
			grants++
		}
	}
	if len(results) == 0 {
		return false
	}
	switch strategy {
	case "AFFIRMATIVE":
		return grants > 0
	case "CONSENSUS":
		return grants > len(results)-grants
	default:
		return grants == len(results)
	}
}

// maxPolicyDepth bounds aggregate nesting; writes refuse cycles, this only
// guards against a corrupt store.
const maxPolicyDepth = 32

// strategy evaluates policies (IDs; deleted ones are left out) and
// combines them.
func (e *evaluator) strategy(strategy string, ids []string, depth int) bool {
	var results []bool
	for _, id := range ids {
		p, ok := e.policies[id]
		if !ok || IsPermission(p) {
			continue
		}
		results = append(results, e.policy(p, depth))
	}
	return decideBy(strategy, results)
}

// policy is one policy's outcome, its logic applied.
func (e *evaluator) policy(p store.AuthzPolicy, depth int) bool {
	if v, ok := e.memo[p.ID]; ok {
		return v
	}
	var v bool
	a := e.a
	switch p.Type {
	case PolicyRole:
		any, anyOptional := false, false
		v = true
		for _, r := range p.Roles {
			held := a.roleIDs[r.ID]
			if r.Required && !held {
				v = false
			}
			if !r.Required {
				anyOptional = true
				any = any || held
			}
		}
		if anyOptional && !any {
			v = false
		}
	case PolicyGroup:
		for _, g := range p.Groups {
			if a.groups[g.ID] || g.ExtendChildren && a.groupsUp[g.ID] {
				v = true
			}
		}
	case PolicyUser:
		v = a.userID != "" && slices.Contains(p.UserIDs, a.userID)
	case PolicyClient:
		v = e.subject.ClientID != "" && slices.Contains(p.ClientIDs, e.subject.ClientID)
	case PolicyAggregate:
		v = depth < maxPolicyDepth && e.strategy(p.DecisionStrategy, p.PolicyIDs, depth+1)
	}
	if p.Logic == "NEGATIVE" {
		v = !v
	}
	e.memo[p.ID] = v
	return v
}
