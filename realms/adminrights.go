package realms

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/gatehouse/gatehouse/store"
)

// RealmAdminRole is the realm-management composite of every other
// realm-management right.
const RealmAdminRole = "realm-admin"

// AdminRights are the built-in admin rights a user (or a role) carries,
// resolved through the realm's AdminRoleIDs: what a role is called today
// plays no part, so renaming a role or creating another one with a
// built-in name grants nothing.
type AdminRights struct {
	// held: keys of Realm.AdminRoleIDs (the realm-management role names as
	// created, and in master "admin" and "create-realm").
	held map[string]bool
}

// Has reports whether the right key (a realm-management role name as
// created, or master's "admin" / "create-realm") is held.
func (r AdminRights) Has(key string) bool { return r.held[key] }

// MasterAdmin reports whether master's admin role is held. Only master's
// AdminRoleIDs carry that key, so no role of another realm can grant it.
func (r AdminRights) MasterAdmin() bool { return r.held[AdminRole] }

// Keys returns the held rights, sorted.
func (r AdminRights) Keys() []string { return slices.Sorted(maps.Keys(r.held)) }

func rightsFrom(realm store.Realm, ids map[string]bool) AdminRights {
	out := AdminRights{held: map[string]bool{}}
	for key, id := range realm.AdminRoleIDs {
		if ids[id] {
			out.held[key] = true
		}
	}
	return out
}

// AdminRights resolves the admin rights user u of realm holds, composites
// included.
func (s *Service) AdminRights(ctx context.Context, realm store.Realm, u store.User) (AdminRights, error) {
	eff, err := s.ResolveRoles(ctx, realm.ID, u)
	if err != nil {
		return AdminRights{}, err
	}
	return rightsFrom(realm, eff.IDs), nil
}

// RoleRights resolves the admin rights that holding the given roles (by ID)
// confers, composites included. Nothing is cached: it answers for role
// mappings that may not exist yet.
func (s *Service) RoleRights(ctx context.Context, realm store.Realm, roleIDs ...string) (AdminRights, error) {
	eff, err := s.resolveRoles(ctx, realm.ID, store.User{RoleIDs: roleIDs})
	if err != nil {
		return AdminRights{}, err
	}
	return rightsFrom(realm, eff.IDs), nil
}

// BuiltinRole reports whether the role with this ID is one that the admin
// model or the realm's defaults depend on (an admin right, or the realm's
// default-roles composite). Such a role can be neither renamed nor deleted.
func BuiltinRole(realm store.Realm, roleID string) bool {
	if roleID == "" {
		return false
	}
	if roleID == realm.DefaultRoleID {
		return true
	}
	for _, id := range realm.AdminRoleIDs {
		if id == roleID {
			return true
		}
	}
	return false
}

// newAdminRoles returns the built-in admin roles of a new realm (the
// realm-management client rmID's roles, and master's admin and
// create-realm) with the AdminRoleIDs that record them.
func newAdminRoles(realmName, rmID string) ([]store.Role, map[string]string) {
	ids := map[string]string{}
	var roles, rights []store.Role
	for _, name := range RealmManagementRoles {
		role := store.Role{ID: NewID(), Name: name, ClientID: rmID, Description: "${role_" + name + "}"}
		rights = append(rights, role)
		ids[name] = role.ID
	}
	composites := make([]string, len(rights))
	for i, role := range rights {
		composites[i] = role.ID
	}
	ra := store.Role{ID: NewID(), Name: RealmAdminRole, ClientID: rmID, Description: "${role_realm-admin}", Composites: composites}
	ids[RealmAdminRole] = ra.ID
	roles = append(append(roles, rights...), ra)
	if realmName == MasterRealm {
		for _, name := range []string{AdminRole, CreateRealmRole} {
			role := store.Role{ID: NewID(), Name: name, Description: "${role_" + name + "}"}
			ids[name] = role.ID
			roles = append(roles, role)
		}
	}
	return roles, ids
}

// Messages of the last-master-admin rule.
const (
	msgLastAdminDelete  = "The last enabled user holding the master admin role cannot be deleted"
	msgLastAdminDisable = "The last enabled user holding the master admin role cannot be disabled"
	msgLastAdminRevoke  = "The master admin role cannot be removed from its last enabled holder"
)

