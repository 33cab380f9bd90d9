package memory

import (
	"context"

	"github.com/gatehouse/gatehouse/store"
)

func roleKey(r *store.Role) [2]string { return [2]string{r.ClientID, r.Name} }

func (s *Store) CreateRole(ctx context.Context, realmID string, role store.Role) error {
	return s.write(ctx, realmID, func(r *realm) error { return r.createRole(role) })
}

func (r *realm) createRole(role store.Role) error {
	if _, ok := r.rolesByName[roleKey(&role)]; ok {
		return &store.ConflictError{Kind: "role", Field: "name", Value: role.Name}
	}
	if r.roles[role.ID] != nil {
		return &store.ConflictError{Kind: "role", Field: "id", Value: role.ID}
	}
	r.rolesByName[roleKey(&role)] = role.ID
	r.roles[role.ID] = ptr(role)
	return nil
}

func (s *Store) GetRole(_ context.Context, realmID, id string) (store.Role, error) {
	return get(s, realmID, func(r *realm) (*store.Role, error) { return lookup(r.roles, id) })
}

func (s *Store) GetRoleByName(_ context.Context, realmID, clientID, name string) (store.Role, error) {
	return get(s, realmID, func(r *realm) (*store.Role, error) {
		return byIndex(r.rolesByName, r.roles, [2]string{clientID, name})
	})
}

func (s *Store) ListRoles(_ context.Context, realmID, clientID string, q store.Page) ([]store.Role, error) {
	var out []store.Role
	err := s.read(realmID, func(r *realm) error {
		out = window(list(r.roles, func(role *store.Role) bool { return role.ClientID == clientID },
			func(a, b *store.Role) bool { return a.Name < b.Name }), q)
		return nil
	})
	return out, err
}

func (s *Store) UpdateRole(ctx context.Context, realmID, id string, fn func(*store.Role) error) (store.Role, error) {
	return modify(s, ctx, realmID, func(r *realm) (*store.Role, error) { return lookup(r.roles, id) }, fn,
		func(r *realm, old, role *store.Role) error {
			role.ID = id
			if roleKey(role) != roleKey(old) {
				if _, ok := r.rolesByName[roleKey(role)]; ok {
					return &store.ConflictError{Kind: "role", Field: "name", Value: role.Name}
				}
				delete(r.rolesByName, roleKey(old))
				r.rolesByName[roleKey(role)] = id
			}
			r.roles[id] = role
			return nil
		})
}

func (s *Store) DeleteRole(ctx context.Context, realmID, id string) error {
	return s.write(ctx, realmID, func(r *realm) error {
		role, err := lookup(r.roles, id)
		if err != nil {
			return err
		}
		// Mappings and composites that still name the role are ignored by
		// role resolution; the ID is never reused.
		delete(r.rolesByName, roleKey(role))
		delete(r.roles, id)
		return nil
	})
}
