package memory

import (
	"context"

	"github.com/gatehouse/gatehouse/store"
)

func groupKey(g *store.Group) [2]string { return [2]string{g.ParentID, g.Name} }

func (s *Store) CreateGroup(ctx context.Context, realmID string, g store.Group) error {
	return s.write(ctx, realmID, func(r *realm) error {
		if g.ParentID != "" && r.groups[g.ParentID] == nil {
			return store.ErrNotFound
		}
		if _, ok := r.groupsByName[groupKey(&g)]; ok {
			return &store.ConflictError{Kind: "group", Field: "name", Value: g.Name}
		}
		if r.groups[g.ID] != nil {
			return &store.ConflictError{Kind: "group", Field: "id", Value: g.ID}
		}
		r.groupsByName[groupKey(&g)] = g.ID
		r.groups[g.ID] = ptr(g)
		return nil
	})
}

func (s *Store) GetGroup(_ context.Context, realmID, id string) (store.Group, error) {
	return get(s, realmID, func(r *realm) (*store.Group, error) { return lookup(r.groups, id) })
}

func (s *Store) ListGroups(_ context.Context, realmID, parentID string, q store.Page) ([]store.Group, error) {
	var out []store.Group
	err := s.read(realmID, func(r *realm) error {
		out = window(list(r.groups, func(g *store.Group) bool { return g.ParentID == parentID },
			func(a, b *store.Group) bool { return a.Name < b.Name }), q)
		return nil
	})
	return out, err
}

func (s *Store) UpdateGroup(ctx context.Context, realmID, id string, fn func(*store.Group) error) (store.Group, error) {
	return modify(s, ctx, realmID, func(r *realm) (*store.Group, error) { return lookup(r.groups, id) }, fn,
		func(r *realm, old, g *store.Group) error {
			g.ID = id
			if groupKey(g) != groupKey(old) {
				// A move must not hang the group under itself: walk up from
				// the new parent.
				for p := g.ParentID; p != ""; {
					if p == id {
						return store.ErrInvalidParent
					}
					parent, err := lookup(r.groups, p)
					if err != nil {
						return err
					}
					p = parent.ParentID
				}
				if _, ok := r.groupsByName[groupKey(g)]; ok {
					return &store.ConflictError{Kind: "group", Field: "name", Value: g.Name}
				}
				delete(r.groupsByName, groupKey(old))
				r.groupsByName[groupKey(g)] = id
			}
			r.groups[id] = g
			return nil
		})
}

func (s *Store) DeleteGroup(ctx context.Context, realmID, id string) error {
	return s.write(ctx, realmID, func(r *realm) error {
		g, err := lookup(r.groups, id)
		if err != nil {
			return err
		}
		var del func(g *store.Group)
		del = func(g *store.Group) {
			for _, child := range r.groups {
				if child.ParentID == g.ID {
					del(child)
				}
			}
			delete(r.groupsByName, groupKey(g))
			delete(r.groups, g.ID)
		}
		del(g)
		return nil
	})
}
