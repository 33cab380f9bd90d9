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
