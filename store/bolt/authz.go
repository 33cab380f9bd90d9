package bolt

import (
	"bytes"
	"context"
	"slices"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/store"
)

// Authorization services buckets. Rows are by ID; the name indexes key
// idx(serverID, name) so a server's records list in name order and names
// are unique per server; resources also index their owner (by server,
// in name order), their children (idx(parentID, childID)) and their
// access-key hash.
var (
	bAzResources    = []byte("authz_resources")
	bAzResByName    = []byte("authz_resources_by_name")
	bAzResByParent  = []byte("authz_resources_by_parent")
	bAzResByKey     = []byte("authz_resources_by_key")
	bAzResByOwner   = []byte("authz_resources_by_owner") // idx(serverID, ownerID, name) -> id
	bAzScopes       = []byte("authz_scopes")
	bAzScopesByName = []byte("authz_scopes_by_name")
	bAzPolicies     = []byte("authz_policies")
	bAzPolicyByName = []byte("authz_policies_by_name")

	authzResourceCmp = "resource"
)

// hasAuthz: the realm bucket has the authz buckets. Open adds them to the
// realms of an older file, except when the file is opened read-only: its
// reads then find no authz records rather than a missing bucket.
func hasAuthz(rb *bbolt.Bucket) bool {
	return rb.Bucket(bAzPolicyByName) != nil && rb.Bucket(bAzResByOwner) != nil
}

// named is an authz record kept in a rows bucket and a name index.
type named interface {
	store.AuthzScope | store.AuthzPolicy
}

// azKind describes one of the simple authz kinds (scopes, policies).
type azKind[T named] struct {
	kind         string
	rows, byName []byte
	id, server   func(T) string
	name         func(T) string
	setID        func(*T, string)
}

var (
	scopeKind = azKind[store.AuthzScope]{kind: "scope", rows: bAzScopes, byName: bAzScopesByName,
		id: func(x store.AuthzScope) string { return x.ID }, server: func(x store.AuthzScope) string { return x.ServerID },
		name: func(x store.AuthzScope) string { return x.Name }, setID: func(x *store.AuthzScope, id string) { x.ID = id }}
	policyKind = azKind[store.AuthzPolicy]{kind: "policy", rows: bAzPolicies, byName: bAzPolicyByName,
		id: func(x store.AuthzPolicy) string { return x.ID }, server: func(x store.AuthzPolicy) string { return x.ServerID },
		name: func(x store.AuthzPolicy) string { return x.Name }, setID: func(x *store.AuthzPolicy, id string) { x.ID = id }}
)

func (k azKind[T]) nameKey(x T) []byte { return idx(k.server(x), k.name(x)) }

func azCreate[T named](s *Store, ctx context.Context, realmID string, k azKind[T], x T) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		if err := checkServer(rb, k.server(x)); err != nil {
			return err
		}
		rows, byName := sub(rb, k.rows), sub(rb, k.byName)
		if byName.Get(k.nameKey(x)) != nil {
			return &store.ConflictError{Kind: k.kind, Field: "name", Value: k.name(x)}
		}
		if rows.Get([]byte(k.id(x))) != nil {
			return &store.ConflictError{Kind: k.kind, Field: "id", Value: k.id(x)}
		}
		if err := byName.Put(k.nameKey(x), []byte(k.id(x))); err != nil {
			return err
		}
		return putRow(rows, k.id(x), x)
	})
}

func azGet[T named](s *Store, realmID string, k azKind[T], id string) (T, error) {
	var x T
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		if !hasAuthz(rb) {
			return store.ErrNotFound
		}
		return getRow(sub(rb, k.rows), id, &x)
	})
	return x, err
}

func azList[T named](s *Store, realmID string, k azKind[T], serverID string) ([]T, error) {
	out := []T{}
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		if !hasAuthz(rb) {
			return nil
		}
		rows, byName := sub(rb, k.rows), sub(rb, k.byName)
		prefix := idx(serverID, "")
		c := byName.Cursor()
		for key, id := c.Seek(prefix); key != nil && bytes.HasPrefix(key, prefix); key, id = c.Next() {
			var x T
			if err := getRow(rows, string(id), &x); err != nil {
				return err
			}
			out = append(out, x)
		}
		return nil
	})
	return out, err
}

