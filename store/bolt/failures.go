package bolt

import (
	"bytes"
	"context"

	bbolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/store"
)

var bFailures = []byte("login_failures")

func (s *Store) GetLoginFailure(_ context.Context, realmID, key string) (store.LoginFailure, error) {
	var f store.LoginFailure
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		return getIn(rb, bFailures, key, &f)
	})
	return f, err
}

func (s *Store) UpdateLoginFailure(ctx context.Context, realmID, key string, fn func(*store.LoginFailure) error) (store.LoginFailure, error) {
	if err := ctxErr(ctx); err != nil {
		return store.LoginFailure{}, err
	}
	var out store.LoginFailure
	err := s.batchRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		b, err := subOrCreate(rb, bFailures)
		if err != nil {
			return err
		}
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
		return deleteIn(rb, bFailures, key)
	})
}

func (s *Store) ListLoginFailures(_ context.Context, realmID, prefix string) ([]store.LoginFailure, error) {
	var out []store.LoginFailure
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		b := rb.Bucket(bFailures)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		p := []byte(prefix)
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			var f store.LoginFailure
			if err := getRow(b, string(k), &f); err != nil {
				return err
			}
			out = append(out, f)
		}
		return nil
	})
	return out, err
}
