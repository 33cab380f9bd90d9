package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/store"
)

func roleConflicts(r store.Role) conflicts {
	return conflicts{
		"roles_name_key": {Kind: "role", Field: "name", Value: r.Name},
		"roles_pkey":     {Kind: "role", Field: "id", Value: r.ID},
	}
}

func (s *Store) CreateRole(ctx context.Context, realmID string, r store.Role) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	ins, err := roleInsert(realmID, r)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, ins.sql, ins.args...)
	return s.err(conflict(err, roleConflicts(r)))
}

func roleInsert(realmID string, r store.Role) (stmt, error) {
	if !storable(realmID, r.ID, r.ClientID, r.Name) {
		return stmt{}, errUnstorable(realmID, r.ID, r.ClientID, r.Name)
	}
	raw, err := encode(r)
	if err != nil {
		return stmt{}, err
	}
	return stmt{`INSERT INTO roles (realm_id, id, client_id, name, data) VALUES ($1, $2, $3, $4, $5)`,
		[]any{realmID, r.ID, r.ClientID, r.Name, raw}}, nil
}

func (s *Store) GetRole(ctx context.Context, realmID, id string) (store.Role, error) {
	var r store.Role
	if !storable(realmID, id) {
		return r, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return r, err
	}
	return r, s.err(getData(ctx, db, &r, `SELECT data FROM roles WHERE realm_id = $1 AND id = $2`, realmID, id))
}

func (s *Store) GetRoleByName(ctx context.Context, realmID, clientID, name string) (store.Role, error) {
	var r store.Role
	if !storable(realmID, clientID, name) {
		return r, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return r, err
	}
	return r, s.err(getData(ctx, db, &r, `SELECT data FROM roles WHERE realm_id = $1 AND client_id = $2 AND name = $3`, realmID, clientID, name))
}

func (s *Store) ListRoles(ctx context.Context, realmID, clientID string, q store.Page) ([]store.Role, error) {
	if !storable(realmID, clientID) {
		return nil, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return nil, err
	}
	offset, limit := window(q)
	out, err := listData[store.Role](ctx, db, `SELECT data FROM roles WHERE realm_id = $1 AND client_id = $2 ORDER BY name OFFSET $3 LIMIT $4`,
		realmID, clientID, offset, limit)
	return emptyOrMissing(ctx, s, db, realmID, out, err)
}

func (s *Store) UpdateRole(ctx context.Context, realmID, id string, fn func(*store.Role) error) (store.Role, error) {
	if err := ctxErr(ctx); err != nil {
		return store.Role{}, err
	}
	if !storable(realmID, id) {
		return store.Role{}, store.ErrNotFound
	}
	var out store.Role
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var r store.Role
		if err := getData(ctx, tx, &r, `SELECT data FROM roles WHERE realm_id = $1 AND id = $2 FOR UPDATE`, realmID, id); err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
		r.ID = id
		if !storable(r.ClientID, r.Name) {
			return errUnstorable(r.ClientID, r.Name)
		}
		raw, err := encode(r)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE roles SET client_id = $3, name = $4, data = $5 WHERE realm_id = $1 AND id = $2`,
			realmID, id, r.ClientID, r.Name, raw)
		if err != nil {
			return conflict(err, roleConflicts(r))
		}
		out = r
		return nil
	})
	return out, err
}

func (s *Store) DeleteRole(ctx context.Context, realmID, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, id) {
		return store.ErrNotFound
	}
	// Mappings and composites that still name this role are ignored by role
	// resolution; the ID is a UUID and is never reused.
	return s.deleteOne(ctx, `DELETE FROM roles WHERE realm_id = $1 AND id = $2`, realmID, id)
}