func azUpdate[T named](s *Store, ctx context.Context, realmID string, k azKind[T], id string, fn func(*T) error) (T, error) {
	var out T
	if err := ctxErr(ctx); err != nil {
		return out, err
	}
	err := s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		rows, byName := sub(rb, k.rows), sub(rb, k.byName)
		var x T
		if err := getRow(rows, id, &x); err != nil {
			return err
		}
		old, server := k.nameKey(x), k.server(x)
		if err := fn(&x); err != nil {
			return err
		}
		k.setID(&x, id)
		if k.server(x) != server {
			return store.ErrNotFound // records never change server
		}
		if nk := k.nameKey(x); !bytes.Equal(nk, old) {
			if byName.Get(nk) != nil {
				return &store.ConflictError{Kind: k.kind, Field: "name", Value: k.name(x)}
			}
			if err := byName.Delete(old); err != nil {
				return err
			}
			if err := byName.Put(nk, []byte(id)); err != nil {
				return err
			}
		}
		out = x
		return putRow(rows, id, x)
	})
	return out, err
}

func azDelete[T named](s *Store, ctx context.Context, realmID string, k azKind[T], id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		return azDeleteTx(rb, k, id)
	})
}

func azDeleteTx[T named](rb *bbolt.Bucket, k azKind[T], id string) error {
	rows := sub(rb, k.rows)
	var x T
	if err := getRow(rows, id, &x); err != nil {
		return err
	}
	if err := sub(rb, k.byName).Delete(k.nameKey(x)); err != nil {
		return err
	}
	return rows.Delete([]byte(id))
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
func checkServer(rb *bbolt.Bucket, serverID string) error {
	if sub(rb, bClients).Get([]byte(serverID)) == nil {
		return store.ErrNotFound
	}
	return nil
}

// Resources: rows, name index, children index and access-key index.

type resBuckets struct{ rows, byName, byOwner, byParent, byKey *bbolt.Bucket }

func resourceBuckets(rb *bbolt.Bucket) resBuckets {
	return resBuckets{sub(rb, bAzResources), sub(rb, bAzResByName), sub(rb, bAzResByOwner), sub(rb, bAzResByParent), sub(rb, bAzResByKey)}
}

// index writes (or, with del, removes) r's index entries.
func (b resBuckets) index(r store.AuthzResource, del bool) error {
	type entry struct {
		b   *bbolt.Bucket
		key []byte
		val []byte
	}
	es := []entry{{b.byName, idx(r.ServerID, r.Name), []byte(r.ID)}, {b.byOwner, idx(r.ServerID, r.OwnerID, r.Name), []byte(r.ID)}}
	if r.ParentID != "" {
		es = append(es, entry{b.byParent, idx(r.ParentID, r.ID), nil})
	}
	if h := r.AccessKeyHash(); h != "" {
		es = append(es, entry{b.byKey, []byte(h), []byte(r.ID)})
	}
	for _, e := range es {
		var err error
		if del {
			err = e.b.Delete(e.key)
		} else {
			err = e.b.Put(e.key, e.val)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkResource checks r's unique keys and parent against the other
// resources (old is r's previous value on update, nil on create).
func (b resBuckets) checkResource(r store.AuthzResource, old *store.AuthzResource) error {
	if id := b.byName.Get(idx(r.ServerID, r.Name)); id != nil && string(id) != r.ID {
		return &store.ConflictError{Kind: authzResourceCmp, Field: "name", Value: r.Name}
	}
	if h := r.AccessKeyHash(); h != "" {
		if id := b.byKey.Get([]byte(h)); id != nil && string(id) != r.ID {
			return &store.ConflictError{Kind: authzResourceCmp, Field: "accessKey", Value: "(hash)"}
		}
	}
	return r.CheckParent(old, func(id string) (store.AuthzResource, error) {
		var p store.AuthzResource
		err := getRow(b.rows, id, &p)
		return p, err
	})
}

func (s *Store) CreateAuthzResource(ctx context.Context, realmID string, r store.AuthzResource) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		if err := checkServer(rb, r.ServerID); err != nil {
			return err
		}
		b := resourceBuckets(rb)
		if b.rows.Get([]byte(r.ID)) != nil {
			return &store.ConflictError{Kind: authzResourceCmp, Field: "id", Value: r.ID}
		}
		if err := b.checkResource(r, nil); err != nil {
			return err
		}
		if err := b.index(r, false); err != nil {
			return err
		}
		return putRow(b.rows, r.ID, r)
	})
}

func (s *Store) GetAuthzResource(_ context.Context, realmID, id string) (store.AuthzResource, error) {
	var r store.AuthzResource
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		if !hasAuthz(rb) {
			return store.ErrNotFound
		}
		return getRow(sub(rb, bAzResources), id, &r)
	})
	return r, err
}

func (s *Store) GetAuthzResourceByName(_ context.Context, realmID, serverID, name string) (store.AuthzResource, error) {
	return s.resourceBy(realmID, bAzResByName, idx(serverID, name))
}

