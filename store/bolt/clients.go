package bolt

import (
	"context"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/store"
)

func (s *Store) CreateClient(ctx context.Context, realmID string, c store.Client) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error { return createClientTx(rb, c) })
}

// CreateClientWithServiceAccount creates the client and its
// service-account user in one transaction.
func (s *Store) CreateClientWithServiceAccount(ctx context.Context, realmID string, c store.Client, sa store.User) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.updateRealm(realmID, func(_ *bbolt.Tx, rb *bbolt.Bucket) error {
		if err := createClientTx(rb, c); err != nil {
			return err
		}
		return createUserTx(rb, sa)
	})
}

func createClientTx(rb *bbolt.Bucket, c store.Client) error {
	clients, byCID := sub(rb, bClients), sub(rb, bClientsByCID)
	if byCID.Get([]byte(c.ClientID)) != nil {
		return &store.ConflictError{Kind: "client", Field: "clientId", Value: c.ClientID}
	}
	if clients.Get([]byte(c.ID)) != nil {
		return &store.ConflictError{Kind: "client", Field: "id", Value: c.ID}
	}
	if err := byCID.Put([]byte(c.ClientID), []byte(c.ID)); err != nil {
		return err
	}
	return putRow(clients, c.ID, c)
}

func (s *Store) GetClient(_ context.Context, realmID, id string) (store.Client, error) {
	var c store.Client
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		return getRow(sub(rb, bClients), id, &c)
	})
	return c, err
}

func (s *Store) GetClientByClientID(_ context.Context, realmID, clientID string) (store.Client, error) {
	var c store.Client
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		id := sub(rb, bClientsByCID).Get([]byte(clientID))
		if id == nil {
			return store.ErrNotFound
		}
		return getRow(sub(rb, bClients), string(id), &c)
	})
	return c, err
}

func (s *Store) ListClients(_ context.Context, realmID string, q store.ClientQuery) ([]store.Client, error) {
	var out []store.Client
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		clients := sub(rb, bClients)
		pg := newPager(q.Page)
		needle := strings.ToLower(q.ClientID)
		c := sub(rb, bClientsByCID).Cursor()
		for k, id := c.First(); k != nil && !pg.full(); k, id = c.Next() {
			switch {
			case q.ClientID == "":
			case q.Search:
				if !strings.Contains(strings.ToLower(string(k)), needle) {
					continue
				}
			default:
				if string(k) != q.ClientID {
					continue
				}
			}
			if !pg.take() {
				continue
			}
			var cl store.Client
			if err := getRow(clients, string(id), &cl); err != nil {
				return err
			}
			out = append(out, cl)
		}
		return nil
	})
	return out, err
}

func (s *Store) UpdateClient(ctx context.Context, realmID, id string, fn func(*store.Client) error) (store.Client, error) {
	return s.UpdateClientWithServiceAccount(ctx, realmID, id, fn, func(store.Client) *store.User { return nil })
}

func (s *Store) UpdateClientWithServiceAccount(ctx context.Context, realmID, id string, fn func(*store.Client) error, sa func(store.Client) *store.User) (store.Client, error) {
	if err := ctxErr(ctx); err != nil {
		return store.Client{}, err
	}
	var out store.Client
	err := s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		clients, byCID := sub(rb, bClients), sub(rb, bClientsByCID)
		var c store.Client
		if err := getRow(clients, id, &c); err != nil {
			return err
		}
		old := c.ClientID
		if err := fn(&c); err != nil {
			return err
		}
		c.ID = id
		if c.ClientID != old {
			if byCID.Get([]byte(c.ClientID)) != nil {
				return &store.ConflictError{Kind: "client", Field: "clientId", Value: c.ClientID}
			}
			if err := byCID.Delete([]byte(old)); err != nil {
				return err
			}
			if err := byCID.Put([]byte(c.ClientID), []byte(id)); err != nil {
				return err
			}
		}
		if u := sa(c); u != nil {
			if err := ensureServiceAccountTx(rb, *u); err != nil {
				return err
			}
		}
		out = c
		return putRow(clients, id, c)
	})
	return out, err
}

// ensureServiceAccountTx creates service-account user u unless the realm
// has it (its username, held by the same client's account).
func ensureServiceAccountTx(rb *bbolt.Bucket, u store.User) error {
	if uid := sub(rb, bUsersByName).Get([]byte(lower(u.Username))); uid != nil {
		var have store.User
		if err := getRow(sub(rb, bUsers), string(uid), &have); err != nil {
			return err
		}
		if have.ServiceAccountClientID == u.ServiceAccountClientID {
			return nil
		}
		return &store.ConflictError{Kind: "user", Field: "username", Value: u.Username}
	}
	return createUserTx(rb, u)
}

func (s *Store) DeleteClient(ctx context.Context, realmID, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		clients := sub(rb, bClients)
		var c store.Client
		if err := getRow(clients, id, &c); err != nil {
			return err
		}
		if err := clients.Delete([]byte(id)); err != nil {
			return err
		}
		if err := sub(rb, bClientsByCID).Delete([]byte(c.ClientID)); err != nil {
			return err
		}
		// Its roles.
		roles, byName := sub(rb, bRoles), sub(rb, bRolesByName)
		for _, k := range prefixKeys(byName, idx(id, "")) {
			if rid := byName.Get(k); rid != nil {
				if err := roles.Delete(rid); err != nil {
					return err
				}
			}
			if err := byName.Delete(k); err != nil {
				return err
			}
		}
		// Its sessions and refresh tokens.
		for _, k := range prefixKeys(sub(rb, bSessByClient), idx(id, "")) {
			if err := deleteSessionTx(tx, rb, realmID, string(k[len(id)+1:])); err != nil {
				return err
			}
		}
		// Its authorization services records (when a resource server).
		if err := deleteServerAuthzTx(rb, id); err != nil {
			return err
		}
		// Its service-account user.
		if uid := sub(rb, bUsersBySA).Get([]byte(id)); uid != nil {
			if err := deleteUserTx(tx, rb, realmID, string(uid)); err != nil && err != store.ErrNotFound {
				return err
			}
		}
		return nil
	})
}
