package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/store"
)

// Sessions and refresh tokens have a column per field: they are read and
// written on every refresh, and the janitor deletes them by expiry.

const sessionColumns = `id, client_id, user_id, scope, auth_time, last_refresh, expires_at, ip_address`

func scanSession(row pgx.Row) (store.Session, error) {
	var sess store.Session
	var auth, last, exp pgtype.Timestamptz
	if err := row.Scan(&sess.ID, &sess.ClientID, &sess.UserID, &sess.Scope, &auth, &last, &exp, &sess.IPAddress); err != nil {
		return store.Session{}, err
	}
	sess.AuthTime, sess.LastRefresh, sess.ExpiresAt = timeOf(auth), timeOf(last), timeOf(exp)
	return sess, nil
}

const tokenColumns = `hash, session_id, client_id, user_id, scope, issued_at, expires_at, used_at, use_count`

func scanToken(row pgx.Row) (store.RefreshToken, error) {
	var rt store.RefreshToken
	var issued, exp, used pgtype.Timestamptz
	if err := row.Scan(&rt.Hash, &rt.SessionID, &rt.ClientID, &rt.UserID, &rt.Scope, &issued, &exp, &used, &rt.UseCount); err != nil {
		return store.RefreshToken{}, err
	}
	rt.IssuedAt, rt.ExpiresAt, rt.UsedAt = timeOf(issued), timeOf(exp), timeOf(used)
	return rt, nil
}

func tokenStorable(rt store.RefreshToken) bool {
	return storable(rt.Hash, rt.SessionID, rt.ClientID, rt.UserID, rt.Scope)
}

// tokenInsert is the statement storing a new refresh token. A unique
// violation of its key is tokenConflict: overwriting a stored token (a
// rotated-out one included) would reset its UsedAt and defeat reuse
// detection.
func tokenInsert(realmID string, rt store.RefreshToken) (stmt, error) {
	if !tokenStorable(rt) {
		return stmt{}, errUnstorable(rt.Hash, rt.SessionID, rt.ClientID, rt.UserID)
	}
	return stmt{`INSERT INTO refresh_tokens (realm_id, ` + tokenColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		[]any{realmID, rt.Hash, rt.SessionID, rt.ClientID, rt.UserID, rt.Scope, ts(rt.IssuedAt), ts(rt.ExpiresAt), ts(rt.UsedAt), rt.UseCount}}, nil
}

func tokenConflict(rt store.RefreshToken) conflicts {
	return conflicts{"refresh_tokens_pkey": {Kind: "refresh-token", Field: "hash", Value: rt.Hash}}
}

func (s *Store) CreateSession(ctx context.Context, realmID string, sess store.Session, first store.RefreshToken) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, sess.ID, sess.ClientID, sess.UserID, sess.Scope, sess.IPAddress) {
		return errUnstorable(realmID, sess.ID, sess.ClientID, sess.UserID, sess.IPAddress)
	}
	insertSession := stmt{`INSERT INTO sessions (realm_id, ` + sessionColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		[]any{realmID, sess.ID, sess.ClientID, sess.UserID, sess.Scope, ts(sess.AuthTime), ts(sess.LastRefresh), ts(sess.ExpiresAt), sess.IPAddress}}
	stmts := []stmt{insertSession}
	// A first token without a hash: a browser SSO session, whose tokens
	// come later through AddRefreshToken.
	if first.Hash != "" {
		first.SessionID = sess.ID
		insertToken, err := tokenInsert(realmID, first)
		if err != nil {
			return err
		}
		stmts = append(stmts, insertToken)
	}
	switch i, err := s.pipeline(ctx, stmts...); i {
	case 0:
		return s.err(conflict(err, conflicts{"sessions_pkey": {Kind: "session", Field: "id", Value: sess.ID}}))
	case 1:
		return s.err(conflict(err, tokenConflict(first)))
	default:
		return s.err(err)
	}
}

// AddRefreshToken inserts the token only if its session is there and
// live, in one statement: the foreign key holds the session row until the
// insert commits, so a session ended meanwhile takes the token with it.
// When nothing was inserted, the session says why.
func (s *Store) AddRefreshToken(ctx context.Context, realmID string, rt store.RefreshToken, now time.Time) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID) {
		return store.ErrNotFound
	}
	if !tokenStorable(rt) {
		return errUnstorable(rt.Hash, rt.SessionID, rt.ClientID, rt.UserID)
	}
	tag, err := s.exec(ctx, `INSERT INTO refresh_tokens (realm_id, `+tokenColumns+`)
		SELECT $1, $2, id, $4, $5, $6, $7, $8, $9, $10 FROM sessions WHERE realm_id = $1 AND id = $3 AND expires_at > $11`,
		realmID, rt.Hash, rt.SessionID, rt.ClientID, rt.UserID, rt.Scope, ts(rt.IssuedAt), ts(rt.ExpiresAt), ts(rt.UsedAt), rt.UseCount, now)
	if err != nil {
		return s.err(conflict(err, tokenConflict(rt)))
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	return s.whyNotLive(ctx, realmID, rt.SessionID)
}

