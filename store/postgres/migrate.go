package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// Migrations are the files migrations/NNNN_name.sql, applied in order, each
// once, recorded in schema_migrations. A released file is never edited: a
// change of schema is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration file %q is not NNNN_name.sql", e.Name())
		}
		raw, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(raw)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// SchemaVersion is the newest migration this binary knows.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// migrate brings the schema to SchemaVersion. Several replicas may start at
// once: each migration runs in one transaction that first claims its
// version in schema_migrations, so a second replica waits on that row and
// then skips the migration (a unique violation) — correct on its own. On
// PostgreSQL an advisory lock around the whole run also keeps the losers
// from doing and rolling back the work; CockroachDB has no such lock and
// relies on the claim alone (its DDL statements are IF NOT EXISTS, so a
// repeated run is harmless there too).
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	c := conn.Conn()
	var version string
	if err := c.QueryRow(ctx, `SELECT version()`).Scan(&version); err != nil {
		return err
	}
	s.noNotify = strings.Contains(version, "CockroachDB")
	if !s.noNotify {
		if err := checkDurable(ctx, c); err != nil {
			return err
		}
		unlock, err := advisoryLock(ctx, c)
		if err != nil {
			return err
		}
		defer unlock()
	}
	if _, err := c.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer NOT NULL,
		name text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now(),
		CONSTRAINT schema_migrations_pkey PRIMARY KEY (version))`); err != nil {
		return err
	}
	applied := map[int]bool{}
	rows, err := c.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return err
	}
	newest := 0
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
		newest = max(newest, v)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if known := ms[len(ms)-1].version; newest > known {
		// A newer binary migrated this database; this one does not know
		// what its rows mean.
		return fmt.Errorf("database schema is version %d, newer than this binary's %d: upgrade gatehouse", newest, known)
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, m.sql)
			return err
		})
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			continue // another replica applied it meanwhile
		}
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
	}
	return nil
}

// checkDurable refuses a session whose commits return before they are
// flushed (PostgreSQL's synchronous_commit off): the Store contract is
// durable before acknowledged, as with bbolt. Every pooled connection gets
// the same settings (role, database and URL parameters), so checking one
// is enough.
func checkDurable(ctx context.Context, c *pgx.Conn) error {
	var mode string
	if err := c.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&mode); err != nil {
		return err
	}
	if mode == "off" {
		return errors.New("synchronous_commit is off, so acknowledged writes could be lost in a crash: " +
			"turn it on for Gatehouse's role (ALTER ROLE ... SET synchronous_commit = on) or add synchronous_commit=on to the URL")
	}
	return nil
}

// advisoryLock takes PostgreSQL's session advisory lock for migrations of
// this schema (PostgreSQL only). The key is derived from the schema name so
// stores in different schemas of one database migrate independently.
func advisoryLock(ctx context.Context, c *pgx.Conn) (func(), error) {
	var schema pgtype.Text
	if err := c.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return nil, err
	}
	if !schema.Valid {
		return nil, errors.New("no schema to create the tables in: the connection's search_path names none that exists (create it first)")
	}
	h := fnv.New64a()
	h.Write([]byte("gatehouse-migrate:" + schema.String))
	key := int64(h.Sum64())
	if _, err := c.Exec(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return nil, err
	}
	return func() {
		// A lost connection releases the lock by itself.
		_, _ = c.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, key)
	}, nil
}