func (s *Store) GetAuthzResourceByAccessKey(_ context.Context, realmID, hash string) (store.AuthzResource, error) {
	if hash == "" {
		return store.AuthzResource{}, store.ErrNotFound
	}
	return s.resourceBy(realmID, bAzResByKey, []byte(hash))
}

func (s *Store) resourceBy(realmID string, index, key []byte) (store.AuthzResource, error) {
	var r store.AuthzResource
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		if !hasAuthz(rb) {
			return store.ErrNotFound
		}
		id := sub(rb, index).Get(key)
		if id == nil {
			return store.ErrNotFound
		}
		return getRow(sub(rb, bAzResources), string(id), &r)
	})
	return r, err
}

func (s *Store) ListAuthzResources(_ context.Context, realmID, serverID string, q store.AuthzResourceQuery) ([]store.AuthzResource, error) {
	out := []store.AuthzResource{}
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		if !hasAuthz(rb) {
			return nil
		}
		b := resourceBuckets(rb)
		if q.ParentID != "" && q.OwnerID == "" {
			// A parent's children, from the children index, by name.
			for _, k := range prefixKeys(b.byParent, idx(q.ParentID, "")) {
				var r store.AuthzResource
				if err := getRow(b.rows, string(k[len(q.ParentID)+1:]), &r); err != nil {
					return err
				}
				if r.ServerID == serverID {
					out = append(out, r)
				}
			}
			slices.SortFunc(out, func(x, y store.AuthzResource) int { return strings.Compare(x.Name, y.Name) })
			return nil
		}
		// An owner's resources from the owner index, else the server's
		// from the name index: both in name order.
		index, prefix := b.byName, idx(serverID, "")
		if q.OwnerID != "" {
			index, prefix = b.byOwner, idx(serverID, q.OwnerID, "")
		}
		c := index.Cursor()
		for k, id := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, id = c.Next() {
			var r store.AuthzResource
			if err := getRow(b.rows, string(id), &r); err != nil {
				return err
			}
			if q.ParentID != "" && r.ParentID != q.ParentID {
				continue
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

func (s *Store) UpdateAuthzResource(ctx context.Context, realmID, id string, fn func(*store.AuthzResource) error) (store.AuthzResource, error) {
	var out store.AuthzResource
	if err := ctxErr(ctx); err != nil {
		return out, err
	}
	err := s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		b := resourceBuckets(rb)
		var old store.AuthzResource
		if err := getRow(b.rows, id, &old); err != nil {
			return err
		}
		r, err := store.UpdatedAuthzResource(old, fn)
		if err != nil {
			return err
		}
		if err := b.checkResource(r, &old); err != nil {
			return err
		}
		if err := b.index(old, true); err != nil {
			return err
		}
		if err := b.index(r, false); err != nil {
			return err
		}
		out = r
		return putRow(b.rows, id, r)
	})
	return out, err
}

func (s *Store) DeleteAuthzResource(ctx context.Context, realmID, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		return deleteResourceTx(resourceBuckets(rb), id, false)
	})
}

// deleteResourceTx deletes a resource; with children it refuses unless
// force (the whole server goes), when they are deleted too.
func deleteResourceTx(b resBuckets, id string, force bool) error {
	var r store.AuthzResource
	if err := getRow(b.rows, id, &r); err != nil {
		return err
	}
	if children := prefixKeys(b.byParent, idx(id, "")); len(children) > 0 {
		if !force {
			return store.ErrHasChildren
		}
		for _, k := range children {
			if err := deleteResourceTx(b, string(k[len(id)+1:]), true); err != nil && err != store.ErrNotFound {
				return err
			}
		}
	}
	if err := b.index(r, true); err != nil {
		return err
	}
	return b.rows.Delete([]byte(id))
}

// deleteServerAuthzTx removes every authz record of resource server
// serverID (its client is being deleted).
func deleteServerAuthzTx(rb *bbolt.Bucket, serverID string) error {
	b := resourceBuckets(rb)
	for _, k := range prefixKeys(b.byName, idx(serverID, "")) {
		if id := b.byName.Get(k); id != nil {
			if err := deleteResourceTx(b, string(id), true); err != nil && err != store.ErrNotFound {
				return err
			}
		}
	}
	for _, k := range prefixKeys(sub(rb, bAzScopesByName), idx(serverID, "")) {
		if err := azDeleteTx(rb, scopeKind, string(sub(rb, bAzScopesByName).Get(k))); err != nil {
			return err
		}
	}
	for _, k := range prefixKeys(sub(rb, bAzPolicyByName), idx(serverID, "")) {
		if err := azDeleteTx(rb, policyKind, string(sub(rb, bAzPolicyByName).Get(k))); err != nil {
			return err
		}
	}
	return nil
}
