package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/store"
)

// User-held credentials: personal API keys and access keys, each in its own
// realm sub-bucket (created on first write) with an index by user ID, and
// the single-use nonces of signed requests.
var (
	bAPIKeys          = []byte("api_keys")
	bAPIKeysByUser    = []byte("api_keys_by_user")
	bAccessKeys       = []byte("access_keys")
	bAccessKeysByUser = []byte("access_keys_by_user")
	bNonces           = []byte("nonces")
)

const kindNonce = 'n'

// credBuckets names a credential kind's buckets.
type credBuckets struct {
	rows, byUser []byte
	kind         string // for conflicts
}

var (
	apiKeyBuckets    = credBuckets{bAPIKeys, bAPIKeysByUser, "api-key"}
	accessKeyBuckets = credBuckets{bAccessKeys, bAccessKeysByUser, "access-key"}
)

func putCredTx(rb *bbolt.Bucket, cb credBuckets, id, userID string, v any) error {
	b, ib := sub(rb, cb.rows), sub(rb, cb.byUser)
	if err := ib.Put(idx(userID, id), nil); err != nil {
		return err
	}
	return putRow(b, id, v)
}

func createCred(s *Store, ctx context.Context, realmID string, cb credBuckets, id, userID string, v any) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.batchRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		if sub(rb, cb.rows).Get([]byte(id)) != nil {
			return &store.ConflictError{Kind: cb.kind, Field: "id", Value: id}
		}
		return putCredTx(rb, cb, id, userID, v)
	})
}

// deleteCredTx removes row id and its index entry; owner reads the row's
// user ID.
func deleteCredTx[T any](rb *bbolt.Bucket, cb credBuckets, id string, owner func(T) string) error {
	b := sub(rb, cb.rows)
	var v T
	if err := getRow(b, id, &v); err != nil {
		return err
	}
	if err := sub(rb, cb.byUser).Delete(idx(owner(v), id)); err != nil {
		return err
	}
	return b.Delete([]byte(id))
}

// listCred lists the rows of a user through the index (the row's own owner
// is checked too), or all rows when userID is "", ordered by created.
func listCred[T any](rb *bbolt.Bucket, cb credBuckets, userID string, owner func(T) string, created func(T) time.Time) ([]T, error) {
	b := sub(rb, cb.rows)
	var out []T
	if userID == "" {
		err := b.ForEach(func(k, raw []byte) error {
			var v T
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("corrupt %s %q: %w", cb.kind, k, err)
			}
			out = append(out, v)
			return nil
		})
		if err != nil {
			return nil, err
		}
	} else {
		ib := sub(rb, cb.byUser)
		for _, k := range prefixKeys(ib, idx(userID, "")) {
			var v T
			if err := getRow(b, string(k[len(userID)+1:]), &v); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				return nil, err
			}
			if owner(v) == userID {
				out = append(out, v)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return created(out[i]).Before(created(out[j])) })
	return out, nil
}

// deleteUserCredsTx removes every credential of a user (DeleteUser).
func deleteUserCredsTx(rb *bbolt.Bucket, userID string) error {
	for _, cb := range []credBuckets{apiKeyBuckets, accessKeyBuckets} {
		ib, b := sub(rb, cb.byUser), sub(rb, cb.rows)
		for _, k := range prefixKeys(ib, idx(userID, "")) {
			if err := b.Delete(k[len(userID)+1:]); err != nil {
				return err
			}
			if err := ib.Delete(k); err != nil {
				return err
			}
		}
	}
	return nil
}

func apiKeyOwner(k store.APIKey) string            { return k.UserID }
func apiKeyCreated(k store.APIKey) time.Time       { return k.CreatedAt }
func accessKeyOwner(k store.AccessKey) string      { return k.UserID }
func accessKeyCreated(k store.AccessKey) time.Time { return k.CreatedAt }

// --- personal API keys

func (s *Store) CreateAPIKey(ctx context.Context, realmID string, k store.APIKey) error {
	return createCred(s, ctx, realmID, apiKeyBuckets, k.ID, k.UserID, k)
}

