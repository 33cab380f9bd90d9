package bolt

import (
	"context"

	bbolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/store"
)

// Client scopes live in two sub-buckets made with the realm.
var (
	bScopes       = []byte("client_scopes")
	bScopesByName = []byte("client_scopes_by_name")
)

// scopeBuckets returns the realm's client-scope buckets.
func scopeBuckets(rb *bbolt.Bucket) (rows, byName *bbolt.Bucket) {
	return sub(rb, bScopes), sub(rb, bScopesByName)
}

func (s *Store) CreateClientScope(ctx context.Context, realmID string, cs store.ClientScope) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.updateRealm(realmID, func(_ *bbolt.Tx, rb *bbolt.Bucket) error { return createClientScopeTx(rb, cs) })
}

func createClientScopeTx(rb *bbolt.Bucket, cs store.ClientScope) error {
	rows, byName := scopeBuckets(rb)
	if byName.Get([]byte(cs.Name)) != nil {
		return &store.ConflictError{Kind: "clientScope", Field: "name", Value: cs.Name}
	}
	if rows.Get([]byte(cs.ID)) != nil {
		return &store.ConflictError{Kind: "clientScope", Field: "id", Value: cs.ID}
	}
	if err := byName.Put([]byte(cs.Name), []byte(cs.ID)); err != nil {
		return err
	}
	return putRow(rows, cs.ID, cs)
}

func (s *Store) GetClientScope(_ context.Context, realmID, id string) (store.ClientScope, error) {
	var cs store.ClientScope
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		rows, _ := scopeBuckets(rb)
		return getRow(rows, id, &cs)
	})
	return cs, err
}

func (s *Store) ListClientScopes(_ context.Context, realmID string) ([]store.ClientScope, error) {
	var out []store.ClientScope
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		rows, byName := scopeBuckets(rb)
		return byName.ForEach(func(_, id []byte) error {
			var cs store.ClientScope
			if err := getRow(rows, string(id), &cs); err != nil {
				return err
			}
			out = append(out, cs)
			return nil
		})
	})
	return out, err
}

func (s *Store) UpdateClientScope(ctx context.Context, realmID, id string, fn func(*store.ClientScope) error) (store.ClientScope, error) {
	if err := ctxErr(ctx); err != nil {
		return store.ClientScope{}, err
	}
	var out store.ClientScope
	err := s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		rows, byName := scopeBuckets(rb)
		var cs store.ClientScope
		if err := getRow(rows, id, &cs); err != nil {
			return err
		}
		old := cs.Name
		if err := fn(&cs); err != nil {
			return err
		}
		cs.ID = id
		if cs.Name != old {
			if byName.Get([]byte(cs.Name)) != nil {
				return &store.ConflictError{Kind: "clientScope", Field: "name", Value: cs.Name}
			}
			if err := byName.Delete([]byte(old)); err != nil {
				return err
			}
			if err := byName.Put([]byte(cs.Name), []byte(id)); err != nil {
				return err
			}
		}
		out = cs
		return putRow(rows, id, cs)
	})
	return out, err
}

func (s *Store) DeleteClientScope(ctx context.Context, realmID, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		rows, byName := scopeBuckets(rb)
		var cs store.ClientScope
		if err := getRow(rows, id, &cs); err != nil {
			return err
		}
		if err := byName.Delete([]byte(cs.Name)); err != nil {
			return err
		}
		// Clients and realms that still name the scope ignore it from
		// then on; the ID is a UUID and is never reused.
		return rows.Delete([]byte(id))
	})
}
