package realms

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/store"
)

// Role returns a role by ID.
func (s *Service) Role(ctx context.Context, realmID, id string) (store.Role, error) {
	return s.store.GetRole(ctx, realmID, id)
}

// RoleByName returns a realm role (clientUUID "") or a client role by name.
func (s *Service) RoleByName(ctx context.Context, realmID, clientUUID, name string) (store.Role, error) {
	return s.store.GetRoleByName(ctx, realmID, clientUUID, name)
}

// RoleQuery filters Roles.
type RoleQuery struct {
	store.Page
	// Search is a case-insensitive substring of the name.
	Search string
}

// Roles lists a container's roles (clientUUID "" = the realm's) by name.
// Roles are a bounded population, so a search filters the whole list.
func (s *Service) Roles(ctx context.Context, realmID, clientUUID string, q RoleQuery) ([]store.Role, error) {
	if q.Search == "" {
		return s.store.ListRoles(ctx, realmID, clientUUID, q.Page)
	}
	all, err := s.allRoles(ctx, realmID, clientUUID)
	if err != nil {
		return nil, err
	}
	needle := strings.ToLower(q.Search)
	var match []store.Role
	for _, r := range all {
		if strings.Contains(strings.ToLower(r.Name), needle) {
			match = append(match, r)
		}
	}
	return window(match, q.Page), nil
}

// allRoles lists every role of a container.
func (s *Service) allRoles(ctx context.Context, realmID, clientUUID string) ([]store.Role, error) {
	var out []store.Role
	for p := (store.Page{Max: 1000}); ; p.First += p.Max {
		rs, err := s.store.ListRoles(ctx, realmID, clientUUID, p)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
		if len(rs) < p.Max {
			return out, nil
		}
	}
}

// window applies a page to a list already in order.
func window[T any](xs []T, p store.Page) []T {
	n := p.Max
	if n <= 0 {
		n = store.DefaultMax
	}
	first := min(max(0, p.First), len(xs))
	return xs[first:min(first+n, len(xs))]
}

// RoleUsers lists the users a role is directly mapped to.
func (s *Service) RoleUsers(ctx context.Context, realmID, roleID string, p store.Page) ([]store.User, error) {
	return s.store.ListUsers(ctx, realmID, store.UserQuery{Page: p, RoleID: roleID, ServiceAccounts: true})
}

// Composites returns the roles a composite directly contains, by name.
func (s *Service) Composites(ctx context.Context, realmID string, role store.Role) ([]store.Role, error) {
	var out []store.Role
	for _, id := range role.Composites {
		r, err := s.store.GetRole(ctx, realmID, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b store.Role) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// AddComposites makes role id a composite of the given roles. A role that
// already contains id (directly or through its own composites) is refused:
// a cycle would make every role of it imply all the others.
func (s *Service) AddComposites(ctx context.Context, realmName, id string, childIDs ...string) error {
	realm, err := s.compositesRealm(ctx, realmName, id)
	if err != nil {
		return err
	}
	realmID := realm.ID
	defer s.changed(ctx, realmID)
	for _, cid := range childIDs {
		if _, err := s.store.GetRole(ctx, realmID, cid); err != nil {
			return err
		}
		eff, err := s.resolveRoles(ctx, realmID, store.User{RoleIDs: []string{cid}})
		if err != nil {
			return err
		}
		if eff.IDs[id] {
			return invalid("composites", "Adding this role would create a cycle of composite roles")
		}
	}
	_, err = s.store.UpdateRole(ctx, realmID, id, func(r *store.Role) error {
		for _, cid := range childIDs {
			r.Composites = appendOnce(r.Composites, cid)
		}
		return nil
	})
	return err
}

// RemoveComposites removes roles from a composite.
// In a realm carrying master's admin right, a removal that would leave no
// enabled admin is refused before anything is written.
func (s *Service) RemoveComposites(ctx context.Context, realmName, id string, childIDs ...string) error {
	realm, err := s.compositesRealm(ctx, realmName, id)
	if err != nil {
		return err
	}
	realmID := realm.ID
	defer s.changed(ctx, realmID)
	remove := func(r *store.Role) error {
		for _, cid := range childIDs {
			r.Composites = removeString(r.Composites, cid)
		}
		return nil
	}
	pending := func() (pendingChange, error) {
		r, err := s.store.GetRole(ctx, realmID, id)
		if err != nil {
			return pendingChange{}, err
		}
		return pendingChange{role: &r}, remove(&r)
	}
	change := func() error {
		_, err := s.store.UpdateRole(ctx, realmID, id, remove)
		return err
	}
	return s.changeKeepingMasterAdmin(ctx, realm, pending, change)
}

// ExpandRoles resolves a set of role IDs with their composites.
func (s *Service) ExpandRoles(ctx context.Context, realmID string, roleIDs ...string) (EffectiveRoles, error) {
	return s.resolveRoles(ctx, realmID, store.User{RoleIDs: roleIDs})
}

// compositesRealm is the realm of a change to role id's composites, once
// fixedComposites allows it.
func (s *Service) compositesRealm(ctx context.Context, realmName, id string) (store.Realm, error) {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return store.Realm{}, err
	}
	return st.Realm, s.fixedComposites(ctx, st.Realm, id)
}

// fixedComposites refuses to change what a built-in admin role contains:
// the rights each one grants are the admin model itself (realm-admin holds
// every realm-management right), and an admin of clients could otherwise
// hand, say, manage-clients to every holder of view-clients. The realm's
// default role is not an admin role and stays editable.
func (s *Service) fixedComposites(ctx context.Context, realm store.Realm, id string) error {
	for _, adminID := range realm.AdminRoleIDs {
		if adminID == id {
			role, err := s.store.GetRole(ctx, realm.ID, id)
			if err != nil {
				return err
			}
			return invalid("composites", "The composites of built-in admin role %s cannot be changed", role.Name)
		}
	}
	return nil
}
