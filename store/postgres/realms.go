package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/store"
)

func realmConflicts(r store.Realm) conflicts {
	return conflicts{
		"realms_name_key": {Kind: "realm", Field: "name", Value: r.Name},
		// Names differing only by case are one name: two realms must not
		// pass for one another (an index on lower(name)).
		"realms_name_fold_key": {Kind: "realm", Field: "name", Value: r.Name},
		// Reusing an ID would hand the new realm the old one's data.
		"realms_pkey": {Kind: "realm", Field: "id", Value: r.ID},
	}
}

func (s *Store) CreateRealm(ctx context.Context, r store.Realm) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	ins, err := realmInsert(r)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, ins.sql, ins.args...)
	return s.err(conflict(err, realmConflicts(r)))
}

func realmInsert(r store.Realm) (stmt, error) {
	if !storable(r.ID, r.Name) {
		return stmt{}, errUnstorable(r.ID, r.Name)
	}
	raw, err := encode(r)
	if err != nil {
		return stmt{}, err
	}
	return stmt{`INSERT INTO realms (id, name, data) VALUES ($1, $2, $3)`, []any{r.ID, r.Name, raw}}, nil
}

// CreateRealmWith sends the realm and its contents as one pipelined
// transaction: a conflict anywhere leaves nothing behind.
func (s *Store) CreateRealmWith(ctx context.Context, r store.Realm, init store.RealmContents) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	ins, err := realmInsert(r)
	if err != nil {
		return err
	}
	stmts := []stmt{ins}
	cs := []conflicts{realmConflicts(r)} // the conflicts of each statement
	add := func(st stmt, c conflicts, err error) error {
		stmts, cs = append(stmts, st), append(cs, c)
		return err
	}
	for _, k := range init.Keys {
		st, err := keyInsert(r.ID, k)
		if err := add(st, keyConflicts(k), err); err != nil {
			return err
		}
	}
	for _, role := range init.Roles {
		st, err := roleInsert(r.ID, role)
		if err := add(st, roleConflicts(role), err); err != nil {
			return err
		}
	}
	for _, sc := range init.ClientScopes {
		st, err := clientScopeInsert(r.ID, sc)
		if err := add(st, clientScopeConflicts(sc), err); err != nil {
			return err
		}
	}
	for _, c := range init.Clients {
		st, err := clientInsert(r.ID, c)
		if err := add(st, clientConflicts(c), err); err != nil {
			return err
		}
	}
	for _, u := range init.Users {
		us, ucs, err := userInserts(r.ID, u)
		if err != nil {
			return err
		}
		stmts, cs = append(stmts, us...), append(cs, ucs...)
	}
	return s.pipelineConflicts(ctx, stmts, cs)
}

func (s *Store) GetRealm(ctx context.Context, name string) (store.Realm, error) {
	return s.getRealm(ctx, `SELECT data FROM realms WHERE name = $1`, name)
}

func (s *Store) GetRealmByID(ctx context.Context, id string) (store.Realm, error) {
	return s.getRealm(ctx, `SELECT data FROM realms WHERE id = $1`, id)
}

func (s *Store) getRealm(ctx context.Context, sql, key string) (store.Realm, error) {
	var r store.Realm
	if !storable(key) {
		return r, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return r, err
	}
	err = getData(ctx, db, &r, sql, key)
	return r, s.err(err)
}

func (s *Store) ListRealms(ctx context.Context) ([]store.Realm, error) {
	db, err := s.db()
	if err != nil {
		return nil, err
	}
	out, err := listData[store.Realm](ctx, db, `SELECT data FROM realms ORDER BY name`)
	return out, s.err(err)
}

func (s *Store) UpdateRealm(ctx context.Context, id string, fn func(*store.Realm) error) (store.Realm, error) {
	return s.UpdateRealmRotatingKey(ctx, id, func(r *store.Realm) (*store.SigningKey, error) { return nil, fn(r) })
}

// UpdateRealmRotatingKey updates the realm and, when fn returns a key,
// rotates to it in the same SQL transaction.
func (s *Store) UpdateRealmRotatingKey(ctx context.Context, id string, fn func(*store.Realm) (*store.SigningKey, error)) (store.Realm, error) {
	if err := ctxErr(ctx); err != nil {
		return store.Realm{}, err
	}
	if !storable(id) {
		return store.Realm{}, store.ErrNotFound
	}
	var out store.Realm
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var r store.Realm
		if err := getData(ctx, tx, &r, `SELECT data FROM realms WHERE id = $1 FOR UPDATE`, id); err != nil {
			return err
		}
		key, err := fn(&r)
		if err != nil {
			return err
		}
		r.ID = id
		r.Version++
		if !storable(r.Name) {
			return errUnstorable(r.Name)
		}
		raw, err := encode(r)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE realms SET name = $2, data = $3 WHERE id = $1`, id, r.Name, raw); err != nil {
			return conflict(err, realmConflicts(r))
		}
		if key != nil {
			if err := rotateKeyTx(ctx, tx, id, *key); err != nil {
				return err
			}
		}
		out = r
		return nil
	})
	return out, err
}

func (s *Store) DeleteRealm(ctx context.Context, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(id) {
		return store.ErrNotFound
	}
	// Every realm table cascades from realms: one statement removes all.
	return s.deleteOne(ctx, `DELETE FROM realms WHERE id = $1`, id)
}

// deleteOne runs a DELETE that must hit a row, else store.ErrNotFound.
func deleteOne(ctx context.Context, q querier, sql string, args ...any) error {
	tag, err := q.Exec(ctx, sql, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// deleteOne is deleteOne in an implicit transaction of its own.
func (s *Store) deleteOne(ctx context.Context, sql string, args ...any) error {
	tag, err := s.exec(ctx, sql, args...)
	if err != nil {
		return s.err(err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}
