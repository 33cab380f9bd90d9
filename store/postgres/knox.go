package postgres

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/store"
)

// --- identity providers

func (s *Store) CreateIdentityProvider(ctx context.Context, realmID string, p store.IdentityProvider) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, p.Alias) {
		return errUnstorable(realmID, p.Alias)
	}
	raw, err := encode(p)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO identity_providers (realm_id, alias, data) VALUES ($1, $2, $3)`, realmID, p.Alias, raw)
	return s.err(conflict(err, conflicts{"identity_providers_pkey": {Kind: "identity-provider", Field: "alias", Value: p.Alias}}))
}

func (s *Store) GetIdentityProvider(ctx context.Context, realmID, alias string) (store.IdentityProvider, error) {
	var p store.IdentityProvider
	if !storable(realmID, alias) {
		return p, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return p, err
	}
	return p, s.err(getData(ctx, db, &p, `SELECT data FROM identity_providers WHERE realm_id = $1 AND alias = $2`, realmID, alias))
}

func (s *Store) ListIdentityProviders(ctx context.Context, realmID string) ([]store.IdentityProvider, error) {
	if !storable(realmID) {
		return nil, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return nil, err
	}
	out, err := listData[store.IdentityProvider](ctx, db, `SELECT data FROM identity_providers WHERE realm_id = $1 ORDER BY alias`, realmID)
	return emptyOrMissing(ctx, s, db, realmID, out, err)
}

func (s *Store) UpdateIdentityProvider(ctx context.Context, realmID, alias string, fn func(*store.IdentityProvider) error) (store.IdentityProvider, error) {
	if err := ctxErr(ctx); err != nil {
		return store.IdentityProvider{}, err
	}
	if !storable(realmID, alias) {
		return store.IdentityProvider{}, store.ErrNotFound
	}
	var out store.IdentityProvider
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var p store.IdentityProvider
		if err := getData(ctx, tx, &p, `SELECT data FROM identity_providers WHERE realm_id = $1 AND alias = $2 FOR UPDATE`, realmID, alias); err != nil {
			return err
		}
		if err := fn(&p); err != nil {
			return err
		}
		p.Alias = alias
		raw, err := encode(p)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE identity_providers SET data = $3 WHERE realm_id = $1 AND alias = $2`, realmID, alias, raw); err != nil {
			return err
		}
		out = p
		return nil
	})
	return out, err
}

func (s *Store) DeleteIdentityProvider(ctx context.Context, realmID, alias string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, alias) {
		return store.ErrNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if err := deleteOne(ctx, tx, `DELETE FROM identity_providers WHERE realm_id = $1 AND alias = $2`, realmID, alias); err != nil {
			return err
		}
		return unlinkProvider(ctx, tx, realmID, alias)
	})
}

// unlinkProvider removes every user's link to provider alias, from the
// index and from the users' records, so a provider created later under
// the alias inherits none. It locks the users before their links, the
// order in which UpdateUser takes them; a link committed between the two
// (a user linked meanwhile) is deleted too, and its user locked then.
func unlinkProvider(ctx context.Context, tx pgx.Tx, realmID, alias string) error {
	users, err := listData[store.User](ctx, tx, `SELECT data FROM users WHERE realm_id = $1
		AND id IN (SELECT user_id FROM federated_identities WHERE realm_id = $1 AND alias = $2) ORDER BY id FOR UPDATE`, realmID, alias)
	if err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `DELETE FROM federated_identities WHERE realm_id = $1 AND alias = $2 RETURNING user_id`, realmID, alias)
	if err != nil {
		return err
	}
	unlinked, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	var late []string
	for _, id := range unlinked {
		if !slices.ContainsFunc(users, func(u store.User) bool { return u.ID == id }) {
			late = append(late, id)
		}
	}
	if len(late) > 0 {
		more, err := listData[store.User](ctx, tx, `SELECT data FROM users WHERE realm_id = $1 AND id = ANY($2) ORDER BY id FOR UPDATE`,
			realmID, late)
		if err != nil {
			return err
		}
		users = append(users, more...)
	}
	for _, u := range users {
		u.FederatedIdentities = slices.DeleteFunc(u.FederatedIdentities, func(f store.FederatedIdentity) bool { return f.IdentityProvider == alias })
		if len(u.FederatedIdentities) == 0 {
			u.FederatedIdentities = nil
		}
		raw, err := encode(u)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET data = $3 WHERE realm_id = $1 AND id = $2`, realmID, u.ID, raw); err != nil {
			return err
		}
	}
	return nil
}

// --- topologies

func (s *Store) PutTopology(ctx context.Context, t store.Topology) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(t.Name) || !storable(t.RealmID) {
		return errUnstorable(t.Name)
	}
	raw, err := encode(t)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO topologies (name, realm_id, data) VALUES ($1, NULLIF($2, ''), $3)
		ON CONFLICT (name) DO UPDATE SET realm_id = excluded.realm_id, data = excluded.data`, t.Name, t.RealmID, raw)
	return s.err(err)
}

