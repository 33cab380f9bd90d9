package bolt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/store"
)

var (
	bIDPs = []byte("idps")
	bKnox = []byte("knox")
	// The owner indexes are keyed by user ID, never by a name that a later
	// user could take.
	bKnoxByUser  = []byte("knox_by_uid")
	bKnoxByMaker = []byte("knox_by_creator_id")
	bTopologies  = []byte("topologies")
	bKnoxExp     = []byte("knox_exp")
	// bUsersByFed indexes federated identity links: alias\0providerUserID
	// -> user ID.
	bUsersByFed = []byte("users_by_federated")
)

// --- identity providers

func (s *Store) CreateIdentityProvider(ctx context.Context, realmID string, p store.IdentityProvider) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		b := sub(rb, bIDPs)
		if b.Get([]byte(p.Alias)) != nil {
			return &store.ConflictError{Kind: "identity-provider", Field: "alias", Value: p.Alias}
		}
		return putRow(b, p.Alias, p)
	})
}

func (s *Store) GetIdentityProvider(_ context.Context, realmID, alias string) (store.IdentityProvider, error) {
	var p store.IdentityProvider
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		return getRow(sub(rb, bIDPs), alias, &p)
	})
	return p, err
}

func (s *Store) ListIdentityProviders(_ context.Context, realmID string) ([]store.IdentityProvider, error) {
	var out []store.IdentityProvider
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		b := sub(rb, bIDPs)
		return b.ForEach(func(k, v []byte) error {
			var p store.IdentityProvider
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("corrupt identity provider %q: %w", k, err)
			}
			out = append(out, p)
			return nil
		})
	})
	return out, err
}

func (s *Store) UpdateIdentityProvider(ctx context.Context, realmID, alias string, fn func(*store.IdentityProvider) error) (store.IdentityProvider, error) {
	if err := ctxErr(ctx); err != nil {
		return store.IdentityProvider{}, err
	}
	var out store.IdentityProvider
	err := s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		b := sub(rb, bIDPs)
		var p store.IdentityProvider
		if err := getRow(b, alias, &p); err != nil {
			return err
		}
		if err := fn(&p); err != nil {
			return err
		}
		p.Alias = alias
		out = p
		return putRow(b, alias, p)
	})
	return out, err
}

func (s *Store) DeleteIdentityProvider(ctx context.Context, realmID, alias string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		if err := deleteRow(sub(rb, bIDPs), alias); err != nil {
			return err
		}
		return unlinkProvider(rb, alias)
	})
}

// unlinkProvider removes every user's federated identity link to alias.
func unlinkProvider(rb *bbolt.Bucket, alias string) error {
	byFed := sub(rb, bUsersByFed)
	if byFed == nil {
		return nil
	}
	users := sub(rb, bUsers)
	for _, k := range prefixKeys(byFed, idx(alias, "")) {
		userID := string(byFed.Get(k))
		if err := byFed.Delete(k); err != nil {
			return err
		}
		var u store.User
		if err := getRow(users, userID, &u); errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		kept := u.FederatedIdentities[:0]
		for _, f := range u.FederatedIdentities {
			if f.IdentityProvider != alias {
				kept = append(kept, f)
			}
		}
		u.FederatedIdentities = kept
		if len(kept) == 0 {
			u.FederatedIdentities = nil
		}
		if err := putRow(users, userID, u); err != nil {
			return err
		}
	}
	return nil
}

// --- topologies

func (s *Store) PutTopology(ctx context.Context, t store.Topology) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.update(func(tx *bbolt.Tx) error { return putRow(tx.Bucket(bTopologies), t.Name, t) })
}

func (s *Store) GetTopology(_ context.Context, name string) (store.Topology, error) {
	var t store.Topology
	err := s.db.View(func(tx *bbolt.Tx) error { return getRow(tx.Bucket(bTopologies), name, &t) })
	return t, err
}

func (s *Store) ListTopologies(context.Context) ([]store.Topology, error) {
	var out []store.Topology
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bTopologies).ForEach(func(k, v []byte) error {
			var t store.Topology
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("corrupt topology %q: %w", k, err)
			}
			out = append(out, t)
			return nil
		})
	})
	return out, err
}

func (s *Store) DeleteTopology(ctx context.Context, name string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bTopologies)
		if b.Get([]byte(name)) == nil {
			return store.ErrNotFound
		}
		return b.Delete([]byte(name))
	})
}

// --- managed Knox tokens

func knoxExpKey(t store.KnoxToken, realmID string) []byte {
	if t.ExpiresAt.IsZero() {
		return nil
	}
	return expKey(t.ExpiresAt, realmID, 'k', t.ID)
}

func putKnoxTx(tx *bbolt.Tx, rb *bbolt.Bucket, realmID string, t store.KnoxToken) error {
	b, byUser, byMaker := sub(rb, bKnox), sub(rb, bKnoxByUser), sub(rb, bKnoxByMaker)
	// A row without an owner ID is in no owner index: it matches no user.
	if t.UserID != "" {
		if err := byUser.Put(idx(t.UserID, t.ID), nil); err != nil {
			return err
		}
	}
	if t.CreatedByID != "" {
		if err := byMaker.Put(idx(t.CreatedByID, t.ID), nil); err != nil {
			return err
		}
	}
	if k := knoxExpKey(t, realmID); k != nil {
		if err := tx.Bucket(bKnoxExp).Put(k, nil); err != nil {
			return err
		}
	}
	return putRow(b, t.ID, t)
}

