package bolt

import (
	"context"

	bbolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/store"
)

var bFailures = []byte("login_failures")

func (s *Store) GetLoginFailure(_ context.Context, realmID, key string) (store.LoginFailure, error) {
	var f store.LoginFailure
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		return getRow(sub(rb, bFailures), key, &f)
	})
	return f, err
}

func (s *Store) UpdateLoginFailure(ctx context.Context, realmID, key string, fn func(*store.LoginFailure) error) (store.LoginFailure, error) {
	if err := ctxErr(ctx); err != nil {
		return store.LoginFailure{}, err
	}
	var out store.LoginFailure
	err := s.batchRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		b := sub(rb, bFailures)
		f := store.LoginFailure{Key: key}
		if raw := b.Get([]byte(key)); raw != nil {
			if err := getRow(b, key, &f); err != nil {
				return err
			}
		}
		if err := fn(&f); err != nil {
			return err
		}
		f.Key = key
		out = f
		return putRow(b, key, f)
	})
	return out, err
}

func (s *Store) DeleteLoginFailure(ctx context.Context, realmID, key string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.batchRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		return deleteRow(sub(rb, bFailures), key)
	})
}