// hasMasterAdmins: the realm's roles carry master's admin right (only
// master's do).
func hasMasterAdmins(realm store.Realm) bool { return realm.AdminRoleIDs[AdminRole] != "" }

// guardMasterAdmins serializes changes to the users of a realm that carries
// master's admin right, so that two concurrent changes cannot each remove
// a different one of the last two admins. It returns the unlock function (a
// no-op for other realms).
func (s *Service) guardMasterAdmins(realm store.Realm) func() {
	if !hasMasterAdmins(realm) {
		return func() {}
	}
	s.adminMu.Lock()
	return s.adminMu.Unlock
}

// keepsMasterAdmin refuses (with msg) a change that turns before, an
// enabled holder of master admin, into after (nil: deleted) without the
// right while no other enabled user holds it. Service accounts do not
// count: nobody can sign in to the admin console as one. The caller holds
// guardMasterAdmins.
func (s *Service) keepsMasterAdmin(ctx context.Context, realm store.Realm, before store.User, after *store.User, msg string) error {
	if !hasMasterAdmins(realm) {
		return nil
	}
	was, err := s.isMasterAdmin(ctx, realm, before, true)
	if err != nil || !was {
		return err
	}
	if after != nil {
		still, err := s.isMasterAdmin(ctx, realm, *after, false)
		if err != nil || still {
			return err
		}
	}
	other, err := s.otherMasterAdmin(ctx, realm, before.ID)
	if err != nil || other {
		return err
	}
	return &StateError{Message: msg}
}

// checkLastMasterAdmin runs keepsMasterAdmin for a change that applies
// change to a copy of user id (change nil: deletes it). An unknown user
// passes: the write itself answers it. The caller holds guardMasterAdmins.
func (s *Service) checkLastMasterAdmin(ctx context.Context, realm store.Realm, id string, change func(*store.User) error, msg string) error {
	if !hasMasterAdmins(realm) {
		return nil
	}
	u, err := s.store.GetUser(ctx, realm.ID, id)
	if err != nil {
		return nil
	}
	var after *store.User
	if change != nil {
		// Try change on a copy first: the rule needs a store-wide look that
		// must not run inside the user's write transaction.
		c := cloneUser(u)
		if err := change(&c); err != nil {
			return err
		}
		after = &c
	}
	return s.keepsMasterAdmin(ctx, realm, u, after, msg)
}

// isMasterAdmin: u is enabled, no service account, and holds master admin.
// cached says whether u is a stored user (its resolution may be cached);
// a user as a change would leave it is resolved afresh.
func (s *Service) isMasterAdmin(ctx context.Context, realm store.Realm, u store.User, cached bool) (bool, error) {
	if !u.Enabled || u.ServiceAccountClientID != "" {
		return false, nil
	}
	if cached {
		r, err := s.AdminRights(ctx, realm, u)
		return r.MasterAdmin(), err
	}
	// Roles and groups as the change would leave them.
	eff, err := s.resolveRoles(ctx, realm.ID, u)
	return rightsFrom(realm, eff.IDs).MasterAdmin(), err
}

func (s *Service) otherMasterAdmin(ctx context.Context, realm store.Realm, except string) (bool, error) {
	return s.anyEnabledUser(ctx, realm.ID, func(u store.User) (bool, error) {
		if u.ID == except {
			return false, nil
		}
		ok, err := s.isMasterAdmin(ctx, realm, u, true)
		if errors.Is(err, store.ErrNotFound) {
			err = nil
		}
		return ok, err
	})
}

// anyEnabledUser pages through the realm's enabled users until match
// holds for one (or fails).
func (s *Service) anyEnabledUser(ctx context.Context, realmID string, match func(store.User) (bool, error)) (bool, error) {
	enabled := true
	q := store.UserQuery{Page: store.Page{Max: 500}, Enabled: &enabled}
	for {
		users, err := s.store.ListUsers(ctx, realmID, q)
		if err != nil {
			return false, err
		}
		for _, u := range users {
			ok, err := match(u)
			if err != nil {
				return false, err
			}
			if ok {
				return true, nil
			}
		}
		if len(users) < q.Max {
			return false, nil
		}
		q.First += len(users)
	}
}
