package realms

import (
	"context"
	"errors"
	"slices"
	"sort"

	"github.com/gatehouse/gatehouse/store"
)

// CreateRole stores a realm role (clientUUID "") or a client role.
func (s *Service) CreateRole(ctx context.Context, realmName string, r store.Role) (store.Role, error) {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return store.Role{}, err
	}
	// Drop protocol caches of this realm whatever the outcome.
	defer s.changed(ctx, realmID)
	if err := printableName("name", r.Name, 255); err != nil {
		return store.Role{}, err
	}
	if r.ClientID != "" {
		if _, err := s.store.GetClient(ctx, realmID, r.ClientID); err != nil {
			return store.Role{}, err
		}
	}
	if r.ID == "" {
		r.ID = NewID()
	}
	return r, s.store.CreateRole(ctx, realmID, r)
}

// GrantRoles maps roles (by ID) to a user; already mapped ones are skipped.
func (s *Service) GrantRoles(ctx context.Context, realmName, userID string, roleIDs ...string) error {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return err
	}
	// Drop protocol caches of this realm whatever the outcome.
	defer s.changed(ctx, realmID)
	for _, id := range roleIDs {
		if _, err := s.store.GetRole(ctx, realmID, id); err != nil {
			return err
		}
	}
	_, err = s.store.UpdateUser(ctx, realmID, userID, func(u *store.User) error {
		for _, id := range roleIDs {
			u.RoleIDs = appendOnce(u.RoleIDs, id)
		}
		return nil
	})
	return err
}

// RevokeRoles removes role mappings from a user. Master's admin role
// cannot be taken from its last enabled holder.
func (s *Service) RevokeRoles(ctx context.Context, realmName, userID string, roleIDs ...string) error {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return err
	}
	realmID := st.Realm.ID
	defer s.guardMasterAdmins(st.Realm)()
	revoke := func(u *store.User) error {
		for _, id := range roleIDs {
			u.RoleIDs = removeString(u.RoleIDs, id)
		}
		return nil
	}
	if err := s.checkLastMasterAdmin(ctx, st.Realm, userID, revoke, msgLastAdminRevoke); err != nil {
		return err
	}
	// Drop protocol caches of this realm whatever the outcome.
	defer s.changed(ctx, realmID)
	_, err = s.store.UpdateUser(ctx, realmID, userID, revoke)
	return err
}

// EffectiveRoles are a user's roles after expanding composites: realm role
// names, and client role names keyed by the owning client's clientId.
type EffectiveRoles struct {
	Realm  []string
	Client map[string][]string
	// IDs are the IDs of every effective role; admin rights are decided on
	// them (see AdminRights), never on the names.
	IDs map[string]bool
}

// maxRoleDepth bounds composite expansion; cycles are cut by the seen set,
// this only bounds work on pathological graphs.
const maxRoleDepth = 32

// ResolveRoles expands the user's role mappings and the role mappings of
// the user's groups and their ancestors (composites included) into sorted
// role names. Mappings to roles or groups that no longer exist are ignored.
//
// The result is cached until the next write to the realm's clients, users,
// roles or groups: service accounts' without bound (their population is bounded by
// the clients), other users' in a bounded cache. An entry remembers the
// mappings it was resolved from and is only served for those, so a user
// record read just before a change of its mappings cannot leave its result
// behind for the new ones. The result is shared: callers must not modify it.
func (s *Service) ResolveRoles(ctx context.Context, realmID string, u store.User) (EffectiveRoles, error) {
	from := mappingsOf(u)
	load := func() (resolvedRoles, error) {
		r, err := s.resolveRoles(ctx, realmID, u)
		return resolvedRoles{from: from, roles: r}, err
	}
	var r resolvedRoles
	var err error
	if u.ServiceAccountClientID != "" {
		r, err = getCached(s, &s.saRoles, realmID, u.ID, load)
	} else {
		r, err = getBounded(s, s.userRoles, realmID, u.ID, load)
	}
	if err == nil && !slices.Equal(r.from, from) {
		// Cached for other mappings (an older or newer read of the user).
		r, err = load()
	}
	return r.roles, err
}

