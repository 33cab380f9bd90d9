package memory

import (
	"context"
	"strings"

	"github.com/gatehouse/gatehouse/store"
)

func (s *Store) GetLoginFailure(_ context.Context, realmID, key string) (store.LoginFailure, error) {
	return get(s, realmID, func(r *realm) (*store.LoginFailure, error) { return lookup(r.failures, key) })
}

func (s *Store) UpdateLoginFailure(ctx context.Context, realmID, key string, fn func(*store.LoginFailure) error) (store.LoginFailure, error) {
	return modify(s, ctx, realmID, func(r *realm) (*store.LoginFailure, error) { return r.failures[key], nil },
		func(f *store.LoginFailure) error {
			if f.Key == "" {
				f.Key = key // a new record
			}
			return fn(f)
		},
		func(r *realm, _, f *store.LoginFailure) error {
			f.Key = key
			r.failures[key] = f
			return nil
		})
}

func (s *Store) DeleteLoginFailure(ctx context.Context, realmID, key string) error {
	return s.write(ctx, realmID, func(r *realm) error {
		if r.failures[key] == nil {
			return store.ErrNotFound
		}
		delete(r.failures, key)
		return nil
	})
}

func underPrefix(prefix string) func(*store.LoginFailure) bool {
	return func(f *store.LoginFailure) bool { return strings.HasPrefix(f.Key, prefix) }
}

func byKey(a, b *store.LoginFailure) bool { return a.Key < b.Key }

func (s *Store) ListLoginFailures(_ context.Context, realmID, prefix string) ([]store.LoginFailure, error) {
	var out []store.LoginFailure
	err := s.read(realmID, func(r *realm) error {
		out = list(r.failures, underPrefix(prefix), byKey)
		return nil
	})
	return out, err
}

func (s *Store) PruneLoginFailures(ctx context.Context, realmID, prefix string, stale func(store.LoginFailure) bool) (int, error) {
	n := 0
	err := s.write(ctx, realmID, func(r *realm) error {
		for _, f := range list(r.failures, underPrefix(prefix), byKey) {
			if stale(f) {
				delete(r.failures, f.Key)
				n++
			}
		}
		return nil
	})
	return n, err
}
