package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/store"
)

// Groups: parent_id is the parent's ID or "" (siblings' names are unique
// under it), parent_ref the same as a nullable foreign key, so a missing
// parent is store.ErrNotFound and deleting a group cascades to its
// subtree.

func groupConflicts(g store.Group) conflicts {
	return conflicts{
		"groups_name_key": {Kind: "group", Field: "name", Value: g.Name},
		"groups_pkey":     {Kind: "group", Field: "id", Value: g.ID},
	}
}

func (s *Store) CreateGroup(ctx context.Context, realmID string, g store.Group) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, g.ID, g.ParentID, g.Name) {
		return errUnstorable(realmID, g.ID, g.ParentID, g.Name)
	}
	raw, err := encode(g)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO groups (realm_id, id, parent_id, parent_ref, name, data) VALUES ($1, $2, $3, $4, $5, $6)`,
		realmID, g.ID, g.ParentID, nullIfEmpty(g.ParentID), g.Name, raw)
	return s.err(conflict(err, groupConflicts(g)))
}

func (s *Store) GetGroup(ctx context.Context, realmID, id string) (store.Group, error) {
	var g store.Group
	if !storable(realmID, id) {
		return g, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return g, err
	}
	return g, s.err(getData(ctx, db, &g, `SELECT data FROM groups WHERE realm_id = $1 AND id = $2`, realmID, id))
}

func (s *Store) ListGroups(ctx context.Context, realmID, parentID string, q store.Page) ([]store.Group, error) {
	if !storable(realmID, parentID) {
		return nil, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return nil, err
	}
	offset, limit := window(q)
	out, err := listData[store.Group](ctx, db, `SELECT data FROM groups WHERE realm_id = $1 AND parent_id = $2
		ORDER BY name OFFSET $3 LIMIT $4`, realmID, parentID, offset, limit)
	return emptyOrMissing(ctx, s, db, realmID, out, err)
}

func (s *Store) UpdateGroup(ctx context.Context, realmID, id string, fn func(*store.Group) error) (store.Group, error) {
	if err := ctxErr(ctx); err != nil {
		return store.Group{}, err
	}
	if !storable(realmID, id) {
		return store.Group{}, store.ErrNotFound
	}
	var out store.Group
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// Group updates of a realm are serialized on the realm row (a
		// lock that realm reads and other writes' foreign keys do not wait
		// for), taken first so they queue without deadlocking: two
		// concurrent moves cannot each pass checkMove and close a cycle
		// together.
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM realms WHERE id = $1 FOR NO KEY UPDATE`, realmID).Scan(&one); err != nil {
			return err
		}
		var g store.Group
		if err := getData(ctx, tx, &g, `SELECT data FROM groups WHERE realm_id = $1 AND id = $2 FOR UPDATE`, realmID, id); err != nil {
			return err
		}
		oldParent := g.ParentID
		if err := fn(&g); err != nil {
			return err
		}
		g.ID = id
		if !storable(g.ParentID, g.Name) {
			return errUnstorable(g.ParentID, g.Name)
		}
		if g.ParentID != oldParent {
			if err := checkMove(ctx, tx, realmID, id, g.ParentID); err != nil {
				return err
			}
		}
		raw, err := encode(g)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE groups SET parent_id = $3, parent_ref = $4, name = $5, data = $6 WHERE realm_id = $1 AND id = $2`,
			realmID, id, g.ParentID, nullIfEmpty(g.ParentID), g.Name, raw)
		if err != nil {
			return conflict(err, groupConflicts(g))
		}
		out = g
		return nil
	})
	return out, err
}

// checkMove refuses to hang group id under parent when parent is id or
// one of its descendants, walking up from parent.
func checkMove(ctx context.Context, tx pgx.Tx, realmID, id, parent string) error {
	seen := map[string]bool{}
	for p := parent; p != ""; {
		if p == id {
			return store.ErrInvalidParent
		}
		if seen[p] {
			break // a cycle stored by some earlier bug: not this move's
		}
		seen[p] = true
		var next string
		if err := tx.QueryRow(ctx, `SELECT parent_id FROM groups WHERE realm_id = $1 AND id = $2`, realmID, p).Scan(&next); err != nil {
			return err // no such parent: store.ErrNotFound
		}
		p = next
	}
	return nil
}

func (s *Store) DeleteGroup(ctx context.Context, realmID, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, id) {
		return store.ErrNotFound
	}
	// The subtree goes with it (parent_ref cascades). Memberships naming
	// the deleted groups are ignored from then on; IDs are never reused.
	return s.deleteOne(ctx, `DELETE FROM groups WHERE realm_id = $1 AND id = $2`, realmID, id)
}
