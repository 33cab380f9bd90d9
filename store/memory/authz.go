package memory

import (
	"context"

	"github.com/gatehouse/gatehouse/store"
)

// Authorization services: resources, scopes and policies by ID, with name
// indexes per resource server and the resources' access-key hashes.
// Children and owners are found by scanning (a test backend).

// azNamed is a simple authz kind (scopes, policies): rows and a name index
// by (server ID, name).
type azNamed[T any] struct {
	kind   string
	rows   func(r *realm) map[string]*T
	byName func(r *realm) map[[2]string]string
	key    func(*T) [2]string
	setID  func(*T, string)
	id     func(*T) string
}

var (
	scopeKind = azNamed[store.AuthzScope]{kind: "scope",
		rows:   func(r *realm) map[string]*store.AuthzScope { return r.azScopes },
		byName: func(r *realm) map[[2]string]string { return r.azScopesByName },
		key:    func(x *store.AuthzScope) [2]string { return [2]string{x.ServerID, x.Name} },
		setID:  func(x *store.AuthzScope, id string) { x.ID = id }, id: func(x *store.AuthzScope) string { return x.ID }}
	policyKind = azNamed[store.AuthzPolicy]{kind: "policy",
		rows:   func(r *realm) map[string]*store.AuthzPolicy { return r.azPolicies },
		byName: func(r *realm) map[[2]string]string { return r.azPoliciesByName },
		key:    func(x *store.AuthzPolicy) [2]string { return [2]string{x.ServerID, x.Name} },
		setID:  func(x *store.AuthzPolicy, id string) { x.ID = id }, id: func(x *store.AuthzPolicy) string { return x.ID }}
)

func azCreate[T any](s *Store, ctx context.Context, realmID string, k azNamed[T], x T) error {
	return s.write(ctx, realmID, func(r *realm) error {
		if err := r.checkServer(k.key(&x)[0]); err != nil {
			return err
		}
		if _, ok := k.byName(r)[k.key(&x)]; ok {
			return &store.ConflictError{Kind: k.kind, Field: "name", Value: k.key(&x)[1]}
		}
		if k.rows(r)[k.id(&x)] != nil {
			return &store.ConflictError{Kind: k.kind, Field: "id", Value: k.id(&x)}
		}
		k.byName(r)[k.key(&x)] = k.id(&x)
		k.rows(r)[k.id(&x)] = ptr(x)
		return nil
	})
}

func azGet[T any](s *Store, realmID string, k azNamed[T], id string) (T, error) {
	return get(s, realmID, func(r *realm) (*T, error) { return lookup(k.rows(r), id) })
}

func azList[T any](s *Store, realmID string, k azNamed[T], serverID string) ([]T, error) {
	var out []T
	err := s.read(realmID, func(r *realm) error {
		out = list(k.rows(r), func(x *T) bool { return k.key(x)[0] == serverID },
			func(a, b *T) bool { return k.key(a)[1] < k.key(b)[1] })
		return nil
	})
	return out, err
}

func azUpdate[T any](s *Store, ctx context.Context, realmID string, k azNamed[T], id string, fn func(*T) error) (T, error) {
	return modify(s, ctx, realmID, func(r *realm) (*T, error) { return lookup(k.rows(r), id) }, fn,
		func(r *realm, old, x *T) error {
			k.setID(x, id)
			if k.key(x)[0] != k.key(old)[0] {
				return store.ErrNotFound // records never change server
			}
			if k.key(x) != k.key(old) {
				if _, ok := k.byName(r)[k.key(x)]; ok {
					return &store.ConflictError{Kind: k.kind, Field: "name", Value: k.key(x)[1]}
				}
				delete(k.byName(r), k.key(old))
				k.byName(r)[k.key(x)] = id
			}
			k.rows(r)[id] = x
			return nil
		})
}

func azDelete[T any](s *Store, ctx context.Context, realmID string, k azNamed[T], id string) error {
	return s.write(ctx, realmID, func(r *realm) error {
		x, err := lookup(k.rows(r), id)
		if err != nil {
			return err
		}
		delete(k.byName(r), k.key(x))
		delete(k.rows(r), id)
		return nil
	})
}

func (s *Store) CreateAuthzScope(ctx context.Context, realmID string, sc store.AuthzScope) error {
	return azCreate(s, ctx, realmID, scopeKind, sc)
}

func (s *Store) GetAuthzScope(_ context.Context, realmID, id string) (store.AuthzScope, error) {
	return azGet(s, realmID, scopeKind, id)
}

func (s *Store) ListAuthzScopes(_ context.Context, realmID, serverID string) ([]store.AuthzScope, error) {
	return azList(s, realmID, scopeKind, serverID)
}

func (s *Store) UpdateAuthzScope(ctx context.Context, realmID, id string, fn func(*store.AuthzScope) error) (store.AuthzScope, error) {
	return azUpdate(s, ctx, realmID, scopeKind, id, fn)
}

func (s *Store) DeleteAuthzScope(ctx context.Context, realmID, id string) error {
	return azDelete(s, ctx, realmID, scopeKind, id)
}

func (s *Store) CreateAuthzPolicy(ctx context.Context, realmID string, p store.AuthzPolicy) error {
	return azCreate(s, ctx, realmID, policyKind, p)
}

func (s *Store) GetAuthzPolicy(_ context.Context, realmID, id string) (store.AuthzPolicy, error) {
	return azGet(s, realmID, policyKind, id)
}

func (s *Store) ListAuthzPolicies(_ context.Context, realmID, serverID string) ([]store.AuthzPolicy, error) {
	return azList(s, realmID, policyKind, serverID)
}

