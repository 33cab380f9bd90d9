package memory

import (
	"context"

	"github.com/gatehouse/gatehouse/store"
)

func (s *Store) CreateKey(ctx context.Context, realmID string, k store.SigningKey) error {
	return s.write(ctx, realmID, func(r *realm) error { return r.createKey(k) })
}

func (r *realm) createKey(k store.SigningKey) error {
	if r.keys[k.KID] != nil {
		return &store.ConflictError{Kind: "key", Field: "kid", Value: k.KID}
	}
	r.keys[k.KID] = ptr(k)
	return nil
}

func (s *Store) ListKeys(_ context.Context, realmID string) ([]store.SigningKey, error) {
	var out []store.SigningKey
	err := s.read(realmID, func(r *realm) error {
		out = list(r.keys, nil, func(a, b *store.SigningKey) bool {
			if !a.CreatedAt.Equal(b.CreatedAt) {
				return a.CreatedAt.Before(b.CreatedAt)
			}
			return a.KID < b.KID
		})
		return nil
	})
	return out, err
}

func (s *Store) UpdateKey(ctx context.Context, realmID, kid string, fn func(*store.SigningKey) error) (store.SigningKey, error) {
	return modify(s, ctx, realmID, func(r *realm) (*store.SigningKey, error) { return lookup(r.keys, kid) }, fn,
		func(r *realm, _, k *store.SigningKey) error {
			k.KID = kid
			r.keys[kid] = k
			return nil
		})
}

func (s *Store) RotateKey(ctx context.Context, realmID string, k store.SigningKey) error {
	return s.write(ctx, realmID, func(r *realm) error {
		if err := r.checkRotation(k); err != nil {
			return err
		}
		r.rotateKey(k)
		return nil
	})
}

// checkRotation is what can make rotateKey fail, checked before anything
// changes.
func (r *realm) checkRotation(k store.SigningKey) error {
	if r.keys[k.KID] != nil {
		return &store.ConflictError{Kind: "key", Field: "kid", Value: k.KID}
	}
	return nil
}

// rotateKey stores k and demotes every other active key to passive.
func (r *realm) rotateKey(k store.SigningKey) {
	for kid, old := range r.keys {
		if old.Status == store.KeyActive {
			demoted := clone(*old)
			demoted.Status = store.KeyPassive
			r.keys[kid] = &demoted
		}
	}
	r.keys[k.KID] = ptr(k)
}
