package memory

import (
	"context"

	"github.com/gatehouse/gatehouse/store"
)

func (s *Store) CreateClientScope(ctx context.Context, realmID string, cs store.ClientScope) error {
	return s.write(ctx, realmID, func(r *realm) error { return r.createClientScope(cs) })
}

func (r *realm) createClientScope(cs store.ClientScope) error {
	if _, ok := r.scopesByName[cs.Name]; ok {
		return &store.ConflictError{Kind: "clientScope", Field: "name", Value: cs.Name}
	}
	if r.scopes[cs.ID] != nil {
		return &store.ConflictError{Kind: "clientScope", Field: "id", Value: cs.ID}
	}
	r.scopesByName[cs.Name] = cs.ID
	r.scopes[cs.ID] = ptr(cs)
	return nil
}

func (s *Store) GetClientScope(_ context.Context, realmID, id string) (store.ClientScope, error) {
	return get(s, realmID, func(r *realm) (*store.ClientScope, error) { return lookup(r.scopes, id) })
}

func (s *Store) ListClientScopes(_ context.Context, realmID string) ([]store.ClientScope, error) {
	var out []store.ClientScope
	err := s.read(realmID, func(r *realm) error {
		out = list(r.scopes, nil, func(a, b *store.ClientScope) bool { return a.Name < b.Name })
		return nil
	})
	return out, err
}

func (s *Store) UpdateClientScope(ctx context.Context, realmID, id string, fn func(*store.ClientScope) error) (store.ClientScope, error) {
	return modify(s, ctx, realmID, func(r *realm) (*store.ClientScope, error) { return lookup(r.scopes, id) }, fn,
		func(r *realm, old, cs *store.ClientScope) error {
			cs.ID = id
			if cs.Name != old.Name {
				if _, ok := r.scopesByName[cs.Name]; ok {
					return &store.ConflictError{Kind: "clientScope", Field: "name", Value: cs.Name}
				}
				delete(r.scopesByName, old.Name)
				r.scopesByName[cs.Name] = id
			}
			r.scopes[id] = cs
			return nil
		})
}

func (s *Store) DeleteClientScope(ctx context.Context, realmID, id string) error {
	return s.write(ctx, realmID, func(r *realm) error {
		cs, err := lookup(r.scopes, id)
		if err != nil {
			return err
		}
		delete(r.scopesByName, cs.Name)
		delete(r.scopes, id)
		return nil
	})
}