func (s *Store) GetTopology(ctx context.Context, name string) (store.Topology, error) {
	var t store.Topology
	if !storable(name) {
		return t, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return t, err
	}
	return t, s.err(getData(ctx, db, &t, `SELECT data FROM topologies WHERE name = $1`, name))
}

func (s *Store) ListTopologies(ctx context.Context) ([]store.Topology, error) {
	db, err := s.db()
	if err != nil {
		return nil, err
	}
	out, err := listData[store.Topology](ctx, db, `SELECT data FROM topologies ORDER BY name`)
	return out, s.err(err)
}

func (s *Store) DeleteTopology(ctx context.Context, name string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(name) {
		return store.ErrNotFound
	}
	return s.deleteOne(ctx, `DELETE FROM topologies WHERE name = $1`, name)
}

// --- managed Knox tokens

func knoxStorable(t store.KnoxToken) bool {
	return storable(t.ID, t.UserID, t.CreatedByID, t.Username, t.CreatedBy)
}

// oldestFirst orders tokens by IssuedAt; rows come in ID order, so ties
// keep it, as in bbolt.
func oldestFirst(ts []store.KnoxToken) []store.KnoxToken {
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].IssuedAt.Before(ts[j].IssuedAt) })
	return ts
}

// CreateKnoxToken enforces the per-user limit across replicas: it locks
// the owner's row in knox_token_holders (created on first use) before
// counting, so two creations for one user run one after the other and the
// second counts the first's token. A token without an owner ID (none is
// written today) belongs to no user and counts against no limit.
func (s *Store) CreateKnoxToken(ctx context.Context, realmID string, t store.KnoxToken, limit store.KnoxTokenLimit) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID) || !knoxStorable(t) {
		return errUnstorable(realmID, t.ID, t.UserID, t.CreatedByID, t.Username, t.CreatedBy)
	}
	raw, err := encode(t)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if limit.Max > 0 && t.UserID != "" {
			if _, err := tx.Exec(ctx, `INSERT INTO knox_token_holders (realm_id, user_id) VALUES ($1, $2)
				ON CONFLICT (realm_id, user_id) DO NOTHING`, realmID, t.UserID); err != nil {
				return err
			}
			var one int
			if err := tx.QueryRow(ctx, `SELECT 1 FROM knox_token_holders WHERE realm_id = $1 AND user_id = $2 FOR UPDATE`,
				realmID, t.UserID).Scan(&one); err != nil {
				return err
			}
			mine, err := listData[store.KnoxToken](ctx, tx, `SELECT data FROM knox_tokens WHERE realm_id = $1 AND user_id = $2 ORDER BY id`,
				realmID, t.UserID)
			if err != nil {
				return err
			}
			var live []store.KnoxToken
			for _, m := range oldestFirst(mine) {
				if m.ExpiresAt.IsZero() || m.ExpiresAt.After(limit.Now) {
					live = append(live, m)
				}
			}
			for len(live) >= limit.Max {
				if !limit.RemoveOldest {
					return store.ErrLimitExceeded
				}
				if _, err := tx.Exec(ctx, `DELETE FROM knox_tokens WHERE realm_id = $1 AND id = $2`, realmID, live[0].ID); err != nil {
					return err
				}
				live = live[1:]
			}
		}
		// The username columns are for replicas of schema version 1 (see
		// migration 2).
		_, err := tx.Exec(ctx, `INSERT INTO knox_tokens (realm_id, id, user_id, created_by_id, username, created_by, expires_at, data)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			realmID, t.ID, nullIfEmpty(t.UserID), nullIfEmpty(t.CreatedByID), t.Username, t.CreatedBy, ts(t.ExpiresAt), raw)
		return conflict(err, conflicts{"knox_tokens_pkey": {Kind: "knox-token", Field: "id", Value: t.ID}})
	})
}

func (s *Store) GetKnoxToken(ctx context.Context, realmID, id string) (store.KnoxToken, error) {
	var t store.KnoxToken
	if !storable(realmID, id) {
		return t, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return t, err
	}
	return t, s.err(getData(ctx, db, &t, `SELECT data FROM knox_tokens WHERE realm_id = $1 AND id = $2`, realmID, id))
}

func (s *Store) UpdateKnoxToken(ctx context.Context, realmID, id string, fn func(*store.KnoxToken) error) (store.KnoxToken, error) {
	if err := ctxErr(ctx); err != nil {
		return store.KnoxToken{}, err
	}
	if !storable(realmID, id) {
		return store.KnoxToken{}, store.ErrNotFound
	}
	var out store.KnoxToken
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var t store.KnoxToken
		if err := getData(ctx, tx, &t, `SELECT data FROM knox_tokens WHERE realm_id = $1 AND id = $2 FOR UPDATE`, realmID, id); err != nil {
			return err
		}
		if err := fn(&t); err != nil {
			return err
		}
		t.ID = id
		if !knoxStorable(t) {
			return errUnstorable(t.UserID, t.CreatedByID, t.Username, t.CreatedBy)
		}
		raw, err := encode(t)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE knox_tokens SET user_id = $3, created_by_id = $4, username = $5, created_by = $6, expires_at = $7, data = $8
			WHERE realm_id = $1 AND id = $2`, realmID, id, nullIfEmpty(t.UserID), nullIfEmpty(t.CreatedByID), t.Username, t.CreatedBy,
			ts(t.ExpiresAt), raw); err != nil {
			return err
		}
		out = t
		return nil
	})
	return out, err
}