// mappingsOf is what a user's resolution depends on in the user record:
// its role mappings and its group memberships (a NUL cannot occur in an
// ID, so the two lists cannot pass for one another).
func mappingsOf(u store.User) []string {
	if len(u.GroupIDs) == 0 {
		return u.RoleIDs // most users: no copy on the token path
	}
	return slices.Concat(u.RoleIDs, []string{"\x00"}, u.GroupIDs)
}

// resolvedRoles is a cached resolution with the mappings it came from.
type resolvedRoles struct {
	from  []string
	roles EffectiveRoles
}

// role reads a role through the realm's generation cache, or as a pending
// change in ctx will leave it (see withPending).
func (s *Service) role(ctx context.Context, realmID, id string) (store.Role, error) {
	if p := pendingOf(ctx); p.role != nil && p.role.ID == id {
		return *p.role, nil
	}
	return getCached(s, &s.roles, realmID, id, func() (store.Role, error) {
		return s.store.GetRole(ctx, realmID, id)
	})
}

func (s *Service) resolveRoles(ctx context.Context, realmID string, u store.User) (EffectiveRoles, error) {
	seen := map[string]bool{}
	var roles []store.Role
	var walk func(ids []string, depth int) error
	walk = func(ids []string, depth int) error {
		if depth > maxRoleDepth {
			return nil
		}
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			// Roles are a bounded population per realm (like clients), so
			// caching them spares every user token one store read per role.
			r, err := s.role(ctx, realmID, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			roles = append(roles, r)
			if err := walk(r.Composites, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(u.RoleIDs, 0); err != nil {
		return EffectiveRoles{}, err
	}
	groupRoles, err := s.groupRoleIDs(ctx, realmID, u.GroupIDs)
	if err != nil {
		return EffectiveRoles{}, err
	}
	if err := walk(groupRoles, 0); err != nil {
		return EffectiveRoles{}, err
	}
	out := EffectiveRoles{Client: map[string][]string{}, IDs: map[string]bool{}}
	clientIDs := map[string]string{} // client UUID -> clientId
	for _, r := range roles {
		out.IDs[r.ID] = true
		if r.ClientID == "" {
			out.Realm = append(out.Realm, r.Name)
			continue
		}
		cid, ok := clientIDs[r.ClientID]
		if !ok {
			c, err := s.Client(ctx, realmID, r.ClientID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return EffectiveRoles{}, err
			}
			cid = c.ClientID
			clientIDs[r.ClientID] = cid
		}
		out.Client[cid] = append(out.Client[cid], r.Name)
	}
	sort.Strings(out.Realm)
	for k := range out.Client {
		sort.Strings(out.Client[k])
	}
	return out, nil
}

// UpdateRole applies fn to a role and validates its name. A built-in role
// (see BuiltinRole) keeps its name.
func (s *Service) UpdateRole(ctx context.Context, realmName, id string, fn func(*store.Role) error) (store.Role, error) {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return store.Role{}, err
	}
	realmID := st.Realm.ID
	// Drop protocol caches of this realm whatever the outcome.
	defer s.changed(ctx, realmID)
	return s.store.UpdateRole(ctx, realmID, id, func(r *store.Role) error {
		name := r.Name
		if err := fn(r); err != nil {
			return err
		}
		if r.Name != name && BuiltinRole(st.Realm, r.ID) {
			return invalid("name", "Built-in role %s cannot be renamed", name)
		}
		return printableName("name", r.Name, 255)
	})
}

// DeleteRole removes a role; mappings that name it are ignored from then on.
// Built-in roles (see BuiltinRole) cannot be deleted.
func (s *Service) DeleteRole(ctx context.Context, realmName, id string) error {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return err
	}
	realmID := st.Realm.ID
	if BuiltinRole(st.Realm, id) {
		role, err := s.store.GetRole(ctx, realmID, id)
		if err != nil {
			return err
		}
		return invalid("", "Built-in role %s cannot be deleted", role.Name)
	}
	// Drop protocol caches of this realm whatever the outcome.
	defer s.changed(ctx, realmID)
	return s.store.DeleteRole(ctx, realmID, id)
}
