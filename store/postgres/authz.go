package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatehouse/gatehouse/store"
)

// Authorization services (migration 0005): resources, scopes and policies
// by (realm, ID), each unique by name per resource server and deleted with
// the server's client row.

// azTable is one of the simple authz kinds (scopes, policies): the same
// columns and rules, another table.
type azTable[T any] struct {
	table, kind string
	id, server  func(T) string
	name        func(T) string
	setID       func(*T, string)
}

var (
	scopeTable = azTable[store.AuthzScope]{table: "authz_scopes", kind: "scope",
		id: func(x store.AuthzScope) string { return x.ID }, server: func(x store.AuthzScope) string { return x.ServerID },
		name: func(x store.AuthzScope) string { return x.Name }, setID: func(x *store.AuthzScope, id string) { x.ID = id }}
	policyTable = azTable[store.AuthzPolicy]{table: "authz_policies", kind: "policy",
		id: func(x store.AuthzPolicy) string { return x.ID }, server: func(x store.AuthzPolicy) string { return x.ServerID },
		name: func(x store.AuthzPolicy) string { return x.Name }, setID: func(x *store.AuthzPolicy, id string) { x.ID = id }}
)

func (t azTable[T]) conflicts(x T) conflicts {
	return conflicts{
		t.table + "_name_key": {Kind: t.kind, Field: "name", Value: t.name(x)},
		t.table + "_pkey":     {Kind: t.kind, Field: "id", Value: t.id(x)},
	}
}

func azCreate[T any](ctx context.Context, s *Store, t azTable[T], realmID string, x T) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, t.id(x), t.server(x), t.name(x)) {
		return errUnstorable(realmID, t.id(x), t.server(x), t.name(x))
	}
	raw, err := encode(x)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO `+t.table+` (realm_id, id, server_id, name, data) VALUES ($1, $2, $3, $4, $5)`,
		realmID, t.id(x), t.server(x), t.name(x), raw)
	return s.err(conflict(err, t.conflicts(x)))
}

func azGet[T any](ctx context.Context, s *Store, t azTable[T], realmID, id string) (T, error) {
	var x T
	if !storable(realmID, id) {
		return x, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return x, err
	}
	return x, s.err(getData(ctx, db, &x, `SELECT data FROM `+t.table+` WHERE realm_id = $1 AND id = $2`, realmID, id))
}

func azList[T any](ctx context.Context, s *Store, t azTable[T], realmID, serverID string) ([]T, error) {
	if !storable(realmID, serverID) {
		return nil, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return nil, err
	}
	out, err := listData[T](ctx, db, `SELECT data FROM `+t.table+` WHERE realm_id = $1 AND server_id = $2 ORDER BY name`, realmID, serverID)
	out, err = emptyOrMissing(ctx, s, db, realmID, out, err)
	if err == nil && out == nil {
		out = []T{}
	}
	return out, err
}

func azUpdate[T any](ctx context.Context, s *Store, t azTable[T], realmID, id string, fn func(*T) error) (T, error) {
	var out T
	if err := ctxErr(ctx); err != nil {
		return out, err
	}
	if !storable(realmID, id) {
		return out, store.ErrNotFound
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var x T
		if err := getData(ctx, tx, &x, `SELECT data FROM `+t.table+` WHERE realm_id = $1 AND id = $2 FOR UPDATE`, realmID, id); err != nil {
			return err
		}
		server := t.server(x)
		if err := fn(&x); err != nil {
			return err
		}
		t.setID(&x, id)
		if t.server(x) != server {
			return store.ErrNotFound // records never change server
		}
		if !storable(t.name(x)) {
			return errUnstorable(t.name(x))
		}
		raw, err := encode(x)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE `+t.table+` SET name = $3, data = $4 WHERE realm_id = $1 AND id = $2`,
			realmID, id, t.name(x), raw); err != nil {
			return conflict(err, t.conflicts(x))
		}
		out = x
		return nil
	})
	return out, err
}

