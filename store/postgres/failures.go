package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/store"
)

func (s *Store) GetLoginFailure(ctx context.Context, realmID, key string) (store.LoginFailure, error) {
	var f store.LoginFailure
	if !storable(realmID, key) {
		return f, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return f, err
	}
	return f, s.err(getData(ctx, db, &f, `SELECT data FROM login_failures WHERE realm_id = $1 AND failure_key = $2`, realmID, key))
}

// UpdateLoginFailure makes sure the row exists, then locks it, so
// concurrent failures on any replica apply one after another and no
// increment is lost. A row created for an fn that fails is rolled back.
func (s *Store) UpdateLoginFailure(ctx context.Context, realmID, key string, fn func(*store.LoginFailure) error) (store.LoginFailure, error) {
	if err := ctxErr(ctx); err != nil {
		return store.LoginFailure{}, err
	}
	if !storable(realmID, key) {
		return store.LoginFailure{}, errUnstorable(realmID, key)
	}
	zero, err := encode(store.LoginFailure{Key: key})
	if err != nil {
		return store.LoginFailure{}, err
	}
	var out store.LoginFailure
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO login_failures (realm_id, failure_key, data) VALUES ($1, $2, $3)
			ON CONFLICT (realm_id, failure_key) DO NOTHING`, realmID, key, zero); err != nil {
			return err
		}
		var f store.LoginFailure
		if err := getData(ctx, tx, &f, `SELECT data FROM login_failures WHERE realm_id = $1 AND failure_key = $2 FOR UPDATE`, realmID, key); err != nil {
			return err
		}
		if err := fn(&f); err != nil {
			return err
		}
		f.Key = key
		raw, err := encode(f)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE login_failures SET data = $3 WHERE realm_id = $1 AND failure_key = $2`, realmID, key, raw); err != nil {
			return err
		}
		out = f
		return nil
	})
	return out, err
}

func (s *Store) DeleteLoginFailure(ctx context.Context, realmID, key string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, key) {
		return store.ErrNotFound
	}
	return s.deleteOne(ctx, `DELETE FROM login_failures WHERE realm_id = $1 AND failure_key = $2`, realmID, key)
}

// underPrefix selects the keys starting with $2 (the lower bound lets the
// primary key's byte order narrow the scan).
const underPrefix = `failure_key >= $2 AND left(failure_key, char_length($2)) = $2`

func (s *Store) ListLoginFailures(ctx context.Context, realmID, prefix string) ([]store.LoginFailure, error) {
	if !storable(realmID, prefix) {
		return nil, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return nil, err
	}
	out, err := listData[store.LoginFailure](ctx, db, `SELECT data FROM login_failures WHERE realm_id = $1 AND `+underPrefix+`
		ORDER BY failure_key`, realmID, prefix)
	return emptyOrMissing(ctx, s, db, realmID, out, err)
}

// PruneLoginFailures reads the candidates without a lock (a realm with
// nothing stale costs no write), then locks them and decides again on
// what is there then: a failure another replica recorded meanwhile keeps
// its record.
func (s *Store) PruneLoginFailures(ctx context.Context, realmID, prefix string, stale func(store.LoginFailure) bool) (int, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	all, err := s.ListLoginFailures(ctx, realmID, prefix)
	if err != nil {
		return 0, err
	}
	var keys []string
	for _, f := range all {
		if stale(f) {
			keys = append(keys, f.Key)
		}
	}
	if len(keys) == 0 {
		return 0, nil
	}
	n := 0
	err = s.tx(ctx, func(tx pgx.Tx) error {
		n = 0
		locked, err := listData[store.LoginFailure](ctx, tx, `SELECT data FROM login_failures WHERE realm_id = $1 AND failure_key = ANY($2)
			ORDER BY failure_key FOR UPDATE`, realmID, keys)
		if err != nil {
			return err
		}
		var gone []string
		for _, f := range locked {
			if stale(f) {
				gone = append(gone, f.Key)
			}
		}
		if len(gone) == 0 {
			return nil
		}
		tag, err := tx.Exec(ctx, `DELETE FROM login_failures WHERE realm_id = $1 AND failure_key = ANY($2)`, realmID, gone)
		n = int(tag.RowsAffected())
		return err
	})
	return n, err
}
