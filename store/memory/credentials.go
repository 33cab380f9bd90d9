package memory

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// ownedBy keeps a user's rows, or all of them for userID "".
func ownedBy[T any](userID string, owner func(*T) string) func(*T) bool {
	return func(v *T) bool { return userID == "" || owner(v) == userID }
}

// oldestFirst orders by creation time, ties by ID.
func oldestFirst[T any](created func(*T) time.Time, id func(*T) string) func(a, b *T) bool {
	return func(a, b *T) bool {
		if ca, cb := created(a), created(b); !ca.Equal(cb) {
			return ca.Before(cb)
		}
		return id(a) < id(b)
	}
}

// --- personal API keys

func (s *Store) CreateAPIKey(ctx context.Context, realmID string, k store.APIKey) error {
	return s.write(ctx, realmID, func(r *realm) error {
		if r.apiKeys[k.ID] != nil {
			return &store.ConflictError{Kind: "api-key", Field: "id", Value: k.ID}
		}
		r.apiKeys[k.ID] = ptr(k)
		return nil
	})
}

func (s *Store) GetAPIKey(_ context.Context, realmID, id string) (store.APIKey, error) {
	return get(s, realmID, func(r *realm) (*store.APIKey, error) { return lookup(r.apiKeys, id) })
}

func (s *Store) ListAPIKeys(_ context.Context, realmID, userID string) ([]store.APIKey, error) {
	var out []store.APIKey
	err := s.read(realmID, func(r *realm) error {
		out = list(r.apiKeys, ownedBy(userID, func(k *store.APIKey) string { return k.UserID }),
			oldestFirst(func(k *store.APIKey) time.Time { return k.CreatedAt }, func(k *store.APIKey) string { return k.ID }))
		return nil
	})
	return out, err
}

func (s *Store) DeleteAPIKey(ctx context.Context, realmID, id string) error {
	return s.write(ctx, realmID, func(r *realm) error {
		if r.apiKeys[id] == nil {
			return store.ErrNotFound
		}
		delete(r.apiKeys, id)
		return nil
	})
}

// --- access keys

func (s *Store) CreateAccessKey(ctx context.Context, realmID string, k store.AccessKey) error {
	return s.write(ctx, realmID, func(r *realm) error {
		if r.accessKeys[k.ID] != nil {
			return &store.ConflictError{Kind: "access-key", Field: "id", Value: k.ID}
		}
		r.accessKeys[k.ID] = ptr(k)
		return nil
	})
}

func (s *Store) GetAccessKey(_ context.Context, realmID, id string) (store.AccessKey, error) {
	return get(s, realmID, func(r *realm) (*store.AccessKey, error) { return lookup(r.accessKeys, id) })
}

func (s *Store) ListAccessKeys(_ context.Context, realmID, userID string) ([]store.AccessKey, error) {
	var out []store.AccessKey
	err := s.read(realmID, func(r *realm) error {
		out = list(r.accessKeys, ownedBy(userID, func(k *store.AccessKey) string { return k.UserID }),
			oldestFirst(func(k *store.AccessKey) time.Time { return k.CreatedAt }, func(k *store.AccessKey) string { return k.ID }))
		return nil
	})
	return out, err
}

func (s *Store) UpdateAccessKey(ctx context.Context, realmID, id string, fn func(*store.AccessKey) error) (store.AccessKey, error) {
	return modify(s, ctx, realmID, func(r *realm) (*store.AccessKey, error) { return lookup(r.accessKeys, id) }, fn,
		func(r *realm, old, k *store.AccessKey) error {
			// The owner and ID are fixed: an update cannot move a key to
			// another user.
			k.ID, k.UserID = id, old.UserID
			r.accessKeys[id] = k
			return nil
		})
}

func (s *Store) DeleteAccessKey(ctx context.Context, realmID, id string) error {
	return s.write(ctx, realmID, func(r *realm) error {
		if r.accessKeys[id] == nil {
			return store.ErrNotFound
		}
		delete(r.accessKeys, id)
		return nil
	})
}

// --- single-use nonces

func (s *Store) ClaimNonce(ctx context.Context, realmID, nonce string, exp, now time.Time) error {
	return s.write(ctx, realmID, func(r *realm) error {
		if prev, ok := r.nonces[nonce]; ok && prev.After(now) {
			return &store.ConflictError{Kind: "nonce", Field: "value", Value: nonce}
		}
		r.nonces[nonce] = exp
		return nil
	})
}
