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

func (s *Store) ListLoginFailures(_ context.Context, realmID, prefix string) ([]store.LoginFailure, error) {
	var out []store.LoginFailure
	err := s.viewRealm(realmID, func(_ *bbolt.Tx, rb *bbolt.Bucket) error {
		return eachFailure(rb, prefix, func(_ string, f store.LoginFailure) { out = append(out, f) })
	})
	return out, err
}

func (s *Store) PruneLoginFailures(ctx context.Context, realmID, prefix string, stale func(store.LoginFailure) bool) (int, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	// Find candidates in a read transaction: most realms have none, and a
	// write would cost each of them a commit.
	var keys []string
	err := s.viewRealm(realmID, func(_ *bbolt.Tx, rb *bbolt.Bucket) error {
		return eachFailure(rb, prefix, func(k string, f store.LoginFailure) {
			if stale(f) {
				keys = append(keys, k)
			}
		})
	})
	if err != nil || len(keys) == 0 {
		return 0, err
	}
	n := 0
	err = s.updateRealm(realmID, func(_ *bbolt.Tx, rb *bbolt.Bucket) error {
		n = 0
		b := sub(rb, bFailures)
		for _, k := range keys {
			var f store.LoginFailure
			if b.Get([]byte(k)) == nil {
				continue
			}
			if err := getRow(b, k, &f); err != nil {
				return err
			}
			if !stale(f) {
				continue // failed again since the scan
			}
			if err := b.Delete([]byte(k)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// eachFailure calls fn for every login-failure record under prefix.
func eachFailure(rb *bbolt.Bucket, prefix string, fn func(string, store.LoginFailure)) error {
	b := sub(rb, bFailures)
	c := b.Cursor()
	p := []byte(prefix)
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		var f store.LoginFailure
		if err := getRow(b, string(k), &f); err != nil {
			return err
		}
		fn(string(k), f)
	}
	return nil
}
