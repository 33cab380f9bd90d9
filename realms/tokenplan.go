package realms

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/store"
)

// TokenPlan is what a client's tokens get from its client scopes for one
// set of requested optional scopes: the ordered mappers, the scope claim
// and the roles the token may carry. It is cached per realm write
// generation, client and optional-scope set, so a token costs one lookup.
type TokenPlan struct {
	// Mappers run in this order (Keycloak's priority, then scope order).
	Mappers []store.ProtocolMapper
	// Scopes are the applied scopes shown in the scope claim, optional
	// ones first (in the client's order), then the default ones.
	Scopes []string
	// Optional are the applied optional scopes' names.
	Optional []string
	// Allowed are the IDs of the roles the token may carry; nil when the
	// client has full scope.
	Allowed map[string]bool
	// Groups says a mapper reads the user's groups.
	Groups bool

	compiled   []compiledMapper
	withOpenID []string
}

// InvalidScopeError names a scope parameter that asks for scopes the
// client does not have.
type InvalidScopeError struct{ Requested string }

func (e *InvalidScopeError) Error() string { return "Invalid scopes: " + e.Requested }

// realmClientScopes returns the realm's client scopes by ID (cached).
func (s *Service) realmClientScopes(ctx context.Context, realmID string) (map[string]store.ClientScope, error) {
	list, err := getCached(s, &s.clientScopes, realmID, "", func() ([]store.ClientScope, error) {
		return s.store.ListClientScopes(ctx, realmID)
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]store.ClientScope, len(list))
	for _, cs := range list {
		out[cs.ID] = cs
	}
	return out, nil
}

// clientScopeIDs are a client's default and optional scope IDs: its own,
// or the realm's for clients stored before scopes were assigned.
func clientScopeIDs(r store.Realm, c store.Client) (def, opt []string) {
	if c.ScopesAssigned {
		return c.DefaultScopeIDs, c.OptionalScopeIDs
	}
	return r.DefaultScopeIDs, r.OptionalScopeIDs
}

// clientScopeSet is a client's resolved scopes, cached per client with
// the assignment it was resolved from.
type clientScopeSet struct {
	fromDef, fromOpt []string
	def, opt         []store.ClientScope
}

// ClientScopesOf returns a client's default and optional client scopes
// (scopes deleted since are skipped). The result is shared: callers must
// not modify it.
func (s *Service) ClientScopesOf(ctx context.Context, r store.Realm, c store.Client) (def, opt []store.ClientScope, err error) {
	d, o := clientScopeIDs(r, c)
	load := func() (clientScopeSet, error) {
		all, err := s.realmClientScopes(ctx, r.ID)
		if err != nil {
			return clientScopeSet{}, err
		}
		set := clientScopeSet{fromDef: d, fromOpt: o}
		for _, id := range d {
			if cs, ok := all[id]; ok {
				set.def = append(set.def, cs)
			}
		}
		for _, id := range o {
			if cs, ok := all[id]; ok {
				set.opt = append(set.opt, cs)
			}
		}
		return set, nil
	}
	set, err := getCached(s, &s.clientScopeSets, r.ID, c.ID, load)
	if err == nil && (!slices.Equal(set.fromDef, d) || !slices.Equal(set.fromOpt, o)) {
		// Cached for another read of the client or realm.
		set, err = load()
	}
	return set.def, set.opt, err
}

// SelectScopes applies a scope parameter to a client: openid, and any of
// the client's default or optional scope names; anything else is an
// *InvalidScopeError. It returns the granted scope list (openid first when
// requested, then the applied scopes shown in the scope claim) and the
// token plan.
func (s *Service) SelectScopes(ctx context.Context, r store.Realm, c store.Client, requested string) ([]string, *TokenPlan, error) {
	openid, onlyOpenID := false, true
	for _, w := range strings.Fields(requested) {
		openid = openid || w == "openid"
		onlyOpenID = onlyOpenID && w == "openid"
	}
	if onlyOpenID {
		// The usual request: the default scopes, one cached plan.
		plan, err := s.TokenPlan(ctx, r, c, nil)
		if err != nil {
			return nil, nil, err
		}
		return plan.Granted(openid), plan, nil
	}
	def, opt, err := s.ClientScopesOf(ctx, r, c)
	if err != nil {
		return nil, nil, err
	}
	var want []string
	for _, w := range strings.Fields(requested) {
		switch {
		case w == "openid":
			openid = true
		case slices.ContainsFunc(opt, func(cs store.ClientScope) bool { return cs.Name == w }):
			want = appendOnce(want, w)
		case slices.ContainsFunc(def, func(cs store.ClientScope) bool { return cs.Name == w }):
		default:
			return nil, nil, &InvalidScopeError{Requested: requested}
		}
	}
	plan, err := s.TokenPlan(ctx, r, c, want)
	if err != nil {
		return nil, nil, err
	}
	return plan.Granted(openid), plan, nil
}

// Granted is the scope list of a token under this plan (shared: callers
// must not modify it).
func (p *TokenPlan) Granted(openid bool) []string {
	if openid {
		return p.withOpenID
	}
	return p.Scopes
}