func deleteKnoxTx(tx *bbolt.Tx, rb *bbolt.Bucket, realmID, id string) error {
	b := sub(rb, bKnox)
	var t store.KnoxToken
	if err := getRow(b, id, &t); err != nil {
		return err
	}
	if err := sub(rb, bKnoxByUser).Delete(idx(t.UserID, id)); err != nil {
		return err
	}
	if err := sub(rb, bKnoxByMaker).Delete(idx(t.CreatedByID, id)); err != nil {
		return err
	}
	if k := knoxExpKey(t, realmID); k != nil {
		if err := tx.Bucket(bKnoxExp).Delete(k); err != nil {
			return err
		}
	}
	return b.Delete([]byte(id))
}

// knoxOf lists the tokens whose owner field (of) is ownerID through index.
// The row's own field is checked too, so an index entry can never hand a
// token to anyone but its owner.
func knoxOf(rb *bbolt.Bucket, index []byte, ownerID string, of func(store.KnoxToken) string) ([]store.KnoxToken, error) {
	if ownerID == "" {
		return nil, nil
	}
	ib, b := sub(rb, index), sub(rb, bKnox)
	var out []store.KnoxToken
	for _, k := range prefixKeys(ib, idx(ownerID, "")) {
		var t store.KnoxToken
		if err := getRow(b, string(k[len(ownerID)+1:]), &t); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			return nil, err
		}
		if of(t) == ownerID {
			out = append(out, t)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].IssuedAt.Before(out[j].IssuedAt) })
	return out, nil
}

func knoxUserID(t store.KnoxToken) string { return t.UserID }

func (s *Store) CreateKnoxToken(ctx context.Context, realmID string, t store.KnoxToken, limit store.KnoxTokenLimit) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.batchRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		if limit.Max > 0 {
			mine, err := knoxOf(rb, bKnoxByUser, t.UserID, knoxUserID)
			if err != nil {
				return err
			}
			var live []store.KnoxToken
			for _, m := range mine {
				if m.ExpiresAt.IsZero() || m.ExpiresAt.After(limit.Now) {
					live = append(live, m)
				}
			}
			for len(live) >= limit.Max {
				if !limit.RemoveOldest {
					return store.ErrLimitExceeded
				}
				if err := deleteKnoxTx(tx, rb, realmID, live[0].ID); err != nil {
					return err
				}
				live = live[1:]
			}
		}
		if sub(rb, bKnox).Get([]byte(t.ID)) != nil {
			return &store.ConflictError{Kind: "knox-token", Field: "id", Value: t.ID}
		}
		return putKnoxTx(tx, rb, realmID, t)
	})
}

func (s *Store) GetKnoxToken(_ context.Context, realmID, id string) (store.KnoxToken, error) {
	var t store.KnoxToken
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		return getRow(sub(rb, bKnox), id, &t)
	})
	return t, err
}

func (s *Store) UpdateKnoxToken(ctx context.Context, realmID, id string, fn func(*store.KnoxToken) error) (store.KnoxToken, error) {
	if err := ctxErr(ctx); err != nil {
		return store.KnoxToken{}, err
	}
	var out store.KnoxToken
	err := s.batchRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		b := sub(rb, bKnox)
		var t store.KnoxToken
		if err := getRow(b, id, &t); err != nil {
			return err
		}
		if err := deleteKnoxTx(tx, rb, realmID, id); err != nil {
			return err
		}
		if err := fn(&t); err != nil {
			return err
		}
		t.ID = id
		out = t
		return putKnoxTx(tx, rb, realmID, t)
	})
	return out, err
}

func (s *Store) DeleteKnoxToken(ctx context.Context, realmID, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.batchRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		return deleteKnoxTx(tx, rb, realmID, id)
	})
}

func (s *Store) ListKnoxTokens(_ context.Context, realmID string, q store.KnoxTokenQuery) ([]store.KnoxToken, error) {
	var out []store.KnoxToken
	err := s.viewRealm(realmID, func(_ *bbolt.Tx, rb *bbolt.Bucket) error {
		var err error
		switch {
		case q.UserID != "":
			out, err = knoxOf(rb, bKnoxByUser, q.UserID, knoxUserID)
			if err == nil && q.CreatedByID != "" {
				out = slices.DeleteFunc(out, func(t store.KnoxToken) bool { return t.CreatedByID != q.CreatedByID })
			}
			return err
		case q.CreatedByID != "":
			out, err = knoxOf(rb, bKnoxByMaker, q.CreatedByID, func(t store.KnoxToken) string { return t.CreatedByID })
			return err
		}
		b := sub(rb, bKnox)
		err = b.ForEach(func(k, v []byte) error {
			var t store.KnoxToken
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("corrupt knox token %q: %w", k, err)
			}
			out = append(out, t)
			return nil
		})
		sort.SliceStable(out, func(i, j int) bool { return out[i].IssuedAt.Before(out[j].IssuedAt) })
		return err
	})
	return out, err
}

func (s *Store) DeleteExpiredKnoxTokens(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	if limit <= 0 {
		limit = 1000
	}
	var keys [][]byte
	if err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bKnoxExp).Cursor()
		for k, _ := c.First(); k != nil && len(keys) < limit; k, _ = c.Next() {
			if t, _, _, _, ok := parseExpKey(k); ok && !t.Before(before) {
				break
			}
			keys = append(keys, append([]byte(nil), k...))
		}
		return nil
	}); err != nil || len(keys) == 0 {
		return 0, err
	}
	n := 0
	err := s.update(func(tx *bbolt.Tx) error {
		n = 0
		idxB := tx.Bucket(bKnoxExp)
		for _, k := range keys {
			if idxB.Get(k) == nil {
				continue
			}
			_, realmID, _, id, ok := parseExpKey(k)
			if rb, err := realmBucket(tx, realmID); ok && err == nil {
				if err := deleteKnoxTx(tx, rb, realmID, id); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
			if err := idxB.Delete(k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
