package bolt

import (
	"bytes"
	"context"

	bbolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/store"
)

// Group buckets, made with the realm like every other.
var (
	bGroups       = []byte("groups")
	bGroupsByName = []byte("groups_by_name") // idx(parentID, name) -> id
)

// groupKey orders siblings by name; top-level groups have parent "".
func groupKey(g store.Group) []byte { return idx(g.ParentID, g.Name) }

// groupBuckets returns the group buckets of a realm.
func groupBuckets(rb *bbolt.Bucket) (rows, byName *bbolt.Bucket) {
	return sub(rb, bGroups), sub(rb, bGroupsByName)
}

func (s *Store) CreateGroup(ctx context.Context, realmID string, g store.Group) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		rows, byName := groupBuckets(rb)
		if g.ParentID != "" && rows.Get([]byte(g.ParentID)) == nil {
			return store.ErrNotFound
		}
		if byName.Get(groupKey(g)) != nil {
			return &store.ConflictError{Kind: "group", Field: "name", Value: g.Name}
		}
		if rows.Get([]byte(g.ID)) != nil {
			return &store.ConflictError{Kind: "group", Field: "id", Value: g.ID}
		}
		if err := byName.Put(groupKey(g), []byte(g.ID)); err != nil {
			return err
		}
		return putRow(rows, g.ID, g)
	})
}

func (s *Store) GetGroup(_ context.Context, realmID, id string) (store.Group, error) {
	var g store.Group
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		return getRow(sub(rb, bGroups), id, &g)
	})
	return g, err
}

func (s *Store) ListGroups(_ context.Context, realmID, parentID string, q store.Page) ([]store.Group, error) {
	var out []store.Group
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		rows, byName := groupBuckets(rb)
		prefix := idx(parentID, "")
		pg := newPager(q)
		c := byName.Cursor()
		for k, id := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && !pg.full(); k, id = c.Next() {
			if !pg.take() {
				continue
			}
			var g store.Group
			if err := getRow(rows, string(id), &g); err != nil {
				return err
			}
			out = append(out, g)
		}
		return nil
	})
	return out, err
}

func (s *Store) UpdateGroup(ctx context.Context, realmID, id string, fn func(*store.Group) error) (store.Group, error) {
	if err := ctxErr(ctx); err != nil {
		return store.Group{}, err
	}
	var out store.Group
	err := s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		rows, byName := groupBuckets(rb)
		var g store.Group
		if err := getRow(rows, id, &g); err != nil {
			return err
		}
		old := groupKey(g)
		if err := fn(&g); err != nil {
			return err
		}
		g.ID = id
		if nk := groupKey(g); !bytes.Equal(nk, old) {
			// A move must not hang the group under itself: walk up from the
			// new parent.
			for p := g.ParentID; p != ""; {
				if p == id {
					return store.ErrInvalidParent
				}
				var pg store.Group
				if err := getRow(rows, p, &pg); err != nil {
					return err
				}
				p = pg.ParentID
			}
			if byName.Get(nk) != nil {
				return &store.ConflictError{Kind: "group", Field: "name", Value: g.Name}
			}
			if err := byName.Delete(old); err != nil {
				return err
			}
			if err := byName.Put(nk, []byte(id)); err != nil {
				return err
			}
		}
		out = g
		return putRow(rows, id, g)
	})
	return out, err
}

func (s *Store) DeleteGroup(ctx context.Context, realmID, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		rows, byName := groupBuckets(rb)
		var g store.Group
		if err := getRow(rows, id, &g); err != nil {
			return err
		}
		// Children first (depth first), then the group; keys are collected
		// before deleting since cursors must not run across deletes.
		var del func(g store.Group) error
		del = func(g store.Group) error {
			for _, k := range prefixKeys(byName, idx(g.ID, "")) {
				var child store.Group
				if err := getRow(rows, string(byName.Get(k)), &child); err != nil {
					return err
				}
				if err := del(child); err != nil {
					return err
				}
			}
			if err := byName.Delete(groupKey(g)); err != nil {
				return err
			}
			return rows.Delete([]byte(g.ID))
		}
		return del(g)
	})
}
