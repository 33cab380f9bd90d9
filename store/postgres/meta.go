package postgres

import (
	"context"
	"crypto/subtle"
	"errors"

	"github.com/jackc/pgx/v5"
)

// ErrMasterKeyMismatch: the master key differs from the one the database
// was first used with. Values sealed by another replica would not open.
var ErrMasterKeyMismatch = errors.New("postgres: this master key is not the one the database was first used with: every replica needs the same key (GATEHOUSE_MASTER_KEY)")

// CheckMasterKey records check (a value derived from the master key that
// does not reveal it) the first time any replica starts, and refuses a
// different one afterwards: a replica that generated a key of its own
// would store client secrets and signing keys no other replica can open.
func (s *Store) CheckMasterKey(ctx context.Context, check []byte) error {
	var stored []byte
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO gatehouse_meta (name, value) VALUES ('master_key_check', $1)
			ON CONFLICT (name) DO NOTHING`, check); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT value FROM gatehouse_meta WHERE name = 'master_key_check'`).Scan(&stored)
	})
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(stored, check) != 1 {
		return ErrMasterKeyMismatch
	}
	return nil
}
