package realms

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/store"
)

// group reads a group through the realm's generation cache: groups are a
// bounded population, and every token of a member walks its ancestors. A
// pending change in ctx (see withPending) stands for the stored group.
func (s *Service) group(ctx context.Context, realmID, id string) (store.Group, error) {
	if p := pendingOf(ctx); p.group != nil && p.group.ID == id {
		return *p.group, nil
	}
	return getCached(s, &s.groups, realmID, id, func() (store.Group, error) {
		return s.store.GetGroup(ctx, realmID, id)
	})
}

// Group returns a group by ID.
func (s *Service) Group(ctx context.Context, realmID, id string) (store.Group, error) {
	return s.group(ctx, realmID, id)
}

// maxGroupDepth bounds ancestor walks; the store refuses cycles, this only
// guards against a corrupt tree.
const maxGroupDepth = 64

// GroupChain returns the group and its ancestors, the group first.
func (s *Service) GroupChain(ctx context.Context, realmID, id string) ([]store.Group, error) {
	var out []store.Group
	for i := 0; id != "" && i < maxGroupDepth; i++ {
		g, err := s.group(ctx, realmID, id)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
		id = g.ParentID
	}
	return out, nil
}

// GroupPath is the group's full path, "/parent/child".
func (s *Service) GroupPath(ctx context.Context, realmID, id string) (string, error) {
	chain, err := s.GroupChain(ctx, realmID, id)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i := len(chain) - 1; i >= 0; i-- {
		b.WriteString("/" + chain[i].Name)
	}
	return b.String(), nil
}

// groupRoleIDs collects the role mappings of the groups and of all their
// ancestors (Keycloak's inheritance: down the tree, never up). Deleted
// groups are skipped.
func (s *Service) groupRoleIDs(ctx context.Context, realmID string, groupIDs []string) ([]string, error) {
	var out []string
	for _, gid := range groupIDs {
		chain, err := s.GroupChain(ctx, realmID, gid)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, g := range chain {
			out = append(out, g.RoleIDs...)
		}
	}
	return out, nil
}

// UserGroups returns the existing groups a user is a direct member of,
// ordered by path, with their paths.
//
// It reads the user through TokenUser's cache (membership writes move the
// realm generation), as the group-membership mapper calls it per token.
func (s *Service) UserGroups(ctx context.Context, realmID, userID string) ([]store.Group, []string, error) {
	u, err := s.TokenUser(ctx, realmID, userID)
	if err != nil {
		return nil, nil, err
	}
	type gp struct {
		g    store.Group
		path string
	}
	var all []gp
	for _, gid := range u.GroupIDs {
		g, err := s.group(ctx, realmID, gid)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		p, err := s.GroupPath(ctx, realmID, gid)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		all = append(all, gp{g, p})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].path < all[j].path })
	groups, paths := make([]store.Group, len(all)), make([]string, len(all))
	for i, x := range all {
		groups[i], paths[i] = x.g, x.path
	}
	return groups, paths, nil
}

// UserGroupPaths returns the full paths ("/a/b") of the groups a user is a
// direct member of, sorted: what the group-membership mapper emits.
func (s *Service) UserGroupPaths(ctx context.Context, realmID, userID string) ([]string, error) {
	_, paths, err := s.UserGroups(ctx, realmID, userID)
	return paths, err
}

// Groups returns the children of parentID ("" = top level), by name.
func (s *Service) Groups(ctx context.Context, realmID, parentID string, p store.Page) ([]store.Group, error) {
	return s.store.ListGroups(ctx, realmID, parentID, p)
}

// AllGroups returns every group of the realm, parents before children,
// siblings by name.
func (s *Service) AllGroups(ctx context.Context, realmID string) ([]store.Group, error) {
	var out []store.Group
	var walk func(parent string, depth int) error
	walk = func(parent string, depth int) error {
		if depth > maxGroupDepth {
			return nil
		}
		for p := (store.Page{Max: 1000}); ; p.First += p.Max {
			gs, err := s.store.ListGroups(ctx, realmID, parent, p)
			if err != nil {
				return err
			}
			for _, g := range gs {
				out = append(out, g)
				if err := walk(g.ID, depth+1); err != nil {
					return err
				}
			}
			if len(gs) < p.Max {
				return nil
			}
		}
	}
	return out, walk("", 0)
}

// Group name messages, as Keycloak words them.
func groupConflict(parentID, name string) error {
	if parentID == "" {
		return &StateError{Message: "Top level group named '" + name + "' already exists."}
	}
	return &StateError{Message: "Sibling group named '" + name + "' already exists."}
}

func groupErr(err error, g store.Group) error {
	var ce *store.ConflictError
	if errors.As(err, &ce) && ce.Field == "name" {
		return groupConflict(g.ParentID, g.Name)
	}
	if errors.Is(err, store.ErrInvalidParent) {
		return invalid("", "A group cannot be moved under itself or one of its subgroups")
	}
	return err
}

// CreateGroup stores a group (top level when ParentID is "").
func (s *Service) CreateGroup(ctx context.Context, realmName string, g store.Group) (store.Group, error) {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return store.Group{}, err
	}
	defer s.changed(ctx, realmID)
	if err := printableName("name", g.Name, 255); err != nil {
		return store.Group{}, err
	}
	if strings.Contains(g.Name, "/") {
		return store.Group{}, invalid("name", "Group name cannot contain '/'")
	}
	if g.ID == "" {
		g.ID = NewID()
	}
	return g, groupErr(s.store.CreateGroup(ctx, realmID, g), g)
}