func (s *Store) UpdateAuthzPolicy(ctx context.Context, realmID, id string, fn func(*store.AuthzPolicy) error) (store.AuthzPolicy, error) {
	return azUpdate(s, ctx, realmID, policyKind, id, fn)
}

func (s *Store) DeleteAuthzPolicy(ctx context.Context, realmID, id string) error {
	return azDelete(s, ctx, realmID, policyKind, id)
}

// checkServer refuses a record of a resource server that is not a client
// of the realm (never created, or deleted meanwhile): DeleteClient would
// never remove it.
func (r *realm) checkServer(serverID string) error {
	if r.clients[serverID] == nil {
		return store.ErrNotFound
	}
	return nil
}

// Resources.

// checkResource checks x's unique keys and parent against the realm's
// other resources (old is its previous value on update, nil on create).
func (r *realm) checkResource(x, old *store.AuthzResource) error {
	if id, ok := r.azResByName[[2]string{x.ServerID, x.Name}]; ok && id != x.ID {
		return &store.ConflictError{Kind: "resource", Field: "name", Value: x.Name}
	}
	if h := x.AccessKeyHash(); h != "" {
		if id, ok := r.azResByKey[h]; ok && id != x.ID {
			return &store.ConflictError{Kind: "resource", Field: "accessKey", Value: "(hash)"}
		}
	}
	return x.CheckParent(old, func(id string) (store.AuthzResource, error) {
		p, err := lookup(r.azResources, id)
		if err != nil {
			return store.AuthzResource{}, err
		}
		return *p, nil
	})
}

func (r *realm) indexResource(x *store.AuthzResource) {
	r.azResByName[[2]string{x.ServerID, x.Name}] = x.ID
	if h := x.AccessKeyHash(); h != "" {
		r.azResByKey[h] = x.ID
	}
}

func (r *realm) unindexResource(x *store.AuthzResource) {
	delete(r.azResByName, [2]string{x.ServerID, x.Name})
	if h := x.AccessKeyHash(); h != "" {
		delete(r.azResByKey, h)
	}
}

func (s *Store) CreateAuthzResource(ctx context.Context, realmID string, x store.AuthzResource) error {
	return s.write(ctx, realmID, func(r *realm) error {
		if err := r.checkServer(x.ServerID); err != nil {
			return err
		}
		if r.azResources[x.ID] != nil {
			return &store.ConflictError{Kind: "resource", Field: "id", Value: x.ID}
		}
		if err := r.checkResource(&x, nil); err != nil {
			return err
		}
		stored := ptr(x)
		r.azResources[x.ID] = stored
		r.indexResource(stored)
		return nil
	})
}

func (s *Store) GetAuthzResource(_ context.Context, realmID, id string) (store.AuthzResource, error) {
	return get(s, realmID, func(r *realm) (*store.AuthzResource, error) { return lookup(r.azResources, id) })
}

func (s *Store) GetAuthzResourceByName(_ context.Context, realmID, serverID, name string) (store.AuthzResource, error) {
	return get(s, realmID, func(r *realm) (*store.AuthzResource, error) {
		return byIndex(r.azResByName, r.azResources, [2]string{serverID, name})
	})
}

func (s *Store) GetAuthzResourceByAccessKey(_ context.Context, realmID, hash string) (store.AuthzResource, error) {
	return get(s, realmID, func(r *realm) (*store.AuthzResource, error) {
		if hash == "" {
			return nil, store.ErrNotFound
		}
		return byIndex(r.azResByKey, r.azResources, hash)
	})
}

func (s *Store) ListAuthzResources(_ context.Context, realmID, serverID string, q store.AuthzResourceQuery) ([]store.AuthzResource, error) {
	var out []store.AuthzResource
	err := s.read(realmID, func(r *realm) error {
		out = list(r.azResources, func(x *store.AuthzResource) bool {
			return x.ServerID == serverID && (q.OwnerID == "" || x.OwnerID == q.OwnerID) && (q.ParentID == "" || x.ParentID == q.ParentID)
		}, func(a, b *store.AuthzResource) bool { return a.Name < b.Name })
		return nil
	})
	return out, err
}

func (s *Store) UpdateAuthzResource(ctx context.Context, realmID, id string, fn func(*store.AuthzResource) error) (store.AuthzResource, error) {
	return modify(s, ctx, realmID, func(r *realm) (*store.AuthzResource, error) { return lookup(r.azResources, id) }, fn,
		func(r *realm, old, x *store.AuthzResource) error {
			x.ID = id
			if x.ServerID != old.ServerID {
				return store.ErrNotFound // resources never change server
			}
			if err := r.checkResource(x, old); err != nil {
				return err
			}
			r.unindexResource(old)
			r.azResources[id] = x
			r.indexResource(x)
			return nil
		})
}

func (s *Store) DeleteAuthzResource(ctx context.Context, realmID, id string) error {
	return s.write(ctx, realmID, func(r *realm) error {
		x, err := lookup(r.azResources, id)
		if err != nil {
			return err
		}
		for _, c := range r.azResources {
			if c.ParentID == id {
				return store.ErrHasChildren
			}
		}
		r.unindexResource(x)
		delete(r.azResources, id)
		return nil
	})
}

// deleteServerAuthz removes every authz record of resource server
// serverID (its client is being deleted).
func (r *realm) deleteServerAuthz(serverID string) {
	for id, x := range r.azResources {
		if x.ServerID == serverID {
			r.unindexResource(x)
			delete(r.azResources, id)
		}
	}
	for id, x := range r.azScopes {
		if x.ServerID == serverID {
			delete(r.azScopesByName, scopeKind.key(x))
			delete(r.azScopes, id)
		}
	}
	for id, x := range r.azPolicies {
		if x.ServerID == serverID {
			delete(r.azPoliciesByName, policyKind.key(x))
			delete(r.azPolicies, id)
		}
	}
}
