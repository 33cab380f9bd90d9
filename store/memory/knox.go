package memory

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// --- identity providers

func (s *Store) CreateIdentityProvider(ctx context.Context, realmID string, p store.IdentityProvider) error {
	return s.write(ctx, realmID, func(r *realm) error {
		if r.idps[p.Alias] != nil {
			return &store.ConflictError{Kind: "identity-provider", Field: "alias", Value: p.Alias}
		}
		r.idps[p.Alias] = ptr(p)
		return nil
	})
}

func (s *Store) GetIdentityProvider(_ context.Context, realmID, alias string) (store.IdentityProvider, error) {
	return get(s, realmID, func(r *realm) (*store.IdentityProvider, error) { return lookup(r.idps, alias) })
}

func (s *Store) ListIdentityProviders(_ context.Context, realmID string) ([]store.IdentityProvider, error) {
	var out []store.IdentityProvider
	err := s.read(realmID, func(r *realm) error {
		out = list(r.idps, nil, func(a, b *store.IdentityProvider) bool { return a.Alias < b.Alias })
		return nil
	})
	return out, err
}

func (s *Store) UpdateIdentityProvider(ctx context.Context, realmID, alias string, fn func(*store.IdentityProvider) error) (store.IdentityProvider, error) {
	return modify(s, ctx, realmID, func(r *realm) (*store.IdentityProvider, error) { return lookup(r.idps, alias) }, fn,
		func(r *realm, _, p *store.IdentityProvider) error {
			p.Alias = alias
			r.idps[alias] = p
			return nil
		})
}

func (s *Store) DeleteIdentityProvider(ctx context.Context, realmID, alias string) error {
	return s.write(ctx, realmID, func(r *realm) error {
		if r.idps[alias] == nil {
			return store.ErrNotFound
		}
		delete(r.idps, alias)
		// Every user's link to it goes too.
		for key, uid := range r.usersByFed {
			if key[0] != alias {
				continue
			}
			delete(r.usersByFed, key)
			u := r.users[uid]
			if u == nil {
				continue
			}
			kept := clone(*u)
			kept.FederatedIdentities = nil
			for _, f := range u.FederatedIdentities {
				if f.IdentityProvider != alias {
					kept.FederatedIdentities = append(kept.FederatedIdentities, f)
				}
			}
			r.users[uid] = &kept
		}
		return nil
	})
}

// --- topologies (global)

func (s *Store) PutTopology(ctx context.Context, t store.Topology) error {
	return s.global(ctx, func() error {
		s.topologies[t.Name] = ptr(t)
		return nil
	})
}

func (s *Store) GetTopology(_ context.Context, name string) (store.Topology, error) {
	var out store.Topology
	err := s.globalRead(func() error {
		t, err := lookup(s.topologies, name)
		if err == nil {
			out = clone(*t)
		}
		return err
	})
	return out, err
}

func (s *Store) ListTopologies(context.Context) ([]store.Topology, error) {
	var out []store.Topology
	err := s.globalRead(func() error {
		out = list(s.topologies, nil, func(a, b *store.Topology) bool { return a.Name < b.Name })
		return nil
	})
	return out, err
}

func (s *Store) DeleteTopology(ctx context.Context, name string) error {
	return s.global(ctx, func() error {
		if s.topologies[name] == nil {
			return store.ErrNotFound
		}
		delete(s.topologies, name)
		return nil
	})
}

// --- managed Knox tokens

// knoxOrder is oldest first, ties by ID.
func knoxOrder(a, b *store.KnoxToken) bool {
	if !a.IssuedAt.Equal(b.IssuedAt) {
		return a.IssuedAt.Before(b.IssuedAt)
	}
	return a.ID < b.ID
}

func (s *Store) CreateKnoxToken(ctx context.Context, realmID string, t store.KnoxToken, limit store.KnoxTokenLimit) error {
	return s.write(ctx, realmID, func(r *realm) error {
		if r.knox[t.ID] != nil {
			return &store.ConflictError{Kind: "knox-token", Field: "id", Value: t.ID}
		}
		if limit.Max > 0 && t.UserID != "" {
			// A row without an owner ID belongs to no user and counts for
			// none.
			live := list(r.knox, func(m *store.KnoxToken) bool {
				return m.UserID == t.UserID && (m.ExpiresAt.IsZero() || m.ExpiresAt.After(limit.Now))
			}, knoxOrder)
			if len(live) >= limit.Max && !limit.RemoveOldest {
				return store.ErrLimitExceeded
			}
			for ; len(live) >= limit.Max; live = live[1:] {
				delete(r.knox, live[0].ID)
			}
		}
		r.knox[t.ID] = ptr(t)
		return nil
	})
}

func (s *Store) GetKnoxToken(_ context.Context, realmID, id string) (store.KnoxToken, error) {
	return get(s, realmID, func(r *realm) (*store.KnoxToken, error) { return lookup(r.knox, id) })
}

func (s *Store) UpdateKnoxToken(ctx context.Context, realmID, id string, fn func(*store.KnoxToken) error) (store.KnoxToken, error) {
	return modify(s, ctx, realmID, func(r *realm) (*store.KnoxToken, error) { return lookup(r.knox, id) }, fn,
		func(r *realm, _, t *store.KnoxToken) error {
			t.ID = id
			r.knox[id] = t
			return nil
		})
}

func (s *Store) DeleteKnoxToken(ctx context.Context, realmID, id string) error {
	return s.write(ctx, realmID, func(r *realm) error {
		if r.knox[id] == nil {
			return store.ErrNotFound
		}
		delete(r.knox, id)
		return nil
	})
}

func (s *Store) ListKnoxTokens(_ context.Context, realmID string, q store.KnoxTokenQuery) ([]store.KnoxToken, error) {
	var out []store.KnoxToken
	err := s.read(realmID, func(r *realm) error {
		out = list(r.knox, func(t *store.KnoxToken) bool {
			return (q.UserID == "" || t.UserID == q.UserID) && (q.CreatedByID == "" || t.CreatedByID == q.CreatedByID)
		}, knoxOrder)
		return nil
	})
	return out, err
}

func (s *Store) DeleteExpiredKnoxTokens(ctx context.Context, before time.Time, limit int) (int, error) {
	n := 0
	err := s.global(ctx, func() error {
		var due []expiring
		for _, r := range s.realms {
			for id, t := range r.knox {
				if !t.ExpiresAt.IsZero() && t.ExpiresAt.Before(before) {
					due = append(due, expiring{t.ExpiresAt, func() { delete(r.knox, id) }})
				}
			}
		}
		n = dropEarliest(due, limit)
		return nil
	})
	return n, err
}
