package bolt

import (
	"context"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/store"
)

func lower(s string) string { return strings.ToLower(s) }

// indexUser adds u's username, email and service-account entries, failing
// with a ConflictError when one is taken by another user.
func indexUser(rb *bbolt.Bucket, u store.User) error {
	byName, byEmail := sub(rb, bUsersByName), sub(rb, bUsersByEmail)
	if id := byName.Get([]byte(lower(u.Username))); id != nil && string(id) != u.ID {
		return &store.ConflictError{Kind: "user", Field: "username", Value: u.Username}
	}
	if u.Email != "" {
		if id := byEmail.Get([]byte(lower(u.Email))); id != nil && string(id) != u.ID {
			return &store.ConflictError{Kind: "user", Field: "email", Value: u.Email}
		}
		if err := byEmail.Put([]byte(lower(u.Email)), []byte(u.ID)); err != nil {
			return err
		}
	}
	if u.ServiceAccountClientID != "" {
		if err := sub(rb, bUsersBySA).Put([]byte(u.ServiceAccountClientID), []byte(u.ID)); err != nil {
			return err
		}
	}
	if err := indexFederated(rb, u); err != nil {
		return err
	}
	return byName.Put([]byte(lower(u.Username)), []byte(u.ID))
}

// indexFederated adds u's federated identity links: alias\0providerUserID
// -> user ID.
func indexFederated(rb *bbolt.Bucket, u store.User) error {
	if len(u.FederatedIdentities) == 0 {
		return nil
	}
	byFed := sub(rb, bUsersByFed)
	seen := map[string]bool{}
	for _, f := range u.FederatedIdentities {
		if seen[f.IdentityProvider] {
			return &store.ConflictError{Kind: "user", Field: "federatedIdentity", Value: f.IdentityProvider}
		}
		seen[f.IdentityProvider] = true
		k := idx(f.IdentityProvider, f.UserID)
		if id := byFed.Get(k); id != nil && string(id) != u.ID {
			return &store.ConflictError{Kind: "user", Field: "federatedIdentity", Value: f.IdentityProvider}
		}
		if err := byFed.Put(k, []byte(u.ID)); err != nil {
			return err
		}
	}
	return nil
}

func unindexFederated(rb *bbolt.Bucket, u store.User) error {
	byFed := sub(rb, bUsersByFed)
	if byFed == nil {
		return nil
	}
	for _, f := range u.FederatedIdentities {
		k := idx(f.IdentityProvider, f.UserID)
		if id := byFed.Get(k); string(id) == u.ID {
			if err := byFed.Delete(k); err != nil {
				return err
			}
		}
	}
	return nil
}

func unindexUser(rb *bbolt.Bucket, u store.User) error {
	if err := sub(rb, bUsersByName).Delete([]byte(lower(u.Username))); err != nil {
		return err
	}
	if err := unindexFederated(rb, u); err != nil {
		return err
	}
	if u.Email != "" {
		byEmail := sub(rb, bUsersByEmail)
		if id := byEmail.Get([]byte(lower(u.Email))); string(id) == u.ID {
			if err := byEmail.Delete([]byte(lower(u.Email))); err != nil {
				return err
			}
		}
	}
	if u.ServiceAccountClientID != "" {
		bySA := sub(rb, bUsersBySA)
		if id := bySA.Get([]byte(u.ServiceAccountClientID)); string(id) == u.ID {
			return bySA.Delete([]byte(u.ServiceAccountClientID))
		}
	}
	return nil
}

func (s *Store) CreateUser(ctx context.Context, realmID string, u store.User) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error { return createUserTx(rb, u) })
}

func createUserTx(rb *bbolt.Bucket, u store.User) error {
	users := sub(rb, bUsers)
	if users.Get([]byte(u.ID)) != nil {
		return &store.ConflictError{Kind: "user", Field: "id", Value: u.ID}
	}
	if sub(rb, bUsersByName).Get([]byte(lower(u.Username))) != nil {
		return &store.ConflictError{Kind: "user", Field: "username", Value: u.Username}
	}
	if err := indexUser(rb, u); err != nil {
		return err
	}
	return putRow(users, u.ID, u)
}

// CreateUsers bulk-loads users into a realm in one transaction (all or
// none), with exactly the rows, indexes and conflict checks of CreateUser.
// It is for loading large user bases (the scale benchmark, imports): one
// commit per batch instead of one fsync per user. Like CreateUser it takes
// the records as they are; validation is the caller's.
func (s *Store) CreateUsers(ctx context.Context, realmID string, users []store.User) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		for _, u := range users {
			if err := createUserTx(rb, u); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) getUserBy(realmID string, index []byte, key string) (store.User, error) {
	var u store.User
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		id := key
		if index != nil {
			raw := sub(rb, index).Get([]byte(lower(key)))
			if raw == nil {
				return store.ErrNotFound
			}
			id = string(raw)
		}
		return getRow(sub(rb, bUsers), id, &u)
	})
	return u, err
}

