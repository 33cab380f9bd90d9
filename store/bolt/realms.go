package bolt

import (
	"context"
	"errors"
	"sort"
	"strings"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/gatehouse/gatehouse/store"
)

// foldName is the key of a realm name in the case-insensitive index.
func foldName(name string) []byte { return []byte(strings.ToLower(name)) }

// releaseFoldName drops name from the case-insensitive index if it is held
// by realm id.
func releaseFoldName(tx *bbolt.Tx, name, id string) error {
	fold := tx.Bucket(bRealmsByFold)
	if string(fold.Get(foldName(name))) != id {
		return nil
	}
	return fold.Delete(foldName(name))
}

func (s *Store) CreateRealm(ctx context.Context, r store.Realm) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.update(func(tx *bbolt.Tx) error {
		_, err := createRealmTx(tx, r)
		return err
	})
}

// CreateRealmWith creates the realm and its initial records in one
// transaction: a failure leaves nothing behind.
func (s *Store) CreateRealmWith(ctx context.Context, r store.Realm, init store.RealmContents) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.update(func(tx *bbolt.Tx) error {
		rb, err := createRealmTx(tx, r)
		if err != nil {
			return err
		}
		for _, k := range init.Keys {
			if err := createKeyTx(rb, k); err != nil {
				return err
			}
		}
		for _, role := range init.Roles {
			if err := createRoleTx(rb, role); err != nil {
				return err
			}
		}
		for _, cs := range init.ClientScopes {
			if err := createClientScopeTx(rb, cs); err != nil {
				return err
			}
		}
		for _, c := range init.Clients {
			if err := createClientTx(rb, c); err != nil {
				return err
			}
		}
		for _, u := range init.Users {
			if err := createUserTx(rb, u); err != nil {
				return err
			}
		}
		return nil
	})
}

func createRealmTx(tx *bbolt.Tx, r store.Realm) (*bbolt.Bucket, error) {
	byName, fold := tx.Bucket(bRealmsByName), tx.Bucket(bRealmsByFold)
	if byName.Get([]byte(r.Name)) != nil || fold.Get(foldName(r.Name)) != nil {
		return nil, &store.ConflictError{Kind: "realm", Field: "name", Value: r.Name}
	}
	rb, err := tx.CreateBucket([]byte("realm/" + r.ID))
	if errors.Is(err, bolterrors.ErrBucketExists) || tx.Bucket(bRealms).Get([]byte(r.ID)) != nil {
		// Reusing an ID would hand the new realm the old one's data.
		return nil, &store.ConflictError{Kind: "realm", Field: "id", Value: r.ID}
	}
	if err != nil {
		return nil, err
	}
	for _, name := range realmSubBucket {
		if _, err := rb.CreateBucket(name); err != nil {
			return nil, err
		}
	}
	if err := byName.Put([]byte(r.Name), []byte(r.ID)); err != nil {
		return nil, err
	}
	if err := fold.Put(foldName(r.Name), []byte(r.ID)); err != nil {
		return nil, err
	}
	return rb, putRow(tx.Bucket(bRealms), r.ID, r)
}

func (s *Store) GetRealm(_ context.Context, name string) (store.Realm, error) {
	var r store.Realm
	err := s.db.View(func(tx *bbolt.Tx) error {
		id := tx.Bucket(bRealmsByName).Get([]byte(name))
		if id == nil {
			return store.ErrNotFound
		}
		return getRow(tx.Bucket(bRealms), string(id), &r)
	})
	return r, err
}

func (s *Store) GetRealmByID(_ context.Context, id string) (store.Realm, error) {
	var r store.Realm
	err := s.db.View(func(tx *bbolt.Tx) error { return getRow(tx.Bucket(bRealms), id, &r) })
	return r, err
}

func (s *Store) ListRealms(context.Context) ([]store.Realm, error) {
	var out []store.Realm
	err := s.db.View(func(tx *bbolt.Tx) error {
		realms := tx.Bucket(bRealms)
		return tx.Bucket(bRealmsByName).ForEach(func(_, id []byte) error {
			var r store.Realm
			if err := getRow(realms, string(id), &r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

func (s *Store) UpdateRealm(ctx context.Context, id string, fn func(*store.Realm) error) (store.Realm, error) {
	return s.UpdateRealmRotatingKey(ctx, id, func(r *store.Realm) (*store.SigningKey, error) { return nil, fn(r) })
}

// UpdateRealmRotatingKey updates the realm and, when fn returns a key,
// rotates to it in the same transaction.
func (s *Store) UpdateRealmRotatingKey(ctx context.Context, id string, fn func(*store.Realm) (*store.SigningKey, error)) (store.Realm, error) {
	if err := ctxErr(ctx); err != nil {
		return store.Realm{}, err
	}
	var out store.Realm
	err := s.update(func(tx *bbolt.Tx) error {
		realms := tx.Bucket(bRealms)
		var r store.Realm
		if err := getRow(realms, id, &r); err != nil {
			return err
		}
		oldName := r.Name
		key, err := fn(&r)
		if err != nil {
			return err
		}
		r.ID = id
		r.Version++
		if r.Name != oldName {
			byName, fold := tx.Bucket(bRealmsByName), tx.Bucket(bRealmsByFold)
			if byName.Get([]byte(r.Name)) != nil {
				return &store.ConflictError{Kind: "realm", Field: "name", Value: r.Name}
			}
			// Changing the case of its own name is no conflict.
			if holder := fold.Get(foldName(r.Name)); holder != nil && string(holder) != id {
				return &store.ConflictError{Kind: "realm", Field: "name", Value: r.Name}
			}
			if err := byName.Delete([]byte(oldName)); err != nil {
				return err
			}
			if err := byName.Put([]byte(r.Name), []byte(id)); err != nil {
				return err
			}
			if err := releaseFoldName(tx, oldName, id); err != nil {
				return err
			}
			if err := fold.Put(foldName(r.Name), []byte(id)); err != nil {
				return err
			}
		}
		if key != nil {
			rb, err := realmBucket(tx, id)
			if err != nil {
				return err
			}
			if err := rotateKeyTx(rb, *key); err != nil {
				return err
			}
		}
		out = r
		return putRow(realms, id, r)
	})
	return out, err
}

func (s *Store) DeleteRealm(ctx context.Context, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.update(func(tx *bbolt.Tx) error {
		realms := tx.Bucket(bRealms)
		var r store.Realm
		if err := getRow(realms, id, &r); err != nil {
			return err
		}
		if err := tx.DeleteBucket([]byte("realm/" + id)); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
			return err
		}
		if err := tx.Bucket(bRealmsByName).Delete([]byte(r.Name)); err != nil {
			return err
		}
		if err := releaseFoldName(tx, r.Name, id); err != nil {
			return err
		}
		// Rows of this realm in the global expiry index are left for the
		// janitor, which drops entries whose realm bucket is gone; scanning
		// the whole index here would make deletion O(all tokens).
		return realms.Delete([]byte(id))
	})
}
