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
		codes := sub(rb, bCodes)
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
		codes := sub(rb, bCodes)
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

func (s *Store) CreateDeviceCode(ctx context.Context, realmID string, d store.DeviceCode) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.batchRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		codes, byUser := sub(rb, bDevice), sub(rb, bDeviceByUser)
		if codes.Get([]byte(d.Hash)) != nil {
			return &store.ConflictError{Kind: "device-code", Field: "hash", Value: d.Hash}
		}
		if byUser.Get([]byte(d.UserCode)) != nil {
			return &store.ConflictError{Kind: "device-code", Field: "userCode", Value: d.UserCode}
		}
		if err := putRow(codes, d.Hash, d); err != nil {
			return err
		}
		if err := byUser.Put([]byte(d.UserCode), []byte(d.Hash)); err != nil {
			return err
		}
		return tx.Bucket(bExp).Put(expKey(d.ExpiresAt, realmID, kindDevice, d.Hash), nil)
	})
}

func (s *Store) GetDeviceCodeByUserCode(_ context.Context, realmID, userCode string) (store.DeviceCode, error) {
	var d store.DeviceCode
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		byUser, codes := sub(rb, bDeviceByUser), sub(rb, bDevice)
		h := byUser.Get([]byte(userCode))
		if h == nil {
			return store.ErrNotFound
		}
		return getRow(codes, string(h), &d)
	})
	return d, err
}

func (s *Store) UpdateDeviceCode(ctx context.Context, realmID, hash string, fn func(*store.DeviceCode) error) (store.DeviceCode, error) {
	if err := ctxErr(ctx); err != nil {
		return store.DeviceCode{}, err
	}
	var d store.DeviceCode
	err := s.batchRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		d = store.DeviceCode{}
		codes := sub(rb, bDevice)
		if err := getRow(codes, hash, &d); err != nil {
			return err
		}
		if err := fn(&d); err != nil {
			return err
		}
		// The keys are not the caller's to change.
		var old store.DeviceCode
		_ = getRow(codes, hash, &old)
		d.Hash, d.UserCode, d.ExpiresAt = old.Hash, old.UserCode, old.ExpiresAt
		return putRow(codes, hash, d)
	})
	if err != nil {
		return store.DeviceCode{}, err
	}
	return d, nil
}

// deleteDeviceTx removes a device request and its user-code index row.
func deleteDeviceTx(rb *bbolt.Bucket, hash string) error {
	codes := sub(rb, bDevice)
	var d store.DeviceCode
	if err := getRow(codes, hash, &d); err != nil {
		return nil
	}
	if err := sub(rb, bDeviceByUser).Delete([]byte(d.UserCode)); err != nil {
		return err
	}
	return codes.Delete([]byte(hash))
}
