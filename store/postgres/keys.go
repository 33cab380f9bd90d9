package postgres

import (
	"context"
	"sort"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/store"
)

func (s *Store) CreateKey(ctx context.Context, realmID string, k store.SigningKey) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	ins, err := keyInsert(realmID, k)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, ins.sql, ins.args...)
	return s.err(conflict(err, keyConflicts(k)))
}

func keyConflicts(k store.SigningKey) conflicts {
	return conflicts{"signing_keys_pkey": {Kind: "key", Field: "kid", Value: k.KID}}
}

func keyInsert(realmID string, k store.SigningKey) (stmt, error) {
	if !storable(realmID, k.KID) {
		return stmt{}, errUnstorable(realmID, k.KID)
	}
	raw, err := encode(k)
	if err != nil {
		return stmt{}, err
	}
	return stmt{`INSERT INTO signing_keys (realm_id, kid, data) VALUES ($1, $2, $3)`, []any{realmID, k.KID, raw}}, nil
}

func (s *Store) ListKeys(ctx context.Context, realmID string) ([]store.SigningKey, error) {
	if !storable(realmID) {
		return nil, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return nil, err
	}
	out, err := listData[store.SigningKey](ctx, db, `SELECT data FROM signing_keys WHERE realm_id = $1 ORDER BY kid`, realmID)
	out, err = emptyOrMissing(ctx, s, db, realmID, out, err)
	// A realm has a handful of keys: ordering by the record's CreatedAt
	// here keeps its full precision (ties by kid, as in bbolt).
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, err
}

func (s *Store) UpdateKey(ctx context.Context, realmID, kid string, fn func(*store.SigningKey) error) (store.SigningKey, error) {
	if err := ctxErr(ctx); err != nil {
		return store.SigningKey{}, err
	}
	if !storable(realmID, kid) {
		return store.SigningKey{}, store.ErrNotFound
	}
	var out store.SigningKey
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var k store.SigningKey
		if err := getData(ctx, tx, &k, `SELECT data FROM signing_keys WHERE realm_id = $1 AND kid = $2 FOR UPDATE`, realmID, kid); err != nil {
			return err
		}
		if err := fn(&k); err != nil {
			return err
		}
		k.KID = kid
		raw, err := encode(k)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE signing_keys SET data = $3 WHERE realm_id = $1 AND kid = $2`, realmID, kid, raw); err != nil {
			return err
		}
		out = k
		return nil
	})
	return out, err
}

func (s *Store) RotateKey(ctx context.Context, realmID string, k store.SigningKey) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID) {
		return store.ErrNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error { return rotateKeyTx(ctx, tx, realmID, k) })
}

// rotateKeyTx stores k and demotes the realm's other active keys to
// passive. It locks the realm row first (ErrNotFound when the realm is
// gone), so concurrent rotations of a realm run one after the other and
// the later one demotes the earlier one's key: one active key remains. NO
// KEY UPDATE leaves the inserts of other rows referencing the realm
// unblocked.
func rotateKeyTx(ctx context.Context, tx pgx.Tx, realmID string, k store.SigningKey) error {
	var one int
	if err := tx.QueryRow(ctx, `SELECT 1 FROM realms WHERE id = $1 FOR NO KEY UPDATE`, realmID).Scan(&one); err != nil {
		return err
	}
	keys, err := listData[store.SigningKey](ctx, tx, `SELECT data FROM signing_keys WHERE realm_id = $1 ORDER BY kid`, realmID)
	if err != nil {
		return err
	}
	ins, err := keyInsert(realmID, k)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, ins.sql, ins.args...); err != nil {
		return conflict(err, keyConflicts(k))
	}
	for _, old := range keys {
		if old.Status != store.KeyActive {
			continue
		}
		old.Status = store.KeyPassive
		raw, err := encode(old)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE signing_keys SET data = $3 WHERE realm_id = $1 AND kid = $2`, realmID, old.KID, raw); err != nil {
			return err
		}
	}
	return nil
}
