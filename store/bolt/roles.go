package bolt

import (
	"bytes"
	"context"

	bbolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/store"
)

func roleKey(r store.Role) []byte { return idx(r.ClientID, r.Name) }

func (s *Store) CreateRole(ctx context.Context, realmID string, r store.Role) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error { return createRoleTx(rb, r) })
}

func createRoleTx(rb *bbolt.Bucket, r store.Role) error {
	roles, byName := sub(rb, bRoles), sub(rb, bRolesByName)
	if byName.Get(roleKey(r)) != nil {
		return &store.ConflictError{Kind: "role", Field: "name", Value: r.Name}
	}
	if roles.Get([]byte(r.ID)) != nil {
		return &store.ConflictError{Kind: "role", Field: "id", Value: r.ID}
	}
	if err := byName.Put(roleKey(r), []byte(r.ID)); err != nil {
		return err
	}
	return putRow(roles, r.ID, r)
}

func (s *Store) GetRole(_ context.Context, realmID, id string) (store.Role, error) {
	var r store.Role
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		return getRow(sub(rb, bRoles), id, &r)
	})
	return r, err
}

func (s *Store) GetRoleByName(_ context.Context, realmID, clientID, name string) (store.Role, error) {
	var r store.Role
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		id := sub(rb, bRolesByName).Get(idx(clientID, name))
		if id == nil {
			return store.ErrNotFound
		}
		return getRow(sub(rb, bRoles), string(id), &r)
	})
	return r, err
}

func (s *Store) ListRoles(_ context.Context, realmID, clientID string, q store.Page) ([]store.Role, error) {
	var out []store.Role
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		roles := sub(rb, bRoles)
		prefix := idx(clientID, "")
		pg := newPager(q)
		c := sub(rb, bRolesByName).Cursor()
		for k, id := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && !pg.full(); k, id = c.Next() {
			if !pg.take() {
				continue
			}
			var r store.Role
			if err := getRow(roles, string(id), &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

func (s *Store) UpdateRole(ctx context.Context, realmID, id string, fn func(*store.Role) error) (store.Role, error) {
	if err := ctxErr(ctx); err != nil {
		return store.Role{}, err
	}
	var out store.Role
	err := s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		roles, byName := sub(rb, bRoles), sub(rb, bRolesByName)
		var r store.Role
		if err := getRow(roles, id, &r); err != nil {
			return err
		}
		old := roleKey(r)
		if err := fn(&r); err != nil {
			return err
		}
		r.ID = id
		if nk := roleKey(r); string(nk) != string(old) {
			if byName.Get(nk) != nil {
				return &store.ConflictError{Kind: "role", Field: "name", Value: r.Name}
			}
			if err := byName.Delete(old); err != nil {
				return err
			}
			if err := byName.Put(nk, []byte(id)); err != nil {
				return err
			}
		}
		out = r
		return putRow(roles, id, r)
	})
	return out, err
}

func (s *Store) DeleteRole(ctx context.Context, realmID, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		roles := sub(rb, bRoles)
		var r store.Role
		if err := getRow(roles, id, &r); err != nil {
			return err
		}
		if err := sub(rb, bRolesByName).Delete(roleKey(r)); err != nil {
			return err
		}
		// Mappings and composites that still name this role are ignored by
		// role resolution; the ID is a UUID and is never reused.
		return roles.Delete([]byte(id))
	})
}
