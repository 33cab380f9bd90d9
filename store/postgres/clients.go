package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/store"
)

func clientConflicts(c store.Client) conflicts {
	return conflicts{
		"clients_client_id_key": {Kind: "client", Field: "clientId", Value: c.ClientID},
		"clients_pkey":          {Kind: "client", Field: "id", Value: c.ID},
	}
}

func (s *Store) CreateClient(ctx context.Context, realmID string, c store.Client) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	ins, err := clientInsert(realmID, c)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, ins.sql, ins.args...)
	return s.err(conflict(err, clientConflicts(c)))
}

// CreateClientWithServiceAccount sends the client and its service-account
// user as one pipelined transaction.
func (s *Store) CreateClientWithServiceAccount(ctx context.Context, realmID string, c store.Client, sa store.User) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	ins, err := clientInsert(realmID, c)
	if err != nil {
		return err
	}
	us, ucs, err := userInserts(realmID, sa)
	if err != nil {
		return err
	}
	return s.pipelineConflicts(ctx, append([]stmt{ins}, us...), append([]conflicts{clientConflicts(c)}, ucs...))
}

func clientInsert(realmID string, c store.Client) (stmt, error) {
	if !storable(realmID, c.ID, c.ClientID) {
		return stmt{}, errUnstorable(realmID, c.ID, c.ClientID)
	}
	raw, err := encode(c)
	if err != nil {
		return stmt{}, err
	}
	return stmt{`INSERT INTO clients (realm_id, id, client_id, client_id_lower, data) VALUES ($1, $2, $3, $4, $5)`,
		[]any{realmID, c.ID, c.ClientID, strings.ToLower(c.ClientID), raw}}, nil
}

func (s *Store) GetClient(ctx context.Context, realmID, id string) (store.Client, error) {
	return s.getClient(ctx, `SELECT data FROM clients WHERE realm_id = $1 AND id = $2`, realmID, id)
}

func (s *Store) GetClientByClientID(ctx context.Context, realmID, clientID string) (store.Client, error) {
	return s.getClient(ctx, `SELECT data FROM clients WHERE realm_id = $1 AND client_id = $2`, realmID, clientID)
}

func (s *Store) getClient(ctx context.Context, sql, realmID, key string) (store.Client, error) {
	var c store.Client
	if !storable(realmID, key) {
		return c, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return c, err
	}
	return c, s.err(getData(ctx, db, &c, sql, realmID, key))
}

func (s *Store) ListClients(ctx context.Context, realmID string, q store.ClientQuery) ([]store.Client, error) {
	if !storable(realmID, q.ClientID) {
		return nil, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return nil, err
	}
	offset, limit := window(q.Page)
	where, arg := "", any(nil)
	switch {
	case q.ClientID == "":
		where = "$2::text IS NULL"
	case q.Search:
		where, arg = "strpos(client_id_lower, $2) > 0", strings.ToLower(q.ClientID)
	default:
		where, arg = "client_id = $2", q.ClientID
	}
	out, err := listData[store.Client](ctx, db,
		`SELECT data FROM clients WHERE realm_id = $1 AND `+where+` ORDER BY client_id OFFSET $3 LIMIT $4`,
		realmID, arg, offset, limit)
	return emptyOrMissing(ctx, s, db, realmID, out, err)
}

func (s *Store) UpdateClient(ctx context.Context, realmID, id string, fn func(*store.Client) error) (store.Client, error) {
	return s.UpdateClientWithServiceAccount(ctx, realmID, id, fn, func(store.Client) *store.User { return nil })
}

// UpdateClientWithServiceAccount holds the client's row lock while it looks
// for the service account, so two updates enabling it create one.
func (s *Store) UpdateClientWithServiceAccount(ctx context.Context, realmID, id string, fn func(*store.Client) error, sa func(store.Client) *store.User) (store.Client, error) {
	if err := ctxErr(ctx); err != nil {
		return store.Client{}, err
	}
	if !storable(realmID, id) {
		return store.Client{}, store.ErrNotFound
	}
	var out store.Client
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var c store.Client
		if err := getData(ctx, tx, &c, `SELECT data FROM clients WHERE realm_id = $1 AND id = $2 FOR UPDATE`, realmID, id); err != nil {
			return err
		}
		if err := fn(&c); err != nil {
			return err
		}
		c.ID = id
		if !storable(c.ClientID) {
			return errUnstorable(c.ClientID)
		}
		raw, err := encode(c)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE clients SET client_id = $3, client_id_lower = $4, data = $5 WHERE realm_id = $1 AND id = $2`,
			realmID, id, c.ClientID, strings.ToLower(c.ClientID), raw)
		if err != nil {
			return conflict(err, clientConflicts(c))
		}
		if u := sa(c); u != nil {
			if err := ensureServiceAccountTx(ctx, tx, realmID, *u); err != nil {
				return err
			}
		}
		out = c
		return nil
	})
	return out, err
}

// ensureServiceAccountTx creates service-account user u unless the realm
// has it (its username, held by the same client's account).
func ensureServiceAccountTx(ctx context.Context, tx pgx.Tx, realmID string, u store.User) error {
	if !storable(u.Username) {
		return errUnstorable(u.Username)
	}
	var have store.User
	err := getData(ctx, tx, &have, `SELECT data FROM users WHERE realm_id = $1 AND username_lower = $2`, realmID, lower(u.Username))
	switch {
	case err == nil && have.ServiceAccountClientID == u.ServiceAccountClientID:
		return nil
	case err == nil:
		return &store.ConflictError{Kind: "user", Field: "username", Value: u.Username}
	case !errors.Is(err, pgx.ErrNoRows):
		return err
	}
	stmts, cs, err := userInserts(realmID, u)
	if err != nil {
		return err
	}
	for i, st := range stmts {
		if _, err := tx.Exec(ctx, st.sql, st.args...); err != nil {
			return conflict(err, cs[i])
		}
	}
	return nil
}

func (s *Store) DeleteClient(ctx context.Context, realmID, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, id) {
		return store.ErrNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if err := deleteOne(ctx, tx, `DELETE FROM clients WHERE realm_id = $1 AND id = $2`, realmID, id); err != nil {
			return err
		}
		// Its roles, its sessions (their refresh tokens cascade), and its
		// service-account user with that user's sessions.
		for _, sql := range []string{
			`DELETE FROM roles WHERE realm_id = $1 AND client_id = $2`,
			`DELETE FROM sessions WHERE realm_id = $1 AND client_id = $2`,
			`DELETE FROM sessions WHERE realm_id = $1 AND user_id IN (SELECT id FROM users WHERE realm_id = $1 AND sa_client_id = $2)`,
			`DELETE FROM users WHERE realm_id = $1 AND sa_client_id = $2`,
		} {
			if _, err := tx.Exec(ctx, sql, realmID, id); err != nil {
				return err
			}
		}
		return nil
	})
}
