package realms

import (
	"context"
	"errors"
	"slices"

	"github.com/gatehouse/gatehouse/store"
)

// changeKeepingMasterAdmin runs change, a write to a role or group that
// may take master's admin right from many users at once (a group's role
// mapping, a group move, a composite). In a realm that carries the right,
// the change is refused when an enabled user holds the right and none
// would after it: the users' rights are first resolved with the role or
// group as pending says the change will leave it, so a refused change
// writes nothing (no write-then-undo, which a crash or a failing second
// write would leave half done). Changes are serialized with the per-user
// ones by guardMasterAdmins.
func (s *Service) changeKeepingMasterAdmin(ctx context.Context, realm store.Realm, pending func() (pendingChange, error), change func() error) error {
	if !hasMasterAdmins(realm) {
		return change()
	}
	defer s.guardMasterAdmins(realm)()
	before, err := s.anyMasterAdmin(ctx, realm, nil)
	if err != nil {
		return err
	}
	if !before {
		return change()
	}
	p, err := pending()
	if err != nil {
		return err
	}
	// A non-nil adjust resolves every user afresh, through p.
	after, err := s.anyMasterAdmin(withPending(ctx, p), realm, func(*store.User) {})
	if err != nil {
		return err
	}
	if !after {
		return &StateError{Message: msgLastAdminRevoke}
	}
	return change()
}

// pendingChange is a role or a group as a write is about to leave it.
type pendingChange struct {
	role  *store.Role
	group *store.Group
}

type pendingKey struct{}

// withPending makes role and group lookups under ctx (Service.role,
// Service.group) answer p's records instead of the stored ones, so rights
// can be resolved as a change would leave them before it is written.
func withPending(ctx context.Context, p pendingChange) context.Context {
	return context.WithValue(ctx, pendingKey{}, p)
}

func pendingOf(ctx context.Context) pendingChange {
	p, _ := ctx.Value(pendingKey{}).(pendingChange)
	return p
}

// anyMasterAdmin reports whether an enabled person (no service account)
// holds master admin, each user as adjust would leave it (nil: as
// stored, resolved through the caches).
func (s *Service) anyMasterAdmin(ctx context.Context, realm store.Realm, adjust func(*store.User)) (bool, error) {
	return s.anyEnabledUser(ctx, realm.ID, func(u store.User) (bool, error) {
		cached := adjust == nil
		if !cached {
			u = cloneUser(u)
			adjust(&u)
		}
		return s.isMasterAdmin(ctx, realm, u, cached)
	})
}

// deleteGroupKeepingMasterAdmin refuses to delete a group subtree whose
// memberships are what keeps master's admin right with an enabled user.
// A deletion cannot be undone, so the users are checked as it would leave
// them (their memberships of the subtree gone) before it happens.
func (s *Service) deleteGroupKeepingMasterAdmin(ctx context.Context, realm store.Realm, id string) error {
	del := func() error { return s.store.DeleteGroup(ctx, realm.ID, id) }
	if !hasMasterAdmins(realm) {
		return del()
	}
	defer s.guardMasterAdmins(realm)()
	before, err := s.anyMasterAdmin(ctx, realm, nil)
	if err != nil || !before {
		return errors.Join(err, del())
	}
	all, err := s.AllGroups(ctx, realm.ID)
	if err != nil {
		return err
	}
	subtree := map[string]bool{id: true}
	for _, g := range all { // parents come before children
		if subtree[g.ParentID] {
			subtree[g.ID] = true
		}
	}
	after, err := s.anyMasterAdmin(ctx, realm, func(u *store.User) {
		u.GroupIDs = slices.DeleteFunc(u.GroupIDs, func(g string) bool { return subtree[g] })
	})
	if err != nil {
		return err
	}
	if !after {
		return &StateError{Message: msgLastAdminRevoke}
	}
	return del()
}
