package memory

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

func (s *Store) CreateAuthCode(ctx context.Context, realmID string, c store.AuthCode) error {
	return s.write(ctx, realmID, func(r *realm) error {
		if r.codes[c.Hash] != nil {
			return &store.ConflictError{Kind: "code", Field: "hash", Value: c.Hash}
		}
		r.codes[c.Hash] = ptr(c)
		return nil
	})
}

func (s *Store) ConsumeAuthCode(ctx context.Context, realmID, hash string, now time.Time) (store.AuthCode, error) {
	var out store.AuthCode
	err := s.write(ctx, realmID, func(r *realm) error {
		c, err := lookup(r.codes, hash)
		if err != nil {
			return err
		}
		out = clone(*c)
		if !c.UsedAt.IsZero() {
			// The caller revokes what the first use issued.
			return store.ErrTokenReused
		}
		if !c.ExpiresAt.After(now) {
			out = store.AuthCode{}
			return store.ErrTokenExpired
		}
		out.UsedAt = now
		r.codes[hash] = ptr(out)
		return nil
	})
	if err != nil && err != store.ErrTokenReused {
		return store.AuthCode{}, err
	}
	return out, err
}

func (s *Store) CreateDeviceCode(ctx context.Context, realmID string, d store.DeviceCode) error {
	return s.write(ctx, realmID, func(r *realm) error {
		if r.devices[d.Hash] != nil {
			return &store.ConflictError{Kind: "device-code", Field: "hash", Value: d.Hash}
		}
		if _, ok := r.deviceByUser[d.UserCode]; ok {
			return &store.ConflictError{Kind: "device-code", Field: "userCode", Value: d.UserCode}
		}
		r.devices[d.Hash] = ptr(d)
		r.deviceByUser[d.UserCode] = d.Hash
		return nil
	})
}

func (s *Store) GetDeviceCodeByUserCode(_ context.Context, realmID, userCode string) (store.DeviceCode, error) {
	return get(s, realmID, func(r *realm) (*store.DeviceCode, error) { return byIndex(r.deviceByUser, r.devices, userCode) })
}

func (s *Store) UpdateDeviceCode(ctx context.Context, realmID, hash string, fn func(*store.DeviceCode) error) (store.DeviceCode, error) {
	return modify(s, ctx, realmID, func(r *realm) (*store.DeviceCode, error) { return lookup(r.devices, hash) }, fn,
		func(r *realm, old, d *store.DeviceCode) error {
			// The keys are not the caller's to change.
			d.Hash, d.UserCode, d.ExpiresAt = old.Hash, old.UserCode, old.ExpiresAt
			r.devices[hash] = d
			return nil
		})
}
