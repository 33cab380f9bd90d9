package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/gatehouse/gatehouse/store"
)

func (s *Store) CreateAuthCode(ctx context.Context, realmID string, c store.AuthCode) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, c.Hash) {
		return errUnstorable(realmID, c.Hash)
	}
	raw, err := encode(c)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO auth_codes (realm_id, hash, expires_at, used_at, data) VALUES ($1, $2, $3, $4, $5)`,
		realmID, c.Hash, ts(c.ExpiresAt), ts(c.UsedAt), raw)
	return s.err(conflict(err, conflicts{"auth_codes_pkey": {Kind: "code", Field: "hash", Value: c.Hash}}))
}

// ConsumeAuthCode redeems with one conditional UPDATE: the row lock makes
// concurrent redemptions on any replica apply one after another, and each
// later one finds used_at set, so exactly one wins. A redemption that
// changed nothing reads the row to say why (a used code is reported
// before an expired one, as in bbolt).
func (s *Store) ConsumeAuthCode(ctx context.Context, realmID, hash string, now time.Time) (store.AuthCode, error) {
	if err := ctxErr(ctx); err != nil {
		return store.AuthCode{}, err
	}
	if !storable(realmID, hash) {
		return store.AuthCode{}, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return store.AuthCode{}, err
	}
	var c store.AuthCode
	var raw []byte
	err = db.QueryRow(ctx, `UPDATE auth_codes SET used_at = $3 WHERE realm_id = $1 AND hash = $2
		AND used_at IS NULL AND expires_at > $3 RETURNING data`, realmID, hash, ts(now)).Scan(&raw)
	switch {
	case err == nil:
		if err := decode(raw, &c); err != nil {
			return store.AuthCode{}, err
		}
		c.UsedAt = now
		return c, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return store.AuthCode{}, s.err(err)
	}
	var used pgtype.Timestamptz
	if err := db.QueryRow(ctx, `SELECT data, used_at FROM auth_codes WHERE realm_id = $1 AND hash = $2`, realmID, hash).Scan(&raw, &used); err != nil {
		return store.AuthCode{}, s.err(err)
	}
	if err := decode(raw, &c); err != nil {
		return store.AuthCode{}, err
	}
	if used.Valid {
		// The caller revokes what the first redemption issued.
		c.UsedAt = timeOf(used)
		return c, store.ErrTokenReused
	}
	return store.AuthCode{}, store.ErrTokenExpired
}

func deviceConflicts(d store.DeviceCode) conflicts {
	return conflicts{
		"device_codes_pkey":          {Kind: "device-code", Field: "hash", Value: d.Hash},
		"device_codes_user_code_key": {Kind: "device-code", Field: "userCode", Value: d.UserCode},
	}
}

func (s *Store) CreateDeviceCode(ctx context.Context, realmID string, d store.DeviceCode) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, d.Hash, d.UserCode) {
		return errUnstorable(realmID, d.Hash, d.UserCode)
	}
	raw, err := encode(d)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO device_codes (realm_id, hash, user_code, expires_at, data) VALUES ($1, $2, $3, $4, $5)`,
		realmID, d.Hash, d.UserCode, ts(d.ExpiresAt), raw)
	return s.err(conflict(err, deviceConflicts(d)))
}

func (s *Store) GetDeviceCodeByUserCode(ctx context.Context, realmID, userCode string) (store.DeviceCode, error) {
	var d store.DeviceCode
	if !storable(realmID, userCode) {
		return d, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return d, err
	}
	return d, s.err(getData(ctx, db, &d, `SELECT data FROM device_codes WHERE realm_id = $1 AND user_code = $2`, realmID, userCode))
}

func (s *Store) UpdateDeviceCode(ctx context.Context, realmID, hash string, fn func(*store.DeviceCode) error) (store.DeviceCode, error) {
	if err := ctxErr(ctx); err != nil {
		return store.DeviceCode{}, err
	}
	if !storable(realmID, hash) {
		return store.DeviceCode{}, store.ErrNotFound
	}
	var out store.DeviceCode
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var d store.DeviceCode
		if err := getData(ctx, tx, &d, `SELECT data FROM device_codes WHERE realm_id = $1 AND hash = $2 FOR UPDATE`, realmID, hash); err != nil {
			return err
		}
		keys := d
		if err := fn(&d); err != nil {
			return err
		}
		// The keys are not the caller's to change.
		d.Hash, d.UserCode, d.ExpiresAt = keys.Hash, keys.UserCode, keys.ExpiresAt
		raw, err := encode(d)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE device_codes SET data = $3 WHERE realm_id = $1 AND hash = $2`, realmID, hash, raw); err != nil {
			return err
		}
		out = d
		return nil
	})
	return out, err
}
