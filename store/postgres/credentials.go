package postgres

import (
	"context"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/store"
)

// User-held credentials (personal API keys, access keys) are JSON rows
// beside their ID and their user's ID; the user's row owns them (its
// deletion cascades to them). Single-use nonces are a key and an expiry.

// credTable names a credential kind's table and conflict kind.
type credTable struct {
	table, kind string
}

var (
	apiKeys    = credTable{"api_keys", "api-key"}
	accessKeys = credTable{"access_keys", "access-key"}
)

func (s *Store) createCred(ctx context.Context, realmID string, ct credTable, id, userID string, v any) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, id, userID) {
		return errUnstorable(realmID, id, userID)
	}
	raw, err := encode(v)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO `+ct.table+` (realm_id, id, user_id, data) VALUES ($1, $2, $3, $4)`, realmID, id, userID, raw)
	return s.err(conflict(err, conflicts{ct.table + "_pkey": {Kind: ct.kind, Field: "id", Value: id}}))
}

func getCred[T any](ctx context.Context, s *Store, realmID string, ct credTable, id string) (T, error) {
	var v T
	if !storable(realmID, id) {
		return v, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return v, err
	}
	return v, s.err(getData(ctx, db, &v, `SELECT data FROM `+ct.table+` WHERE realm_id = $1 AND id = $2`, realmID, id))
}

// listCred lists a user's rows, or the realm's when userID is "", oldest
// first (ties in ID order, as in bbolt).
func listCred[T any](ctx context.Context, s *Store, realmID string, ct credTable, userID string, created func(T) time.Time) ([]T, error) {
	if !storable(realmID, userID) {
		return nil, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return nil, err
	}
	out, err := listData[T](ctx, db, `SELECT data FROM `+ct.table+` WHERE realm_id = $1 AND ($2 = '' OR user_id = $2) ORDER BY id`,
		realmID, userID)
	out, err = emptyOrMissing(ctx, s, db, realmID, out, err)
	sort.SliceStable(out, func(i, j int) bool { return created(out[i]).Before(created(out[j])) })
	return out, err
}

func (s *Store) deleteCred(ctx context.Context, realmID string, ct credTable, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, id) {
		return store.ErrNotFound
	}
	return s.deleteOne(ctx, `DELETE FROM `+ct.table+` WHERE realm_id = $1 AND id = $2`, realmID, id)
}

// --- personal API keys

func (s *Store) CreateAPIKey(ctx context.Context, realmID string, k store.APIKey) error {
	return s.createCred(ctx, realmID, apiKeys, k.ID, k.UserID, k)
}

func (s *Store) GetAPIKey(ctx context.Context, realmID, id string) (store.APIKey, error) {
	return getCred[store.APIKey](ctx, s, realmID, apiKeys, id)
}

func (s *Store) ListAPIKeys(ctx context.Context, realmID, userID string) ([]store.APIKey, error) {
	return listCred(ctx, s, realmID, apiKeys, userID, func(k store.APIKey) time.Time { return k.CreatedAt })
}

func (s *Store) DeleteAPIKey(ctx context.Context, realmID, id string) error {
	return s.deleteCred(ctx, realmID, apiKeys, id)
}

// --- access keys

func (s *Store) CreateAccessKey(ctx context.Context, realmID string, k store.AccessKey) error {
	return s.createCred(ctx, realmID, accessKeys, k.ID, k.UserID, k)
}

func (s *Store) GetAccessKey(ctx context.Context, realmID, id string) (store.AccessKey, error) {
	return getCred[store.AccessKey](ctx, s, realmID, accessKeys, id)
}

func (s *Store) ListAccessKeys(ctx context.Context, realmID, userID string) ([]store.AccessKey, error) {
	return listCred(ctx, s, realmID, accessKeys, userID, func(k store.AccessKey) time.Time { return k.CreatedAt })
}

func (s *Store) UpdateAccessKey(ctx context.Context, realmID, id string, fn func(*store.AccessKey) error) (store.AccessKey, error) {
	if err := ctxErr(ctx); err != nil {
		return store.AccessKey{}, err
	}
	if !storable(realmID, id) {
		return store.AccessKey{}, store.ErrNotFound
	}
	var out store.AccessKey
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var k store.AccessKey
		if err := getData(ctx, tx, &k, `SELECT data FROM access_keys WHERE realm_id = $1 AND id = $2 FOR UPDATE`, realmID, id); err != nil {
			return err
		}
		owner := k.UserID
		if err := fn(&k); err != nil {
			return err
		}
		// The owner and ID are fixed: an update cannot move a key to
		// another user.
		k.ID, k.UserID = id, owner
		raw, err := encode(k)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE access_keys SET data = $3 WHERE realm_id = $1 AND id = $2`, realmID, id, raw); err != nil {
			return err
		}
		out = k
		return nil
	})
	return out, err
}

func (s *Store) DeleteAccessKey(ctx context.Context, realmID, id string) error {
	return s.deleteCred(ctx, realmID, accessKeys, id)
}

// --- single-use nonces

// ClaimNonce is one statement: the insert succeeds, or replaces a record
// that has expired, or returns no row because a live record holds the
// value. Concurrent claims of one value on any replica queue on that row,
// so exactly one of them gets it.
func (s *Store) ClaimNonce(ctx context.Context, realmID, nonce string, exp, now time.Time) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, nonce) {
		return errUnstorable(realmID, nonce)
	}
	tag, err := s.exec(ctx, `INSERT INTO nonces (realm_id, nonce, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (realm_id, nonce) DO UPDATE SET expires_at = excluded.expires_at WHERE nonces.expires_at <= $4`,
		realmID, nonce, exp, now)
	if err != nil {
		return s.err(err)
	}
	if tag.RowsAffected() == 0 {
		return &store.ConflictError{Kind: "nonce", Field: "value", Value: nonce}
	}
	return nil
}
