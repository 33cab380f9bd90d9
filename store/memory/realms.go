package memory

import (
	"context"

	"github.com/gatehouse/gatehouse/store"
)

func (s *Store) CreateRealm(ctx context.Context, r store.Realm) error {
	return s.CreateRealmWith(ctx, r, store.RealmContents{})
}

// CreateRealmWith checks every record against the new realm's indexes
// before storing any, so a failure leaves nothing behind.
func (s *Store) CreateRealmWith(ctx context.Context, r store.Realm, init store.RealmContents) error {
	return s.global(ctx, func() error { return s.createRealm(r, init) })
}

func (s *Store) createRealm(r store.Realm, init store.RealmContents) error {
	if _, ok := s.byName[r.Name]; ok {
		return &store.ConflictError{Kind: "realm", Field: "name", Value: r.Name}
	}
	if _, ok := s.byFold[lower(r.Name)]; ok {
		return &store.ConflictError{Kind: "realm", Field: "name", Value: r.Name}
	}
	if s.realms[r.ID] != nil {
		// Reusing an ID would hand the new realm the old one's data.
		return &store.ConflictError{Kind: "realm", Field: "id", Value: r.ID}
	}
	rm := newRealm(r)
	// rm is private until it is linked below, so filling it in place and
	// dropping it on error is all-or-nothing.
	for _, k := range init.Keys {
		if err := rm.createKey(k); err != nil {
			return err
		}
	}
	for _, role := range init.Roles {
		if err := rm.createRole(role); err != nil {
			return err
		}
	}
	for _, cs := range init.ClientScopes {
		if err := rm.createClientScope(cs); err != nil {
			return err
		}
	}
	for _, c := range init.Clients {
		if err := rm.createClient(c); err != nil {
			return err
		}
	}
	for _, u := range init.Users {
		if err := rm.createUser(u); err != nil {
			return err
		}
	}
	s.realms[r.ID] = rm
	s.byName[r.Name] = r.ID
	s.byFold[lower(r.Name)] = r.ID
	return nil
}

func (s *Store) GetRealm(_ context.Context, name string) (store.Realm, error) {
	var out store.Realm
	err := s.globalRead(func() error {
		id, ok := s.byName[name]
		if !ok {
			return store.ErrNotFound
		}
		out = clone(*s.realms[id].rec)
		return nil
	})
	return out, err
}

func (s *Store) GetRealmByID(_ context.Context, id string) (store.Realm, error) {
	return get(s, id, func(r *realm) (*store.Realm, error) { return r.rec, nil })
}

func (s *Store) ListRealms(context.Context) ([]store.Realm, error) {
	var out []store.Realm
	err := s.globalRead(func() error {
		recs := make(map[string]*store.Realm, len(s.realms))
		for id, r := range s.realms {
			recs[id] = r.rec
		}
		out = list(recs, nil, func(a, b *store.Realm) bool { return a.Name < b.Name })
		return nil
	})
	return out, err
}

func (s *Store) UpdateRealm(ctx context.Context, id string, fn func(*store.Realm) error) (store.Realm, error) {
	return s.UpdateRealmRotatingKey(ctx, id, func(r *store.Realm) (*store.SigningKey, error) { return nil, fn(r) })
}

func (s *Store) UpdateRealmRotatingKey(ctx context.Context, id string, fn func(*store.Realm) (*store.SigningKey, error)) (store.Realm, error) {
	var key *store.SigningKey
	return modify(s, ctx, id, func(r *realm) (*store.Realm, error) { return r.rec, nil },
		func(r *store.Realm) error {
			var err error
			key, err = fn(r)
			return err
		},
		func(r *realm, old, updated *store.Realm) error {
			if key != nil {
				if err := r.checkRotation(*key); err != nil {
					return err
				}
			}
			if err := s.saveRealm(r, old, updated); err != nil {
				return err
			}
			if key != nil {
				r.rotateKey(*key)
			}
			return nil
		})
}

// saveRealm stores an updated realm record, moving its name in the
// indexes; the caller holds the write lock.
func (s *Store) saveRealm(r *realm, old, updated *store.Realm) error {
	updated.ID = old.ID
	updated.Version = old.Version + 1
	if updated.Name != old.Name {
		if _, ok := s.byName[updated.Name]; ok {
			return &store.ConflictError{Kind: "realm", Field: "name", Value: updated.Name}
		}
		// Changing the case of its own name is no conflict.
		if holder, ok := s.byFold[lower(updated.Name)]; ok && holder != old.ID {
			return &store.ConflictError{Kind: "realm", Field: "name", Value: updated.Name}
		}
		delete(s.byName, old.Name)
		dropIf(s.byFold, lower(old.Name), old.ID)
		s.byName[updated.Name] = old.ID
		s.byFold[lower(updated.Name)] = old.ID
	}
	r.rec = updated
	return nil
}

func (s *Store) DeleteRealm(ctx context.Context, id string) error {
	return s.write(ctx, id, func(r *realm) error {
		delete(s.realms, id)
		delete(s.byName, r.rec.Name)
		dropIf(s.byFold, lower(r.rec.Name), id)
		return nil
	})
}
