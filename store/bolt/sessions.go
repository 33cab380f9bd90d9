package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/store"
)

// putRefreshTx stores a refresh token and its expiry row. There is no
// session→token index: a token is alive only while its session is (every
// read checks), so ending a session needs no walk over its tokens, and a
// rotation dirties no page keyed by session. With the time-ordered keys the
// protocol layer chooses, a rotation's writes then land on the right edge of
// the token and expiry trees, shared by the whole batched commit, plus the
// one session row (pprof: node reads, splits and page writes of about five
// random leaves per rotation were most of a refresh's store CPU).
func putRefreshTx(tx *bbolt.Tx, rb *bbolt.Bucket, realmID string, rt store.RefreshToken) error {
	if err := putRow(sub(rb, bRT), rt.Hash, rt); err != nil {
		return err
	}
	return tx.Bucket(bExp).Put(expKey(rt.ExpiresAt, realmID, kindRefresh, rt.Hash), nil)
}

func deleteRefreshTx(tx *bbolt.Tx, rb *bbolt.Bucket, realmID, hash string) error {
	var rt store.RefreshToken
	if err := getRow(sub(rb, bRT), hash, &rt); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	if err := sub(rb, bRT).Delete([]byte(hash)); err != nil {
		return err
	}
	return tx.Bucket(bExp).Delete(expKey(rt.ExpiresAt, realmID, kindRefresh, hash))
}

// deleteSessionTx removes a session and its index entries. Its refresh
// tokens die with it (they are only valid while the session exists) and
// their rows go when they expire. A missing session is not an error
// (cascades may reach it twice).
func deleteSessionTx(tx *bbolt.Tx, rb *bbolt.Bucket, realmID, sid string) error {
	sessions := sub(rb, bSessions)
	var sess store.Session
	err := getRow(sessions, sid, &sess)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err := sub(rb, bSessByUser).Delete(idx(sess.UserID, sid)); err != nil {
		return err
	}
	if err := sub(rb, bSessByClient).Delete(idx(sess.ClientID, sid)); err != nil {
		return err
	}
	if err := tx.Bucket(bExp).Delete(expKey(sess.ExpiresAt, realmID, kindSession, sid)); err != nil {
		return err
	}
	return sessions.Delete([]byte(sid))
}

func (s *Store) CreateSession(ctx context.Context, realmID string, sess store.Session, first store.RefreshToken) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.batchRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		// Overwriting a session or token would orphan its index rows (and
		// an old expiry row would end the new session early).
		if sub(rb, bSessions).Get([]byte(sess.ID)) != nil {
			return &store.ConflictError{Kind: "session", Field: "id", Value: sess.ID}
		}
		if first.Hash != "" && sub(rb, bRT).Get([]byte(first.Hash)) != nil {
			return &store.ConflictError{Kind: "refresh-token", Field: "hash", Value: first.Hash}
		}
		if err := putRow(sub(rb, bSessions), sess.ID, sess); err != nil {
			return err
		}
		if err := sub(rb, bSessByUser).Put(idx(sess.UserID, sess.ID), nil); err != nil {
			return err
		}
		if err := sub(rb, bSessByClient).Put(idx(sess.ClientID, sess.ID), nil); err != nil {
			return err
		}
		if err := tx.Bucket(bExp).Put(expKey(sess.ExpiresAt, realmID, kindSession, sess.ID), nil); err != nil {
			return err
		}
		if first.Hash == "" {
			return nil
		}
		first.SessionID = sess.ID
		return putRefreshTx(tx, rb, realmID, first)
	})
}

func (s *Store) TouchSession(ctx context.Context, realmID, id string, now time.Time) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.batchRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		var sess store.Session
		if err := getRow(sub(rb, bSessions), id, &sess); err != nil {
			return err
		}
		if !sess.ExpiresAt.After(now) {
			return store.ErrTokenExpired
		}
		if now.After(sess.LastRefresh) {
			sess.LastRefresh = now
		}
		return putRow(sub(rb, bSessions), id, sess)
	})
}

func (s *Store) AddRefreshToken(ctx context.Context, realmID string, rt store.RefreshToken, now time.Time) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.batchRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		var sess store.Session
		if err := getRow(sub(rb, bSessions), rt.SessionID, &sess); err != nil {
			return err
		}
		if !sess.ExpiresAt.After(now) {
			return store.ErrTokenExpired
		}
		if sub(rb, bRT).Get([]byte(rt.Hash)) != nil {
			return &store.ConflictError{Kind: "refresh-token", Field: "hash", Value: rt.Hash}
		}
		return putRefreshTx(tx, rb, realmID, rt)
	})
}

func (s *Store) GetSession(_ context.Context, realmID, id string) (store.Session, error) {
	var sess store.Session
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		return getRow(sub(rb, bSessions), id, &sess)
	})
	return sess, err
}

func (s *Store) GetRefreshToken(_ context.Context, realmID, hash string) (store.RefreshToken, error) {
	var rt store.RefreshToken
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		if err := getRow(sub(rb, bRT), hash, &rt); err != nil {
			return err
		}
		// A token outlives its session's row only until the janitor
		// reaches it; it is already dead.
		if sub(rb, bSessions).Get([]byte(rt.SessionID)) == nil {
			return store.ErrNotFound
		}
		return nil
	})
	return rt, err
}