func (s *Store) DeleteKnoxToken(ctx context.Context, realmID, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, id) {
		return store.ErrNotFound
	}
	return s.deleteOne(ctx, `DELETE FROM knox_tokens WHERE realm_id = $1 AND id = $2`, realmID, id)
}

// ListKnoxTokens filters on the owner ID columns; a row without an owner
// ID has NULL there, which equals no user ID.
func (s *Store) ListKnoxTokens(ctx context.Context, realmID string, q store.KnoxTokenQuery) ([]store.KnoxToken, error) {
	if !storable(realmID, q.UserID, q.CreatedByID) {
		return nil, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return nil, err
	}
	out, err := listData[store.KnoxToken](ctx, db, `SELECT data FROM knox_tokens WHERE realm_id = $1
		AND ($2 = '' OR user_id = $2) AND ($3 = '' OR created_by_id = $3) ORDER BY id`, realmID, q.UserID, q.CreatedByID)
	out, err = emptyOrMissing(ctx, s, db, realmID, out, err)
	return oldestFirst(out), err
}

func (s *Store) DeleteExpiredKnoxTokens(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	if limit <= 0 {
		limit = 1000
	}
	tag, err := s.exec(ctx, `DELETE FROM knox_tokens WHERE (realm_id, id) IN
		(SELECT realm_id, id FROM knox_tokens WHERE expires_at < $1 ORDER BY expires_at LIMIT $2)`, before, limit)
	if err != nil {
		return 0, s.err(err)
	}
	return int(tag.RowsAffected()), nil
}
