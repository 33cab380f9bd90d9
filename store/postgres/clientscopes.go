package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/store"
)

func clientScopeConflicts(cs store.ClientScope) conflicts {
	return conflicts{
		"client_scopes_name_key": {Kind: "clientScope", Field: "name", Value: cs.Name},
		"client_scopes_pkey":     {Kind: "clientScope", Field: "id", Value: cs.ID},
	}
}

func clientScopeInsert(realmID string, cs store.ClientScope) (stmt, error) {
	if !storable(realmID, cs.ID, cs.Name) {
		return stmt{}, errUnstorable(realmID, cs.ID, cs.Name)
	}
	raw, err := encode(cs)
	if err != nil {
		return stmt{}, err
	}
	return stmt{`INSERT INTO client_scopes (realm_id, id, name, data) VALUES ($1, $2, $3, $4)`,
		[]any{realmID, cs.ID, cs.Name, raw}}, nil
}

func (s *Store) CreateClientScope(ctx context.Context, realmID string, cs store.ClientScope) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	ins, err := clientScopeInsert(realmID, cs)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, ins.sql, ins.args...)
	return s.err(conflict(err, clientScopeConflicts(cs)))
}

func (s *Store) GetClientScope(ctx context.Context, realmID, id string) (store.ClientScope, error) {
	var cs store.ClientScope
	if !storable(realmID, id) {
		return cs, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return cs, err
	}
	return cs, s.err(getData(ctx, db, &cs, `SELECT data FROM client_scopes WHERE realm_id = $1 AND id = $2`, realmID, id))
}

func (s *Store) ListClientScopes(ctx context.Context, realmID string) ([]store.ClientScope, error) {
	if !storable(realmID) {
		return nil, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return nil, err
	}
	out, err := listData[store.ClientScope](ctx, db, `SELECT data FROM client_scopes WHERE realm_id = $1 ORDER BY name`, realmID)
	return emptyOrMissing(ctx, s, db, realmID, out, err)
}

func (s *Store) UpdateClientScope(ctx context.Context, realmID, id string, fn func(*store.ClientScope) error) (store.ClientScope, error) {
	if err := ctxErr(ctx); err != nil {
		return store.ClientScope{}, err
	}
	if !storable(realmID, id) {
		return store.ClientScope{}, store.ErrNotFound
	}
	var out store.ClientScope
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var cs store.ClientScope
		if err := getData(ctx, tx, &cs, `SELECT data FROM client_scopes WHERE realm_id = $1 AND id = $2 FOR UPDATE`, realmID, id); err != nil {
			return err
		}
		if err := fn(&cs); err != nil {
			return err
		}
		cs.ID = id
		if !storable(cs.Name) {
			return errUnstorable(cs.Name)
		}
		raw, err := encode(cs)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE client_scopes SET name = $3, data = $4 WHERE realm_id = $1 AND id = $2`, realmID, id, cs.Name, raw)
		if err != nil {
			return conflict(err, clientScopeConflicts(cs))
		}
		out = cs
		return nil
	})
	return out, err
}

func (s *Store) DeleteClientScope(ctx context.Context, realmID, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, id) {
		return store.ErrNotFound
	}
	// Clients and realms that still name the scope ignore it from then on;
	// the ID is a UUID and is never reused.
	return s.deleteOne(ctx, `DELETE FROM client_scopes WHERE realm_id = $1 AND id = $2`, realmID, id)
}