// whyNotLive is the error for a session a conditional write did not find
// live: gone (ErrNotFound) or expired (ErrTokenExpired; a session's expiry
// never moves).
func (s *Store) whyNotLive(ctx context.Context, realmID, id string) error {
	db, err := s.db()
	if err != nil {
		return err
	}
	var one int
	if err := db.QueryRow(ctx, `SELECT 1 FROM sessions WHERE realm_id = $1 AND id = $2`, realmID, id).Scan(&one); err != nil {
		return s.err(err)
	}
	return store.ErrTokenExpired
}

// TouchSession moves LastRefresh forward only, in one conditional UPDATE;
// when it changed nothing, the session is gone, expired, or already
// touched at a later time (no error).
func (s *Store) TouchSession(ctx context.Context, realmID, id string, now time.Time) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, id) {
		return store.ErrNotFound
	}
	tag, err := s.exec(ctx, `UPDATE sessions SET last_refresh = $3 WHERE realm_id = $1 AND id = $2 AND expires_at > $3
		AND (last_refresh IS NULL OR last_refresh < $3)`, realmID, id, ts(now))
	if err != nil {
		return s.err(err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	db, err := s.db()
	if err != nil {
		return err
	}
	var exp pgtype.Timestamptz
	if err := db.QueryRow(ctx, `SELECT expires_at FROM sessions WHERE realm_id = $1 AND id = $2`, realmID, id).Scan(&exp); err != nil {
		return s.err(err)
	}
	if !timeOf(exp).After(now) {
		return store.ErrTokenExpired
	}
	return nil
}

func (s *Store) GetSession(ctx context.Context, realmID, id string) (store.Session, error) {
	if !storable(realmID, id) {
		return store.Session{}, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return store.Session{}, err
	}
	sess, err := scanSession(db.QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE realm_id = $1 AND id = $2`, realmID, id))
	return sess, s.err(err)
}

func (s *Store) GetRefreshToken(ctx context.Context, realmID, hash string) (store.RefreshToken, error) {
	if !storable(realmID, hash) {
		return store.RefreshToken{}, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return store.RefreshToken{}, err
	}
	// A token row exists only while its session does (the foreign key
	// cascades), so finding it is enough.
	rt, err := scanToken(db.QueryRow(ctx, `SELECT `+tokenColumns+` FROM refresh_tokens WHERE realm_id = $1 AND hash = $2`, realmID, hash))
	return rt, s.err(err)
}

// RotateRefreshToken locks the session row (found through the token), then
// the token row, in one transaction. Concurrent rotations of one token (on
// any replica) queue on the session lock; each sees the committed result of
// the one before, so exactly one finds the token current, and the next
// finds it used and revokes the family. Session-then-token is also the
// order in which deleting a session locks them, so the two never deadlock.
//
// Two round trips: BEGIN and the two locking reads are sent together (the
// server runs them in order, so the lock order holds), then the writes
// with COMMIT, or nothing and a rollback.
func (s *Store) RotateRefreshToken(ctx context.Context, realmID, oldHash string, next store.RefreshToken, p store.RotationPolicy, now time.Time) (store.RefreshToken, error) {
	if err := ctxErr(ctx); err != nil {
		return store.RefreshToken{}, err
	}
	if !storable(realmID, oldHash) {
		return store.RefreshToken{}, store.ErrNotFound
	}
	var old store.RefreshToken
	var reused bool
	err := s.onConn(ctx, func(c *pgxpool.Conn) error {
		old, reused = store.RefreshToken{}, false
		sess, rt, err := lockForRotation(ctx, c, realmID, oldHash)
		if err != nil {
			return err
		}
		if !rt.ExpiresAt.After(now) || !sess.ExpiresAt.After(now) {
			return store.ErrTokenExpired
		}
		if !p.Use(&rt, now) {
			// Reuse: the family is compromised. The deletion must commit,
			// so this returns nil and the caller gets ErrTokenReused.
			reused = true
			_, err := sendTx(ctx, c, false, []stmt{{`DELETE FROM sessions WHERE realm_id = $1 AND id = $2`, []any{realmID, sess.ID}}}, true)
			return err
		}
		next.SessionID = sess.ID
		insertNext, err := tokenInsert(realmID, next)
		if err != nil {
			return err
		}
		i, err := sendTx(ctx, c, false, []stmt{insertNext,
			{`UPDATE refresh_tokens SET used_at = $3, use_count = $4 WHERE realm_id = $1 AND hash = $2`, []any{realmID, oldHash, ts(rt.UsedAt), rt.UseCount}},
			{`UPDATE sessions SET last_refresh = $3 WHERE realm_id = $1 AND id = $2`, []any{realmID, sess.ID, ts(now)}},
		}, true)
		if i == 0 {
			return conflict(err, tokenConflict(next))
		}
		if err != nil {
			return err
		}
		old = rt
		return nil
	})
	if err != nil {
		return store.RefreshToken{}, s.err(err)
	}
	if reused {
		return store.RefreshToken{}, store.ErrTokenReused
	}
	return old, nil
}

// lockForRotation begins a transaction and locks the token's session, then
// the token, in one round trip.
func lockForRotation(ctx context.Context, c *pgxpool.Conn, realmID, hash string) (store.Session, store.RefreshToken, error) {
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	// FOR UPDATE locks the session row only, not the token row the
	// subquery reads: that one is locked next.
	b.Queue(`SELECT `+sessionColumns+` FROM sessions WHERE realm_id = $1
		AND id = (SELECT session_id FROM refresh_tokens WHERE realm_id = $1 AND hash = $2) FOR UPDATE`, realmID, hash)
	b.Queue(`SELECT `+tokenColumns+` FROM refresh_tokens WHERE realm_id = $1 AND hash = $2 FOR UPDATE`, realmID, hash)
	br := c.SendBatch(ctx, b)
	defer br.Close()
	var sess store.Session
	var rt store.RefreshToken
	_, err := br.Exec()
	if err == nil {
		sess, err = scanSession(br.QueryRow())
	}
	if err == nil {
		rt, err = scanToken(br.QueryRow())
	}
	if err == nil {
		err = br.Close()
	}
	return sess, rt, err
}

func (s *Store) DeleteSession(ctx context.Context, realmID, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, id) {
		return store.ErrNotFound
	}
	return s.deleteOne(ctx, `DELETE FROM sessions WHERE realm_id = $1 AND id = $2`, realmID, id)
}

func (s *Store) ListSessions(ctx context.Context, realmID string, q store.SessionQuery) ([]store.Session, error) {
	if q.UserID == "" && q.ClientID == "" {
		return nil, errors.New("ListSessions needs a user or a client")
	}
	if !storable(realmID, q.UserID, q.ClientID) {
		return nil, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE realm_id = $1
		AND ($2 = '' OR user_id = $2) AND ($3 = '' OR client_id = $3) ORDER BY id`, realmID, q.UserID, q.ClientID)
	var out []store.Session
	if err == nil {
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Session, error) { return scanSession(r) })
	}
	return emptyOrMissing(ctx, s, db, realmID, out, err)
}

