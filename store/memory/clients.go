package memory

import (
	"context"
	"strings"

	"github.com/gatehouse/gatehouse/store"
)

func (s *Store) CreateClient(ctx context.Context, realmID string, c store.Client) error {
	return s.write(ctx, realmID, func(r *realm) error { return r.createClient(c) })
}

// CreateClientWithServiceAccount checks both records before storing
// either: both or neither.
func (s *Store) CreateClientWithServiceAccount(ctx context.Context, realmID string, c store.Client, sa store.User) error {
	return s.write(ctx, realmID, func(r *realm) error {
		if err := r.checkNewClient(&c); err != nil {
			return err
		}
		if err := r.checkNewUser(&sa); err != nil {
			return err
		}
		if err := r.createClient(c); err != nil {
			return err
		}
		return r.createUser(sa)
	})
}

func (r *realm) checkNewClient(c *store.Client) error {
	if _, ok := r.clientsByCID[c.ClientID]; ok {
		return &store.ConflictError{Kind: "client", Field: "clientId", Value: c.ClientID}
	}
	if r.clients[c.ID] != nil {
		return &store.ConflictError{Kind: "client", Field: "id", Value: c.ID}
	}
	return nil
}

func (r *realm) createClient(c store.Client) error {
	if err := r.checkNewClient(&c); err != nil {
		return err
	}
	r.clientsByCID[c.ClientID] = c.ID
	r.clients[c.ID] = ptr(c)
	return nil
}

func (s *Store) GetClient(_ context.Context, realmID, id string) (store.Client, error) {
	return get(s, realmID, func(r *realm) (*store.Client, error) { return lookup(r.clients, id) })
}

func (s *Store) GetClientByClientID(_ context.Context, realmID, clientID string) (store.Client, error) {
	return get(s, realmID, func(r *realm) (*store.Client, error) { return byIndex(r.clientsByCID, r.clients, clientID) })
}

func (s *Store) ListClients(_ context.Context, realmID string, q store.ClientQuery) ([]store.Client, error) {
	var out []store.Client
	err := s.read(realmID, func(r *realm) error {
		needle := lower(q.ClientID)
		out = window(list(r.clients, func(c *store.Client) bool {
			switch {
			case q.ClientID == "":
				return true
			case q.Search:
				return strings.Contains(lower(c.ClientID), needle)
			}
			return c.ClientID == q.ClientID
		}, func(a, b *store.Client) bool { return a.ClientID < b.ClientID }), q.Page)
		return nil
	})
	return out, err
}

func (s *Store) UpdateClient(ctx context.Context, realmID, id string, fn func(*store.Client) error) (store.Client, error) {
	return s.UpdateClientWithServiceAccount(ctx, realmID, id, fn, func(store.Client) *store.User { return nil })
}

func (s *Store) UpdateClientWithServiceAccount(ctx context.Context, realmID, id string, fn func(*store.Client) error, sa func(store.Client) *store.User) (store.Client, error) {
	return modify(s, ctx, realmID, func(r *realm) (*store.Client, error) { return lookup(r.clients, id) }, fn,
		func(r *realm, old, c *store.Client) error {
			c.ID = id
			renamed := c.ClientID != old.ClientID
			if _, taken := r.clientsByCID[c.ClientID]; renamed && taken {
				return &store.ConflictError{Kind: "client", Field: "clientId", Value: c.ClientID}
			}
			u := sa(*c)
			if u != nil {
				if have, err := byIndex(r.usersByName, r.users, lower(u.Username)); err == nil {
					if have.ServiceAccountClientID != u.ServiceAccountClientID {
						return &store.ConflictError{Kind: "user", Field: "username", Value: u.Username}
					}
					u = nil // it has its account
				} else if err := r.checkNewUser(u); err != nil {
					return err
				}
			}
			if renamed {
				delete(r.clientsByCID, old.ClientID)
				r.clientsByCID[c.ClientID] = id
			}
			r.clients[id] = c
			if u != nil {
				return r.createUser(*u)
			}
			return nil
		})
}

func (s *Store) DeleteClient(ctx context.Context, realmID, id string) error {
	return s.write(ctx, realmID, func(r *realm) error {
		c, err := lookup(r.clients, id)
		if err != nil {
			return err
		}
		delete(r.clients, id)
		delete(r.clientsByCID, c.ClientID)
		for rid, role := range r.roles {
			if role.ClientID == id {
				delete(r.roles, rid)
				delete(r.rolesByName, roleKey(role))
			}
		}
		for sid, sess := range r.sessions {
			if sess.ClientID == id {
				r.deleteSession(sid)
			}
		}
		if uid, ok := r.usersBySA[id]; ok {
			r.deleteUser(uid)
		}
		r.deleteServerAuthz(id)
		return nil
	})
}