// UpdateGroup applies fn to a group (rename, move, attributes, role
// mappings) and validates its name.
func (s *Service) UpdateGroup(ctx context.Context, realmName, id string, fn func(*store.Group) error) (store.Group, error) {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return store.Group{}, err
	}
	realmID := st.Realm.ID
	// Members' resolved roles depend on the group: drop them whatever the
	// outcome.
	defer s.changed(ctx, realmID)
	var tried, g store.Group // tried: what fn asked for, for the conflict message
	apply := func(x *store.Group) error {
		if err := fn(x); err != nil {
			return err
		}
		tried = *x
		if err := printableName("name", x.Name, 255); err != nil {
			return err
		}
		if strings.Contains(x.Name, "/") {
			return invalid("name", "Group name cannot contain '/'")
		}
		return nil
	}
	pending := func() (pendingChange, error) {
		x, err := s.store.GetGroup(ctx, realmID, id)
		if err != nil {
			return pendingChange{}, err
		}
		return pendingChange{group: &x}, apply(&x)
	}
	change := func() error {
		var err error
		g, err = s.store.UpdateGroup(ctx, realmID, id, apply)
		return err
	}
	err = s.changeKeepingMasterAdmin(ctx, st.Realm, pending, change)
	return g, groupErr(err, tried)
}

// DeleteGroup removes a group with its subgroups; memberships and
// inherited roles end with it.
func (s *Service) DeleteGroup(ctx context.Context, realmName, id string) error {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return err
	}
	defer s.changed(ctx, st.Realm.ID)
	return s.deleteGroupKeepingMasterAdmin(ctx, st.Realm, id)
}

// GrantGroupRoles maps roles (by ID) to a group.
func (s *Service) GrantGroupRoles(ctx context.Context, realmName, groupID string, roleIDs ...string) error {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return err
	}
	for _, id := range roleIDs {
		if _, err := s.store.GetRole(ctx, realmID, id); err != nil {
			return err
		}
	}
	_, err = s.UpdateGroup(ctx, realmName, groupID, func(g *store.Group) error {
		for _, id := range roleIDs {
			g.RoleIDs = appendOnce(g.RoleIDs, id)
		}
		return nil
	})
	return err
}

// RevokeGroupRoles removes role mappings from a group.
func (s *Service) RevokeGroupRoles(ctx context.Context, realmName, groupID string, roleIDs ...string) error {
	_, err := s.UpdateGroup(ctx, realmName, groupID, func(g *store.Group) error {
		for _, id := range roleIDs {
			g.RoleIDs = removeString(g.RoleIDs, id)
		}
		return nil
	})
	return err
}

// JoinGroup makes a user a direct member of a group.
func (s *Service) JoinGroup(ctx context.Context, realmName, userID, groupID string) error {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return err
	}
	defer s.changed(ctx, realmID)
	if _, err := s.store.GetGroup(ctx, realmID, groupID); err != nil {
		return err
	}
	_, err = s.store.UpdateUser(ctx, realmID, userID, func(u *store.User) error {
		u.GroupIDs = appendOnce(u.GroupIDs, groupID)
		return nil
	})
	return err
}

// LeaveGroup ends a user's direct membership of a group. Master's admin
// right, when it comes through the group, cannot be taken from its last
// enabled holder.
func (s *Service) LeaveGroup(ctx context.Context, realmName, userID, groupID string) error {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return err
	}
	realmID := st.Realm.ID
	defer s.guardMasterAdmins(st.Realm)()
	if hasMasterAdmins(st.Realm) {
		if u, err := s.store.GetUser(ctx, realmID, userID); err == nil {
			after := cloneUser(u)
			after.GroupIDs = removeString(after.GroupIDs, groupID)
			if err := s.keepsMasterAdmin(ctx, st.Realm, u, &after, msgLastAdminRevoke); err != nil {
				return err
			}
		}
	}
	defer s.changed(ctx, realmID)
	_, err = s.store.UpdateUser(ctx, realmID, userID, func(u *store.User) error {
		u.GroupIDs = removeString(u.GroupIDs, groupID)
		return nil
	})
	return err
}

// GroupMembers lists a group's direct members.
func (s *Service) GroupMembers(ctx context.Context, realmID, groupID string, p store.Page) ([]store.User, error) {
	return s.store.ListUsers(ctx, realmID, store.UserQuery{Page: p, GroupID: groupID, ServiceAccounts: true})
}

// GroupRoles resolves what a group confers on its members: its own and its
// ancestors' mappings, composites expanded.
func (s *Service) GroupRoles(ctx context.Context, realmID, groupID string) (EffectiveRoles, error) {
	return s.resolveRoles(ctx, realmID, store.User{GroupIDs: []string{groupID}})
}

// GroupByPath finds a group by its full path ("/a/b").
func (s *Service) GroupByPath(ctx context.Context, realmID, path string) (store.Group, error) {
	names := strings.Split(strings.TrimPrefix(path, "/"), "/")
	parent := ""
	var found store.Group
	for _, name := range names {
		ok := false
		for p := (store.Page{Max: 1000}); !ok; p.First += p.Max {
			gs, err := s.store.ListGroups(ctx, realmID, parent, p)
			if err != nil {
				return store.Group{}, err
			}
			for _, g := range gs {
				if g.Name == name {
					found, ok = g, true
					break
				}
			}
			if !ok && len(gs) < p.Max {
				return store.Group{}, store.ErrNotFound
			}
		}
		parent = found.ID
	}
	return found, nil
}