func (s *Store) GetAPIKey(_ context.Context, realmID, id string) (store.APIKey, error) {
	var k store.APIKey
	err := s.viewRealm(realmID, func(_ *bbolt.Tx, rb *bbolt.Bucket) error { return getRow(sub(rb, bAPIKeys), id, &k) })
	return k, err
}

func (s *Store) ListAPIKeys(_ context.Context, realmID, userID string) ([]store.APIKey, error) {
	var out []store.APIKey
	err := s.viewRealm(realmID, func(_ *bbolt.Tx, rb *bbolt.Bucket) error {
		var err error
		out, err = listCred(rb, apiKeyBuckets, userID, apiKeyOwner, apiKeyCreated)
		return err
	})
	return out, err
}

func (s *Store) DeleteAPIKey(ctx context.Context, realmID, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.batchRealm(realmID, func(_ *bbolt.Tx, rb *bbolt.Bucket) error {
		return deleteCredTx(rb, apiKeyBuckets, id, apiKeyOwner)
	})
}

// --- access keys

func (s *Store) CreateAccessKey(ctx context.Context, realmID string, k store.AccessKey) error {
	return createCred(s, ctx, realmID, accessKeyBuckets, k.ID, k.UserID, k)
}

func (s *Store) GetAccessKey(_ context.Context, realmID, id string) (store.AccessKey, error) {
	var k store.AccessKey
	err := s.viewRealm(realmID, func(_ *bbolt.Tx, rb *bbolt.Bucket) error { return getRow(sub(rb, bAccessKeys), id, &k) })
	return k, err
}

func (s *Store) ListAccessKeys(_ context.Context, realmID, userID string) ([]store.AccessKey, error) {
	var out []store.AccessKey
	err := s.viewRealm(realmID, func(_ *bbolt.Tx, rb *bbolt.Bucket) error {
		var err error
		out, err = listCred(rb, accessKeyBuckets, userID, accessKeyOwner, accessKeyCreated)
		return err
	})
	return out, err
}

func (s *Store) UpdateAccessKey(ctx context.Context, realmID, id string, fn func(*store.AccessKey) error) (store.AccessKey, error) {
	if err := ctxErr(ctx); err != nil {
		return store.AccessKey{}, err
	}
	var out store.AccessKey
	err := s.batchRealm(realmID, func(_ *bbolt.Tx, rb *bbolt.Bucket) error {
		var k store.AccessKey
		if err := getRow(sub(rb, bAccessKeys), id, &k); err != nil {
			return err
		}
		owner := k.UserID
		if err := fn(&k); err != nil {
			return err
		}
		// The owner and ID are fixed: an update cannot move a key to
		// another user (the index is by owner).
		k.ID, k.UserID = id, owner
		out = k
		return putRow(sub(rb, bAccessKeys), id, k)
	})
	return out, err
}

func (s *Store) DeleteAccessKey(ctx context.Context, realmID, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.batchRealm(realmID, func(_ *bbolt.Tx, rb *bbolt.Bucket) error {
		return deleteCredTx(rb, accessKeyBuckets, id, accessKeyOwner)
	})
}

// --- single-use nonces

func (s *Store) ClaimNonce(ctx context.Context, realmID, nonce string, exp, now time.Time) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.batchRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		b := sub(rb, bNonces)
		if prev := b.Get([]byte(nonce)); len(prev) == 8 {
			prevExp := time.Unix(0, int64(binary.BigEndian.Uint64(prev)))
			if prevExp.After(now) {
				return &store.ConflictError{Kind: "nonce", Field: "value", Value: nonce}
			}
			if err := tx.Bucket(bExp).Delete(expKey(prevExp, realmID, kindNonce, nonce)); err != nil {
				return err
			}
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], uint64(exp.UnixNano()))
		if err := b.Put([]byte(nonce), v[:]); err != nil {
			return err
		}
		return tx.Bucket(bExp).Put(expKey(exp, realmID, kindNonce, nonce), nil)
	})
}

// deleteNonceTx is DeleteExpired's removal of an expired nonce.
func deleteNonceTx(rb *bbolt.Bucket, nonce string) error {
	return sub(rb, bNonces).Delete([]byte(nonce))
}
