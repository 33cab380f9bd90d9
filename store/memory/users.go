package memory

import (
	"context"

	"github.com/gatehouse/gatehouse/store"
)

func fedKey(f store.FederatedIdentity) [2]string { return [2]string{f.IdentityProvider, f.UserID} }

// checkUserIndexes fails with a ConflictError when one of u's unique keys
// is held by another user. It changes nothing.
func (r *realm) checkUserIndexes(u *store.User) error {
	if id, ok := r.usersByName[lower(u.Username)]; ok && id != u.ID {
		return &store.ConflictError{Kind: "user", Field: "username", Value: u.Username}
	}
	if u.Email != "" {
		if id, ok := r.usersByEmail[lower(u.Email)]; ok && id != u.ID {
			return &store.ConflictError{Kind: "user", Field: "email", Value: u.Email}
		}
	}
	seen := map[string]bool{}
	for _, f := range u.FederatedIdentities {
		if seen[f.IdentityProvider] {
			return &store.ConflictError{Kind: "user", Field: "federatedIdentity", Value: f.IdentityProvider}
		}
		seen[f.IdentityProvider] = true
		if id, ok := r.usersByFed[fedKey(f)]; ok && id != u.ID {
			return &store.ConflictError{Kind: "user", Field: "federatedIdentity", Value: f.IdentityProvider}
		}
	}
	return nil
}

func (r *realm) indexUser(u *store.User) {
	r.usersByName[lower(u.Username)] = u.ID
	if u.Email != "" {
		r.usersByEmail[lower(u.Email)] = u.ID
	}
	if u.ServiceAccountClientID != "" {
		r.usersBySA[u.ServiceAccountClientID] = u.ID
	}
	for _, f := range u.FederatedIdentities {
		r.usersByFed[fedKey(f)] = u.ID
	}
}

// unindexUser drops u's index entries (those that still point at u).
func (r *realm) unindexUser(u *store.User) {
	dropIf(r.usersByName, lower(u.Username), u.ID)
	if u.Email != "" {
		dropIf(r.usersByEmail, lower(u.Email), u.ID)
	}
	if u.ServiceAccountClientID != "" {
		dropIf(r.usersBySA, u.ServiceAccountClientID, u.ID)
	}
	for _, f := range u.FederatedIdentities {
		dropIf(r.usersByFed, fedKey(f), u.ID)
	}
}

func dropIf[K comparable](m map[K]string, key K, id string) {
	if m[key] == id {
		delete(m, key)
	}
}

func (s *Store) CreateUser(ctx context.Context, realmID string, u store.User) error {
	return s.write(ctx, realmID, func(r *realm) error { return r.createUser(u) })
}

// checkNewUser is what can make createUser fail, checked before anything
// changes.
func (r *realm) checkNewUser(u *store.User) error {
	if r.users[u.ID] != nil {
		return &store.ConflictError{Kind: "user", Field: "id", Value: u.ID}
	}
	if _, ok := r.usersByName[lower(u.Username)]; ok {
		return &store.ConflictError{Kind: "user", Field: "username", Value: u.Username}
	}
	return r.checkUserIndexes(u)
}

func (r *realm) createUser(u store.User) error {
	if err := r.checkNewUser(&u); err != nil {
		return err
	}
	stored := ptr(u)
	r.indexUser(stored)
	r.users[u.ID] = stored
	return nil
}

func (s *Store) GetUser(_ context.Context, realmID, id string) (store.User, error) {
	return get(s, realmID, func(r *realm) (*store.User, error) { return lookup(r.users, id) })
}

func (s *Store) GetUserByUsername(_ context.Context, realmID, username string) (store.User, error) {
	return get(s, realmID, func(r *realm) (*store.User, error) { return byIndex(r.usersByName, r.users, lower(username)) })
}

func (s *Store) GetUserByEmail(_ context.Context, realmID, email string) (store.User, error) {
	if email == "" {
		return store.User{}, store.ErrNotFound
	}
	return get(s, realmID, func(r *realm) (*store.User, error) { return byIndex(r.usersByEmail, r.users, lower(email)) })
}

func (s *Store) GetUserByFederatedIdentity(_ context.Context, realmID, alias, providerUserID string) (store.User, error) {
	return get(s, realmID, func(r *realm) (*store.User, error) {
		return byIndex(r.usersByFed, r.users, [2]string{alias, providerUserID})
	})
}

// matchingUsers lists the users matching q by lower-cased username.
func (r *realm) matchingUsers(q store.UserQuery) []store.User {
	return list(r.users, func(u *store.User) bool { return q.Matches(*u) },
		func(a, b *store.User) bool { return lower(a.Username) < lower(b.Username) })
}

func (s *Store) ListUsers(_ context.Context, realmID string, q store.UserQuery) ([]store.User, error) {
	var out []store.User
	err := s.read(realmID, func(r *realm) error {
		out = window(r.matchingUsers(q), q.Page)
		return nil
	})
	return out, err
}

func (s *Store) CountUsers(_ context.Context, realmID string, q store.UserQuery) (int, error) {
	n := 0
	err := s.read(realmID, func(r *realm) error {
		for _, u := range r.users {
			if q.Matches(*u) {
				n++
			}
		}
		return nil
	})
	return n, err
}

func (s *Store) UpdateUser(ctx context.Context, realmID, id string, fn func(*store.User) error) (store.User, error) {
	return modify(s, ctx, realmID, func(r *realm) (*store.User, error) { return lookup(r.users, id) }, fn,
		func(r *realm, old, u *store.User) error {
			u.ID = id
			if err := r.checkUserIndexes(u); err != nil {
				return err
			}
			r.unindexUser(old)
			r.indexUser(u)
			r.users[id] = u
			return nil
		})
}

func (s *Store) DeleteUser(ctx context.Context, realmID, id string) error {
	return s.write(ctx, realmID, func(r *realm) error {
		if r.users[id] == nil {
			return store.ErrNotFound
		}
		r.deleteUser(id)
		return nil
	})
}

// deleteUser removes a user with its index entries, sessions and keys.
func (r *realm) deleteUser(id string) {
	u := r.users[id]
	if u == nil {
		return
	}
	r.unindexUser(u)
	for sid, sess := range r.sessions {
		if sess.UserID == id {
			r.deleteSession(sid)
		}
	}
	for kid, k := range r.apiKeys {
		if k.UserID == id {
			delete(r.apiKeys, kid)
		}
	}
	for kid, k := range r.accessKeys {
		if k.UserID == id {
			delete(r.accessKeys, kid)
		}
	}
	delete(r.users, id)
}