// OptionalIn returns the words of a granted scope string that are
// optional scopes of the client (to rebuild a plan on refresh).
func (s *Service) OptionalIn(ctx context.Context, r store.Realm, c store.Client, scope string) ([]string, error) {
	_, opt, err := s.ClientScopesOf(ctx, r, c)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, w := range strings.Fields(scope) {
		if slices.ContainsFunc(opt, func(cs store.ClientScope) bool { return cs.Name == w }) {
			out = appendOnce(out, w)
		}
	}
	return out, nil
}

// TokenPlan returns the plan for a client with the named optional scopes
// applied (unknown names are ignored: the caller validated them).
func (s *Service) TokenPlan(ctx context.Context, r store.Realm, c store.Client, optional []string) (*TokenPlan, error) {
	key := c.ID
	if len(optional) > 0 {
		key += "\x00" + strings.Join(sortedCopy(optional), " ")
	}
	return getCached(s, &s.tokenPlans, r.ID, key, func() (*TokenPlan, error) {
		return s.buildPlan(ctx, r, c, optional)
	})
}

func sortedCopy(v []string) []string {
	out := slices.Clone(v)
	sort.Strings(out)
	return out
}

func (s *Service) buildPlan(ctx context.Context, r store.Realm, c store.Client, optional []string) (*TokenPlan, error) {
	def, opt, err := s.ClientScopesOf(ctx, r, c)
	if err != nil {
		return nil, err
	}
	var applied []store.ClientScope
	p := &TokenPlan{}
	for _, cs := range opt {
		if slices.Contains(optional, cs.Name) {
			applied = append(applied, cs)
			p.Optional = append(p.Optional, cs.Name)
		}
	}
	applied = append(applied, def...)
	var mappers []store.ProtocolMapper
	roleIDs := slices.Clone(c.ScopeRoleIDs)
	for _, cs := range applied {
		if cs.Attributes[AttrIncludeInTokenScope] != "false" {
			p.Scopes = append(p.Scopes, cs.Name)
		}
		mappers = append(mappers, cs.ProtocolMappers...)
		roleIDs = append(roleIDs, cs.ScopeRoleIDs...)
	}
	mappers = append(mappers, c.ProtocolMappers...)
	sort.SliceStable(mappers, func(i, j int) bool {
		return mapperPriority(mappers[i].ProtocolMapper) < mapperPriority(mappers[j].ProtocolMapper)
	})
	p.Mappers = mappers
	p.Scopes = slices.Clip(p.Scopes)
	p.withOpenID = append([]string{"openid"}, p.Scopes...)
	p.compiled = compileMappers(mappers)
	p.Groups = slices.ContainsFunc(mappers, func(m store.ProtocolMapper) bool { return m.ProtocolMapper == MapperGroupMembership })
	if c.RestrictScope {
		own, err := s.store.ListRoles(ctx, r.ID, c.ID, store.Page{Max: 1 << 20})
		if err != nil {
			return nil, err
		}
		for _, role := range own {
			roleIDs = append(roleIDs, role.ID)
		}
		if p.Allowed, err = s.expandRoles(ctx, r.ID, roleIDs); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// expandRoles is the set of role IDs ids imply (composites included).
func (s *Service) expandRoles(ctx context.Context, realmID string, ids []string) (map[string]bool, error) {
	seen := map[string]bool{}
	var walk func(ids []string, depth int) error
	walk = func(ids []string, depth int) error {
		if depth > maxRoleDepth {
			return nil
		}
		for _, id := range ids {
			if seen[id] {
				continue
			}
			r, err := getCached(s, &s.roles, realmID, id, func() (store.Role, error) {
				return s.store.GetRole(ctx, realmID, id)
			})
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			seen[id] = true
			if err := walk(r.Composites, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return seen, walk(ids, 0)
}

// TokenRoles limits a user's effective roles to those the plan allows.
func (s *Service) TokenRoles(ctx context.Context, realmID string, eff EffectiveRoles, p *TokenPlan) (EffectiveRoles, error) {
	if p.Allowed == nil {
		return eff, nil
	}
	out := EffectiveRoles{Client: map[string][]string{}, IDs: map[string]bool{}}
	for id := range eff.IDs {
		if !p.Allowed[id] {
			continue
		}
		r, err := getCached(s, &s.roles, realmID, id, func() (store.Role, error) {
			return s.store.GetRole(ctx, realmID, id)
		})
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return EffectiveRoles{}, err
		}
		out.IDs[id] = true
		if r.ClientID == "" {
			out.Realm = append(out.Realm, r.Name)
			continue
		}
		c, err := s.Client(ctx, realmID, r.ClientID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return EffectiveRoles{}, err
		}
		out.Client[c.ClientID] = append(out.Client[c.ClientID], r.Name)
	}
	sort.Strings(out.Realm)
	for k := range out.Client {
		sort.Strings(out.Client[k])
	}
	return out, nil
}

// ExpandRoleIDs is the set of role IDs that ids imply, composites
// included (roles that no longer exist are skipped).
func (s *Service) ExpandRoleIDs(ctx context.Context, realmID string, ids []string) (map[string]bool, error) {
	return s.expandRoles(ctx, realmID, ids)
}

// TokenGroupPaths returns a user's group full paths for the
// group-membership mapper.
func (s *Service) TokenGroupPaths(ctx context.Context, realmID, userID string) ([]string, error) {
	return s.UserGroupPaths(ctx, realmID, userID)
}
