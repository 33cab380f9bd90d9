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
// it is undone when an enabled user held the right before and none does
// after. Changes are serialized with the per-user ones by
// guardMasterAdmins.
func (s *Service) changeKeepingMasterAdmin(ctx context.Context, realm store.Realm, change, undo func() error) error {
	if !hasMasterAdmins(realm) {
		return change()
	}
	defer s.guardMasterAdmins(realm)()
	before, err := s.anyMasterAdmin(ctx, realm, nil)
	if err != nil {
		return err
	}
	if err := change(); err != nil || !before {
		return err
	}
	s.changed(ctx, realm.ID)
	after, err := s.anyMasterAdmin(ctx, realm, nil)
	if err == nil && after {
		return nil
	}
	if uerr := undo(); uerr != nil {
		return errors.Join(err, uerr)
	}
	s.changed(ctx, realm.ID)
	if err != nil {
		return err
	}
	return &StateError{Message: msgLastAdminRevoke}
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