func azDelete[T any](ctx context.Context, s *Store, t azTable[T], realmID, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, id) {
		return store.ErrNotFound
	}
	return s.deleteOne(ctx, `DELETE FROM `+t.table+` WHERE realm_id = $1 AND id = $2`, realmID, id)
}

func (s *Store) CreateAuthzScope(ctx context.Context, realmID string, sc store.AuthzScope) error {
	return azCreate(ctx, s, scopeTable, realmID, sc)
}

func (s *Store) GetAuthzScope(ctx context.Context, realmID, id string) (store.AuthzScope, error) {
	return azGet(ctx, s, scopeTable, realmID, id)
}

func (s *Store) ListAuthzScopes(ctx context.Context, realmID, serverID string) ([]store.AuthzScope, error) {
	return azList(ctx, s, scopeTable, realmID, serverID)
}

func (s *Store) UpdateAuthzScope(ctx context.Context, realmID, id string, fn func(*store.AuthzScope) error) (store.AuthzScope, error) {
	return azUpdate(ctx, s, scopeTable, realmID, id, fn)
}

func (s *Store) DeleteAuthzScope(ctx context.Context, realmID, id string) error {
	return azDelete(ctx, s, scopeTable, realmID, id)
}

func (s *Store) CreateAuthzPolicy(ctx context.Context, realmID string, p store.AuthzPolicy) error {
	return azCreate(ctx, s, policyTable, realmID, p)
}

func (s *Store) GetAuthzPolicy(ctx context.Context, realmID, id string) (store.AuthzPolicy, error) {
	return azGet(ctx, s, policyTable, realmID, id)
}

func (s *Store) ListAuthzPolicies(ctx context.Context, realmID, serverID string) ([]store.AuthzPolicy, error) {
	return azList(ctx, s, policyTable, realmID, serverID)
}

func (s *Store) UpdateAuthzPolicy(ctx context.Context, realmID, id string, fn func(*store.AuthzPolicy) error) (store.AuthzPolicy, error) {
	return azUpdate(ctx, s, policyTable, realmID, id, fn)
}

func (s *Store) DeleteAuthzPolicy(ctx context.Context, realmID, id string) error {
	return azDelete(ctx, s, policyTable, realmID, id)
}

// Resources.

func resourceConflicts(r store.AuthzResource) conflicts {
	return conflicts{
		"authz_resources_name_key":       {Kind: "resource", Field: "name", Value: r.Name},
		"authz_resources_pkey":           {Kind: "resource", Field: "id", Value: r.ID},
		"authz_resources_access_key_key": {Kind: "resource", Field: "accessKey", Value: "(hash)"},
	}
}

// resourceKeyHash is the access_key_hash column: NULL without a key, so
// the unique constraint holds only among resources that have one.
func resourceKeyHash(r store.AuthzResource) any {
	if h := r.AccessKeyHash(); h != "" {
		return h
	}
	return nil
}

func (s *Store) CreateAuthzResource(ctx context.Context, realmID string, r store.AuthzResource) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, r.ID, r.ServerID, r.Name, r.OwnerID, r.ParentID) {
		return errUnstorable(realmID, r.ID, r.ServerID, r.Name, r.OwnerID, r.ParentID)
	}
	if r.ParentID != "" && r.ParentID == r.ID {
		// The row's own reference would satisfy its foreign key.
		return store.ErrInvalidParent
	}
	raw, err := encode(r)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO authz_resources (realm_id, id, server_id, name, owner_id, parent_id, parent_ref, access_key_hash, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		realmID, r.ID, r.ServerID, r.Name, r.OwnerID, r.ParentID, nullIfEmpty(r.ParentID), resourceKeyHash(r), raw)
	return s.err(conflict(err, resourceConflicts(r)))
}

func (s *Store) GetAuthzResource(ctx context.Context, realmID, id string) (store.AuthzResource, error) {
	return s.resourceWhere(ctx, `id = $2`, realmID, id)
}

