package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	bbolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/store"
)

func (s *Store) CreateKey(ctx context.Context, realmID string, k store.SigningKey) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error { return createKeyTx(rb, k) })
}

func createKeyTx(rb *bbolt.Bucket, k store.SigningKey) error {
	keys := sub(rb, bKeys)
	if keys.Get([]byte(k.KID)) != nil {
		return &store.ConflictError{Kind: "key", Field: "kid", Value: k.KID}
	}
	return putRow(keys, k.KID, k)
}

func (s *Store) ListKeys(_ context.Context, realmID string) ([]store.SigningKey, error) {
	var out []store.SigningKey
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		return sub(rb, bKeys).ForEach(func(k, v []byte) error {
			var key store.SigningKey
			if err := json.Unmarshal(v, &key); err != nil {
				return fmt.Errorf("corrupt row %q: %w", k, err)
			}
			out = append(out, key)
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, err
}

func (s *Store) UpdateKey(ctx context.Context, realmID, kid string, fn func(*store.SigningKey) error) (store.SigningKey, error) {
	if err := ctxErr(ctx); err != nil {
		return store.SigningKey{}, err
	}
	var out store.SigningKey
	err := s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		keys := sub(rb, bKeys)
		var k store.SigningKey
		if err := getRow(keys, kid, &k); err != nil {
			return err
		}
		if err := fn(&k); err != nil {
			return err
		}
		k.KID = kid
		out = k
		return putRow(keys, kid, k)
	})
	return out, err
}

func (s *Store) RotateKey(ctx context.Context, realmID string, k store.SigningKey) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.updateRealm(realmID, func(_ *bbolt.Tx, rb *bbolt.Bucket) error { return rotateKeyTx(rb, k) })
}

// rotateKeyTx stores k and demotes every other active key to passive.
func rotateKeyTx(rb *bbolt.Bucket, k store.SigningKey) error {
	keys := sub(rb, bKeys)
	var demote []store.SigningKey
	if err := keys.ForEach(func(kid, v []byte) error {
		var old store.SigningKey
		if err := json.Unmarshal(v, &old); err != nil {
			return fmt.Errorf("corrupt row %q: %w", kid, err)
		}
		if old.Status == store.KeyActive {
			demote = append(demote, old)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := createKeyTx(rb, k); err != nil {
		return err
	}
	for _, old := range demote {
		old.Status = store.KeyPassive
		if err := putRow(keys, old.KID, old); err != nil {
			return err
		}
	}
	return nil
}