func (s *Store) GetUser(_ context.Context, realmID, id string) (store.User, error) {
	return s.getUserBy(realmID, nil, id)
}

func (s *Store) GetUserByUsername(_ context.Context, realmID, username string) (store.User, error) {
	return s.getUserBy(realmID, bUsersByName, username)
}

func (s *Store) GetUserByFederatedIdentity(_ context.Context, realmID, alias, providerUserID string) (store.User, error) {
	var u store.User
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		byFed := sub(rb, bUsersByFed)
		if byFed == nil {
			return store.ErrNotFound
		}
		id := byFed.Get(idx(alias, providerUserID))
		if id == nil {
			return store.ErrNotFound
		}
		return getRow(sub(rb, bUsers), string(id), &u)
	})
	return u, err
}

func (s *Store) GetUserByEmail(_ context.Context, realmID, email string) (store.User, error) {
	if email == "" {
		return store.User{}, store.ErrNotFound
	}
	return s.getUserBy(realmID, bUsersByEmail, email)
}

// scanUsers calls fn for every user matching q in username order until fn
// returns false.
func (s *Store) scanUsers(realmID string, q store.UserQuery, fn func(store.User) bool) error {
	return s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		users := sub(rb, bUsers)
		// An exact username or email, or a federated identity link, is one
		// index lookup, not a scan; userMatches still applies every other
		// filter.
		var index, key []byte
		switch {
		case q.Exact && q.Username != "":
			index, key = bUsersByName, []byte(lower(q.Username))
		case q.Exact && q.Email != "":
			index, key = bUsersByEmail, []byte(lower(q.Email))
		case q.IDPAlias != "" && q.IDPUserID != "":
			index, key = bUsersByFed, idx(q.IDPAlias, q.IDPUserID)
		}
		if index != nil {
			b := sub(rb, index)
			if b == nil {
				return nil
			}
			id := b.Get(key)
			if id == nil {
				return nil
			}
			var u store.User
			if err := getRow(users, string(id), &u); err != nil {
				return err
			}
			if q.Matches(u) {
				fn(u)
			}
			return nil
		}
		c := sub(rb, bUsersByName).Cursor()
		for k, id := c.First(); k != nil; k, id = c.Next() {
			var u store.User
			if err := getRow(users, string(id), &u); err != nil {
				return err
			}
			if q.Matches(u) && !fn(u) {
				return nil
			}
		}
		return nil
	})
}

func (s *Store) ListUsers(_ context.Context, realmID string, q store.UserQuery) ([]store.User, error) {
	var out []store.User
	pg := newPager(q.Page)
	err := s.scanUsers(realmID, q, func(u store.User) bool {
		if pg.take() {
			out = append(out, u)
		}
		return !pg.full()
	})
	return out, err
}

func (s *Store) CountUsers(_ context.Context, realmID string, q store.UserQuery) (int, error) {
	n := 0
	err := s.scanUsers(realmID, q, func(store.User) bool { n++; return true })
	return n, err
}

func (s *Store) UpdateUser(ctx context.Context, realmID, id string, fn func(*store.User) error) (store.User, error) {
	if err := ctxErr(ctx); err != nil {
		return store.User{}, err
	}
	var out store.User
	err := s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		users := sub(rb, bUsers)
		var u store.User
		if err := getRow(users, id, &u); err != nil {
			return err
		}
		old := u
		if err := fn(&u); err != nil {
			return err
		}
		u.ID = id
		if err := unindexUser(rb, old); err != nil {
			return err
		}
		if err := indexUser(rb, u); err != nil {
			return err
		}
		out = u
		return putRow(users, id, u)
	})
	return out, err
}

func (s *Store) DeleteUser(ctx context.Context, realmID, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		return deleteUserTx(tx, rb, realmID, id)
	})
}

// deleteUserTx removes a user, its index entries, its sessions and the
// keys it holds.
func deleteUserTx(tx *bbolt.Tx, rb *bbolt.Bucket, realmID, id string) error {
	users := sub(rb, bUsers)
	var u store.User
	if err := getRow(users, id, &u); err != nil {
		return err
	}
	if err := unindexUser(rb, u); err != nil {
		return err
	}
	for _, k := range prefixKeys(sub(rb, bSessByUser), idx(id, "")) {
		if err := deleteSessionTx(tx, rb, realmID, string(k[len(id)+1:])); err != nil {
			return err
		}
	}
	if err := deleteUserCredsTx(rb, id); err != nil {
		return err
	}
	return users.Delete([]byte(id))
}