func (s *Store) GetAuthzResourceByName(ctx context.Context, realmID, serverID, name string) (store.AuthzResource, error) {
	return s.resourceWhere(ctx, `server_id = $2 AND name = $3`, realmID, serverID, name)
}

func (s *Store) GetAuthzResourceByAccessKey(ctx context.Context, realmID, hash string) (store.AuthzResource, error) {
	if hash == "" {
		return store.AuthzResource{}, store.ErrNotFound
	}
	return s.resourceWhere(ctx, `access_key_hash = $2`, realmID, hash)
}

func (s *Store) resourceWhere(ctx context.Context, where string, args ...string) (store.AuthzResource, error) {
	var r store.AuthzResource
	if !storable(args...) {
		return r, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return r, err
	}
	anys := make([]any, len(args))
	for i, a := range args {
		anys[i] = a
	}
	return r, s.err(getData(ctx, db, &r, `SELECT data FROM authz_resources WHERE realm_id = $1 AND `+where, anys...))
}

func (s *Store) ListAuthzResources(ctx context.Context, realmID, serverID string, q store.AuthzResourceQuery) ([]store.AuthzResource, error) {
	if !storable(realmID, serverID, q.OwnerID, q.ParentID) {
		return nil, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return nil, err
	}
	out, err := listData[store.AuthzResource](ctx, db, `SELECT data FROM authz_resources WHERE realm_id = $1 AND server_id = $2
		AND ($3 = '' OR owner_id = $3) AND ($4 = '' OR parent_id = $4) ORDER BY name`, realmID, serverID, q.OwnerID, q.ParentID)
	out, err = emptyOrMissing(ctx, s, db, realmID, out, err)
	if err == nil && out == nil {
		out = []store.AuthzResource{}
	}
	return out, err
}

func (s *Store) UpdateAuthzResource(ctx context.Context, realmID, id string, fn func(*store.AuthzResource) error) (store.AuthzResource, error) {
	var out store.AuthzResource
	if err := ctxErr(ctx); err != nil {
		return out, err
	}
	if !storable(realmID, id) {
		return out, store.ErrNotFound
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var old store.AuthzResource
		if err := getData(ctx, tx, &old, `SELECT data FROM authz_resources WHERE realm_id = $1 AND id = $2 FOR UPDATE`, realmID, id); err != nil {
			return err
		}
		r, err := store.UpdatedAuthzResource(old, fn)
		if err != nil {
			return err
		}
		if !storable(r.Name, r.OwnerID, r.ParentID) {
			return errUnstorable(r.Name, r.OwnerID, r.ParentID)
		}
		if err := r.CheckParent(&old, func(id string) (store.AuthzResource, error) {
			var p store.AuthzResource
			err := tx.QueryRow(ctx, `SELECT server_id, parent_id FROM authz_resources WHERE realm_id = $1 AND id = $2`,
				realmID, id).Scan(&p.ServerID, &p.ParentID)
			return p, err
		}); err != nil {
			return err
		}
		raw, err := encode(r)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE authz_resources SET name = $3, owner_id = $4, parent_id = $5, parent_ref = $6,
			access_key_hash = $7, data = $8 WHERE realm_id = $1 AND id = $2`,
			realmID, id, r.Name, r.OwnerID, r.ParentID, nullIfEmpty(r.ParentID), resourceKeyHash(r), raw); err != nil {
			return conflict(err, resourceConflicts(r))
		}
		out = r
		return nil
	})
	return out, err
}

func (s *Store) DeleteAuthzResource(ctx context.Context, realmID, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, id) {
		return store.ErrNotFound
	}
	tag, err := s.exec(ctx, `DELETE FROM authz_resources WHERE realm_id = $1 AND id = $2`, realmID, id)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23503" && pe.ConstraintName == "authz_resources_parent_fkey" {
		return store.ErrHasChildren
	}
	if err != nil {
		return s.err(err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}