func (s *Store) RevokeAccessToken(ctx context.Context, realmID, jti string, exp time.Time) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, jti) {
		return errUnstorable(realmID, jti)
	}
	// A second revocation keeps the later expiry, so the janitor cannot
	// forget the first too soon.
	_, err := s.exec(ctx, `INSERT INTO revoked_jti (realm_id, jti, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (realm_id, jti) DO UPDATE SET expires_at = greatest(revoked_jti.expires_at, excluded.expires_at)`,
		realmID, jti, exp)
	return s.err(err)
}

func (s *Store) IsAccessTokenRevoked(ctx context.Context, realmID, jti string) (bool, error) {
	if !storable(realmID) {
		return false, store.ErrNotFound
	}
	if !storable(jti) {
		return false, nil
	}
	db, err := s.db()
	if err != nil {
		return false, err
	}
	// One round trip answers both: is the jti revoked, does the realm exist.
	var revoked, realm bool
	err = db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM revoked_jti WHERE realm_id = $1 AND jti = $2),
		EXISTS (SELECT 1 FROM realms WHERE id = $1)`, realmID, jti).Scan(&revoked, &realm)
	if err != nil {
		return false, s.err(err)
	}
	if !realm {
		return false, store.ErrNotFound
	}
	return revoked, nil
}

// DeleteExpired deletes expired refresh tokens, then sessions (their
// tokens go with them), then revoked jtis, nonces, authorization codes and
// device requests, oldest first, at most limit rows in all.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	if limit <= 0 {
		limit = 1000
	}
	n := 0
	for _, sql := range []string{
		`DELETE FROM refresh_tokens WHERE (realm_id, hash) IN
			(SELECT realm_id, hash FROM refresh_tokens WHERE expires_at < $1 ORDER BY expires_at LIMIT $2)`,
		`DELETE FROM sessions WHERE (realm_id, id) IN
			(SELECT realm_id, id FROM sessions WHERE expires_at < $1 ORDER BY expires_at LIMIT $2)`,
		`DELETE FROM revoked_jti WHERE (realm_id, jti) IN
			(SELECT realm_id, jti FROM revoked_jti WHERE expires_at < $1 ORDER BY expires_at LIMIT $2)`,
		`DELETE FROM nonces WHERE (realm_id, nonce) IN
			(SELECT realm_id, nonce FROM nonces WHERE expires_at < $1 ORDER BY expires_at LIMIT $2)`,
		`DELETE FROM auth_codes WHERE (realm_id, hash) IN
			(SELECT realm_id, hash FROM auth_codes WHERE expires_at < $1 ORDER BY expires_at LIMIT $2)`,
		`DELETE FROM device_codes WHERE (realm_id, hash) IN
			(SELECT realm_id, hash FROM device_codes WHERE expires_at < $1 ORDER BY expires_at LIMIT $2)`,
	} {
		if n >= limit {
			break
		}
		tag, err := s.exec(ctx, sql, now, limit-n)
		if err != nil {
			return n, s.err(err)
		}
		n += int(tag.RowsAffected())
	}
	return n, nil
}
