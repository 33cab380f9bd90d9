package memory

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// deleteSession removes a session with its refresh tokens (a missing one is
// no error: cascades may reach it twice).
func (r *realm) deleteSession(id string) {
	if r.sessions[id] == nil {
		return
	}
	delete(r.sessions, id)
	for h, rt := range r.tokens {
		if rt.SessionID == id {
			delete(r.tokens, h)
		}
	}
}

func (s *Store) CreateSession(ctx context.Context, realmID string, sess store.Session, first store.RefreshToken) error {
	return s.write(ctx, realmID, func(r *realm) error {
		if r.sessions[sess.ID] != nil {
			return &store.ConflictError{Kind: "session", Field: "id", Value: sess.ID}
		}
		if first.Hash != "" && r.tokens[first.Hash] != nil {
			return &store.ConflictError{Kind: "refresh-token", Field: "hash", Value: first.Hash}
		}
		r.sessions[sess.ID] = ptr(sess)
		if first.Hash != "" {
			first.SessionID = sess.ID
			r.tokens[first.Hash] = ptr(first)
		}
		return nil
	})
}

func (s *Store) TouchSession(ctx context.Context, realmID, id string, now time.Time) error {
	return s.write(ctx, realmID, func(r *realm) error {
		sess, err := lookup(r.sessions, id)
		if err != nil {
			return err
		}
		if !sess.ExpiresAt.After(now) {
			return store.ErrTokenExpired
		}
		if now.After(sess.LastRefresh) {
			touched := *sess
			touched.LastRefresh = now
			r.sessions[id] = &touched
		}
		return nil
	})
}

func (s *Store) AddRefreshToken(ctx context.Context, realmID string, rt store.RefreshToken, now time.Time) error {
	return s.write(ctx, realmID, func(r *realm) error {
		sess, err := lookup(r.sessions, rt.SessionID)
		if err != nil {
			return err
		}
		if !sess.ExpiresAt.After(now) {
			return store.ErrTokenExpired
		}
		if r.tokens[rt.Hash] != nil {
			return &store.ConflictError{Kind: "refresh-token", Field: "hash", Value: rt.Hash}
		}
		r.tokens[rt.Hash] = ptr(rt)
		return nil
	})
}

func (s *Store) GetSession(_ context.Context, realmID, id string) (store.Session, error) {
	return get(s, realmID, func(r *realm) (*store.Session, error) { return lookup(r.sessions, id) })
}

func (s *Store) GetRefreshToken(_ context.Context, realmID, hash string) (store.RefreshToken, error) {
	return get(s, realmID, func(r *realm) (*store.RefreshToken, error) {
		rt, err := lookup(r.tokens, hash)
		if err == nil && r.sessions[rt.SessionID] == nil {
			return nil, store.ErrNotFound
		}
		return rt, err
	})
}

func (s *Store) RotateRefreshToken(ctx context.Context, realmID, oldHash string, next store.RefreshToken, p store.RotationPolicy, now time.Time) (store.RefreshToken, error) {
	var old store.RefreshToken
	reused := false
	err := s.write(ctx, realmID, func(r *realm) error {
		cur, err := lookup(r.tokens, oldHash)
		if err != nil {
			return err
		}
		sess, err := lookup(r.sessions, cur.SessionID)
		if err != nil {
			return err
		}
		if !cur.ExpiresAt.After(now) || !sess.ExpiresAt.After(now) {
			return store.ErrTokenExpired
		}
		rt := *cur
		if !p.Use(&rt, now) {
			// Reuse: the family is compromised and goes.
			reused = true
			r.deleteSession(rt.SessionID)
			return nil
		}
		if r.tokens[next.Hash] != nil {
			// Overwriting a stored token (the old one included) would
			// reset its UsedAt and defeat reuse detection.
			return &store.ConflictError{Kind: "refresh-token", Field: "hash", Value: next.Hash}
		}
		r.tokens[oldHash] = &rt
		next.SessionID = rt.SessionID
		r.tokens[next.Hash] = ptr(next)
		touched := *sess
		touched.LastRefresh = now
		r.sessions[sess.ID] = &touched
		old = rt
		return nil
	})
	if err != nil {
		return store.RefreshToken{}, err
	}
	if reused {
		return store.RefreshToken{}, store.ErrTokenReused
	}
	return old, nil
}

func (s *Store) DeleteSession(ctx context.Context, realmID, id string) error {
	return s.write(ctx, realmID, func(r *realm) error {
		if r.sessions[id] == nil {
			return store.ErrNotFound
		}
		r.deleteSession(id)
		return nil
	})
}

func (s *Store) ListSessions(_ context.Context, realmID string, q store.SessionQuery) ([]store.Session, error) {
	if q.UserID == "" && q.ClientID == "" {
		return nil, errors.New("ListSessions needs a user or a client")
	}
	var out []store.Session
	err := s.read(realmID, func(r *realm) error {
		out = list(r.sessions, func(sess *store.Session) bool {
			return (q.UserID == "" || sess.UserID == q.UserID) && (q.ClientID == "" || sess.ClientID == q.ClientID)
		}, func(a, b *store.Session) bool { return a.ID < b.ID })
		return nil
	})
	return out, err
}

func (s *Store) RevokeAccessToken(ctx context.Context, realmID, jti string, exp time.Time) error {
	return s.write(ctx, realmID, func(r *realm) error {
		// Keep the later expiry: a second revocation with an earlier exp
		// must not end the first one early.
		if prev, ok := r.revoked[jti]; !ok || exp.After(prev) {
			r.revoked[jti] = exp
		}
		return nil
	})
}

func (s *Store) IsAccessTokenRevoked(_ context.Context, realmID, jti string) (bool, error) {
	revoked := false
	err := s.read(realmID, func(r *realm) error {
		_, revoked = r.revoked[jti]
		return nil
	})
	return revoked, err
}

// expiring is one record DeleteExpired may remove.
type expiring struct {
	at   time.Time
	drop func()
}

// DeleteExpired removes the records that expired earliest first, as the
// bolt store's time-ordered index does.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	n := 0
	err := s.global(ctx, func() error {
		var due []expiring
		add := func(at time.Time, drop func()) {
			if at.Before(now) {
				due = append(due, expiring{at, drop})
			}
		}
		for _, r := range s.realms {
			for h, rt := range r.tokens {
				add(rt.ExpiresAt, func() { delete(r.tokens, h) })
			}
			for id, sess := range r.sessions {
				add(sess.ExpiresAt, func() { r.deleteSession(id) })
			}
			for jti, exp := range r.revoked {
				add(exp, func() { delete(r.revoked, jti) })
			}
			for n, exp := range r.nonces {
				add(exp, func() { delete(r.nonces, n) })
			}
			for h, c := range r.codes {
				add(c.ExpiresAt, func() { delete(r.codes, h) })
			}
			for h, d := range r.devices {
				add(d.ExpiresAt, func() {
					delete(r.devices, h)
					dropIf(r.deviceByUser, d.UserCode, h)
				})
			}
		}
		n = dropEarliest(due, limit)
		return nil
	})
	return n, err
}

// dropEarliest drops at most limit (<= 0: 1000) of due, earliest first,
// and returns how many.
func dropEarliest(due []expiring, limit int) int {
	if limit <= 0 {
		limit = 1000
	}
	sort.Slice(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	if len(due) > limit {
		due = due[:limit]
	}
	for _, e := range due {
		e.drop()
	}
	return len(due)
}
