package bolt

import (
	"context"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/store"
)

func (s *Store) CreateAuthCode(ctx context.Context, realmID string, c store.AuthCode) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.batchRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		codes, err := rb.CreateBucketIfNotExists(bCodes)
		if err != nil {
			return err
		}
		if codes.Get([]byte(c.Hash)) != nil {
			return &store.ConflictError{Kind: "code", Field: "hash", Value: c.Hash}
		}
		if err := putRow(codes, c.Hash, c); err != nil {
			return err
		}
		return tx.Bucket(bExp).Put(expKey(c.ExpiresAt, realmID, kindCode, c.Hash), nil)
	})
}

func (s *Store) ConsumeAuthCode(ctx context.Context, realmID, hash string, now time.Time) (store.AuthCode, error) {
	if err := ctxErr(ctx); err != nil {
		return store.AuthCode{}, err
	}
	var c store.AuthCode
	var reused bool
	err := s.batchRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		// Batch may run this more than once: start from scratch each time.
		c, reused = store.AuthCode{}, false
		codes := rb.Bucket(bCodes)
		if codes == nil {
			return store.ErrNotFound
		}
		if err := getRow(codes, hash, &c); err != nil {
			return err
		}
		if !c.UsedAt.IsZero() {
			// Reported after the commit: the caller revokes what the
			// first use issued.
			reused = true
			return nil
		}
		if !c.ExpiresAt.After(now) {
			return store.ErrTokenExpired
		}
		c.UsedAt = now
		return putRow(codes, hash, c)
	})
	if err != nil {
		return store.AuthCode{}, err
	}
	if reused {
		return c, store.ErrTokenReused
	}
	return c, nil
}
