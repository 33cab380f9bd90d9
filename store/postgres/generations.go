package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/store"
)

var _ store.Generations = (*Store)(nil)

// changesChannel is the NOTIFY channel generations are announced on, as
// "realmID:generation".
const changesChannel = "gatehouse_changes"

// BumpGeneration advances the realm's generation and announces it in the
// same statement, so the announcement is sent when (and only if) the bump
// commits.
func (s *Store) BumpGeneration(ctx context.Context, realmID string) error {
	db, err := s.db()
	if err != nil {
		return err
	}
	if s.noNotify {
		_, err = db.Exec(ctx, `INSERT INTO realm_generations (realm_id, gen) VALUES ($1, 1)
			ON CONFLICT (realm_id) DO UPDATE SET gen = realm_generations.gen + 1`, realmID)
		return s.err(err)
	}
	_, err = db.Exec(ctx, `WITH g AS (
		INSERT INTO realm_generations (realm_id, gen) VALUES ($1::text, 1)
		ON CONFLICT (realm_id) DO UPDATE SET gen = realm_generations.gen + 1
		RETURNING gen)
	SELECT pg_notify('`+changesChannel+`', $1::text || ':' || gen::text) FROM g`, realmID)
	return s.err(err)
}

// RealmGeneration reads the realm's ID and generation by name: one index
// lookup in realms and one in realm_generations.
func (s *Store) RealmGeneration(ctx context.Context, name string) (string, uint64, error) {
	db, err := s.db()
	if err != nil {
		return "", 0, err
	}
	var id string
	var gen int64
	err = db.QueryRow(ctx, `SELECT r.id, COALESCE(g.gen, 0) FROM realms r
		LEFT JOIN realm_generations g ON g.realm_id = r.id WHERE r.name = $1`, name).Scan(&id, &gen)
	if err != nil {
		return "", 0, s.err(err)
	}
	return id, uint64(gen), nil
}

// ListenGenerations listens on a connection of its own (a pooled one
// cannot wait for notifications), reconnecting after a failure with a
// backoff of up to five seconds. On CockroachDB, which cannot listen, it
// returns at once.
func (s *Store) ListenGenerations(ctx context.Context, fn func(realmID string, gen uint64)) error {
	if s.noNotify {
		return nil
	}
	backoff := 100 * time.Millisecond
	for {
		err := s.listenOnce(ctx, fn, func() { backoff = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if s.closed.Load() {
			return s.err(err)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listenOnce runs one listening connection until it fails. It calls
// connected once it listens and has reported every current generation.
func (s *Store) listenOnce(ctx context.Context, fn func(string, uint64), connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+changesChannel); err != nil {
		return err
	}
	// Listening first, then reading: a bump committed in between is both
	// read and announced, never neither.
	rows, err := conn.Query(ctx, `SELECT realm_id, gen FROM realm_generations`)
	if err != nil {
		return err
	}
	var id string
	var gen int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &gen}, func() error {
		fn(id, uint64(gen))
		return nil
	}); err != nil {
		return err
	}
	connected()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if id, gen, ok := parseGeneration(n.Payload); ok {
			fn(id, gen)
		}
	}
}

// parseGeneration splits "realmID:generation" at its last colon.
func parseGeneration(payload string) (string, uint64, bool) {
	i := strings.LastIndexByte(payload, ':')
	if i < 0 {
		return "", 0, false
	}
	gen, err := strconv.ParseUint(payload[i+1:], 10, 64)
	if err != nil {
		return "", 0, false
	}
	return payload[:i], gen, true
}