func (s *Store) RotateRefreshToken(ctx context.Context, realmID, oldHash string, next store.RefreshToken, p store.RotationPolicy, now time.Time) (store.RefreshToken, error) {
	if err := ctxErr(ctx); err != nil {
		return store.RefreshToken{}, err
	}
	var old store.RefreshToken
	var reused bool
	err := s.batch(func(tx *bbolt.Tx) error {
		// Batch may run this more than once: start from scratch each time.
		old, reused = store.RefreshToken{}, false
		rb, err := realmBucket(tx, realmID)
		if err != nil {
			return err
		}
		var rt store.RefreshToken
		if err := getRow(sub(rb, bRT), oldHash, &rt); err != nil {
			return err
		}
		var sess store.Session
		if err := getRow(sub(rb, bSessions), rt.SessionID, &sess); err != nil {
			return err
		}
		if !rt.ExpiresAt.After(now) || !sess.ExpiresAt.After(now) {
			return store.ErrTokenExpired
		}
		if !p.Use(&rt, now) {
			// Reuse: the family is compromised. The deletion must commit, so
			// this returns nil and the caller gets ErrTokenReused afterwards.
			reused = true
			return deleteSessionTx(tx, rb, realmID, rt.SessionID)
		}
		if sub(rb, bRT).Get([]byte(next.Hash)) != nil {
			// Overwriting a stored token (the old one included) would
			// reset its UsedAt and defeat reuse detection.
			return &store.ConflictError{Kind: "refresh-token", Field: "hash", Value: next.Hash}
		}
		if err := putRow(sub(rb, bRT), rt.Hash, rt); err != nil {
			return err
		}
		next.SessionID = rt.SessionID
		if err := putRefreshTx(tx, rb, realmID, next); err != nil {
			return err
		}
		sess.LastRefresh = now
		old = rt
		return putRow(sub(rb, bSessions), sess.ID, sess)
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
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.batchRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		if sub(rb, bSessions).Get([]byte(id)) == nil {
			return store.ErrNotFound
		}
		return deleteSessionTx(tx, rb, realmID, id)
	})
}

func (s *Store) ListSessions(_ context.Context, realmID string, q store.SessionQuery) ([]store.Session, error) {
	var out []store.Session
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		index, owner := sub(rb, bSessByUser), q.UserID
		if owner == "" {
			index, owner = sub(rb, bSessByClient), q.ClientID
		}
		if owner == "" {
			return errors.New("ListSessions needs a user or a client")
		}
		for _, k := range prefixKeys(index, idx(owner, "")) {
			var sess store.Session
			if err := getRow(sub(rb, bSessions), string(k[len(owner)+1:]), &sess); err != nil {
				return err
			}
			if q.ClientID != "" && sess.ClientID != q.ClientID {
				continue
			}
			out = append(out, sess)
		}
		return nil
	})
	return out, err
}

func (s *Store) RevokeAccessToken(ctx context.Context, realmID, jti string, exp time.Time) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.batchRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		revoked := sub(rb, bRevokedJTI)
		// A jti has one expiry row: keep the later expiry, so a second
		// revocation with an earlier exp cannot make the janitor forget the
		// first too soon.
		if prev := revoked.Get([]byte(jti)); len(prev) == 8 {
			prevExp := time.Unix(0, int64(binary.BigEndian.Uint64(prev)))
			if !exp.After(prevExp) {
				return nil
			}
			if err := tx.Bucket(bExp).Delete(expKey(prevExp, realmID, kindJTI, jti)); err != nil {
				return err
			}
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], uint64(exp.UnixNano()))
		if err := revoked.Put([]byte(jti), v[:]); err != nil {
			return err
		}
		return tx.Bucket(bExp).Put(expKey(exp, realmID, kindJTI, jti), nil)
	})
}

func (s *Store) IsAccessTokenRevoked(_ context.Context, realmID, jti string) (bool, error) {
	var revoked bool
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		revoked = sub(rb, bRevokedJTI).Get([]byte(jti)) != nil
		return nil
	})
	return revoked, err
}

func (s *Store) DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	if limit <= 0 {
		limit = 1000
	}
	// Find candidates in a read transaction so the write transaction that
	// follows is short.
	var keys [][]byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bExp).Cursor()
		for k, _ := c.First(); k != nil && len(keys) < limit; k, _ = c.Next() {
			t, _, _, _, ok := parseExpKey(k)
			if ok && !t.Before(now) {
				break
			}
			keys = append(keys, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil || len(keys) == 0 {
		return 0, err
	}
	n := 0
	err = s.update(func(tx *bbolt.Tx) error {
		n = 0
		exp := tx.Bucket(bExp)
		for _, k := range keys {
			if exp.Get(k) == nil {
				continue // already gone with its session
			}
			_, realmID, kind, key, ok := parseExpKey(k)
			rb, rerr := realmBucket(tx, realmID)
			if ok && rerr == nil {
				var err error
				switch kind {
				case kindRefresh:
					err = deleteRefreshTx(tx, rb, realmID, key)
				case kindSession:
					err = deleteSessionTx(tx, rb, realmID, key)
				case kindJTI:
					err = sub(rb, bRevokedJTI).Delete([]byte(key))
				case kindNonce:
					err = deleteNonceTx(rb, key)
				case kindCode:
					err = sub(rb, bCodes).Delete([]byte(key))
				case kindDevice:
					err = deleteDeviceTx(rb, key)
				}
				if err != nil {
					return err
				}
			}
			if err := exp.Delete(k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
