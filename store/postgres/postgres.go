package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/store"
)

// Options tunes the store. The zero value is sensible.
type Options struct {
	// MaxConns caps the connection pool (default: pgxpool's, the larger of
	// 4 and the number of CPUs; a pool_max_conns URL parameter also works).
	MaxConns int32
	// ConnectTimeout bounds one connection attempt when the URL sets no
	// connect_timeout (default 5 s), so a database that went away makes
	// requests fail with store.ErrUnavailable instead of hanging.
	ConnectTimeout time.Duration
}

// Store is the PostgreSQL store.Store.
type Store struct {
	pool   *pgxpool.Pool
	closed atomic.Bool
	// noNotify is set on CockroachDB, which has no LISTEN/NOTIFY: replicas
	// there rely on the per-request generation check alone.
	noNotify bool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (postgres://...), creates or
// migrates the schema, and returns the store. The schema is the first of
// the connection's search_path (a search_path URL parameter selects one).
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parse error may quote the URL, password included.
		return nil, errors.New("postgres: invalid connection URL")
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		timeout := opts.ConnectTimeout
		if timeout <= 0 {
			timeout = 5 * time.Second
		}
		cfg.ConnConfig.ConnectTimeout = timeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate schema: %w", s.err(err))
	}
	return s, nil
}

// Close closes the pool; later calls answer store.ErrUnavailable.
func (s *Store) Close() error {
	if s.closed.CompareAndSwap(false, true) {
		s.pool.Close()
	}
	return nil
}

// Ping reports whether the database answers (readiness checks).
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return errUnavailable(errors.New("store closed"))
	}
	return s.err(s.pool.Ping(ctx))
}

// querier is what both the pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// db is the pool, or an error when the store is closed.
func (s *Store) db() (querier, error) {
	if s.closed.Load() {
		return nil, errUnavailable(errors.New("store closed"))
	}
	return s.pool, nil
}

// maxAttempts bounds the retries of a transaction the database aborted to
// keep transactions serializable (CockroachDB does this routinely) or to
// break a deadlock.
const maxAttempts = 5

// tx runs fn in a read-committed transaction (serializable on CockroachDB,
// which has no weaker level), committing when it returns nil. fn may run
// more than once, as the store.Store contract allows for Update functions.
func (s *Store) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	if s.closed.Load() {
		return errUnavailable(errors.New("store closed"))
	}
	var err error
	for range maxAttempts {
		err = pgx.BeginFunc(ctx, s.pool, fn)
		if !retryable(err) || ctx.Err() != nil {
			break
		}
	}
	return s.err(err)
}

func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// err maps driver errors to the store's: no row is store.ErrNotFound, a
// missing parent row (a realm or session deleted meanwhile) too, and a
// database that cannot be reached or cannot write wraps
// store.ErrUnavailable so callers answer 503.
func (s *Store) err(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return store.ErrNotFound
	case errors.Is(err, store.ErrUnavailable):
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23503": // foreign_key_violation
			return store.ErrNotFound
		case pe.Code == "57P01", pe.Code == "57P02": // the server is shutting down or crashed
			s.connectionsLost()
			return errUnavailable(err)
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"), // insufficient resources: disk full, too many connections
			pe.Code == "57P03",               // starting up
			pe.Code == "25006":               // read-only transaction: a standby, or a primary demoted by failover
			return errUnavailable(err)
		}
		return err
	}
	if connectionLost(err) {
		s.connectionsLost()
		return errUnavailable(err)
	}
	if pgconn.Timeout(err) || s.closed.Load() || strings.Contains(err.Error(), "closed pool") {
		return errUnavailable(err)
	}
	return err
}

// connectionLost reports a connection that failed or broke under a query:
// refused, reset, closed.
func connectionLost(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || (errors.As(err, &ne) && !ne.Timeout()) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// connectionsLost drops every pooled connection once one turned out broken:
// a database restart or a network cut breaks them all, and a stale idle
// connection would fail a request after the database is back.
func (s *Store) connectionsLost() {
	if !s.closed.Load() {
		s.pool.Reset()
	}
}

func errUnavailable(err error) error { return fmt.Errorf("%w: %v", store.ErrUnavailable, err) }

// conflicts names the ConflictError each unique constraint of a write
// stands for.
type conflicts map[string]*store.ConflictError

// conflict turns a unique violation of a known constraint into its
// ConflictError; any other error is returned unchanged.
func conflict(err error, m conflicts) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		if ce, ok := m[pe.ConstraintName]; ok {
			return ce
		}
	}
	return err
}

// storable reports whether a key can be a text column value: PostgreSQL
// text holds neither NUL nor invalid UTF-8. Names are validated before they
// are written, so a key that is not storable is one that is not stored:
// lookups answer store.ErrNotFound without asking the database (which would
// fail the query).
func storable(keys ...string) bool {
	for _, k := range keys {
		if strings.IndexByte(k, 0) >= 0 || !utf8.ValidString(k) {
			return false
		}
	}
	return true
}

// errUnstorable is returned by writes of such keys.
func errUnstorable(keys ...string) error {
	return fmt.Errorf("store: key %q contains NUL or invalid UTF-8", keys)
}

func ctxErr(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	return ctx.Err()
}

// encode and decode are the JSON of records kept in data columns (the
// bbolt backend's encoding of the same records).
func encode(v any) ([]byte, error) { return json.Marshal(v) }

func decode(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("corrupt row: %w", err)
	}
	return nil
}

// getData reads one data column into v.
func getData(ctx context.Context, q querier, v any, sql string, args ...any) error {
	var raw []byte
	if err := q.QueryRow(ctx, sql, args...).Scan(&raw); err != nil {
		return err
	}
	return decode(raw, v)
}

// listData reads the data column of every row into a slice.
func listData[T any](ctx context.Context, q querier, sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var v T
		if err := decode(raw, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// stmt is one statement of a pipelined transaction.
type stmt struct {
	sql  string
	args []any
}

// Round trips to the database are most of what a store call costs the
// process (pprof of the refresh grant on PostgreSQL: socket system calls
// and the wake-ups around them), so writes are pipelined: pgx sends a
// batch of statements at once and reads their results after.

// exec runs one statement in its own implicit transaction: one round trip
// where BEGIN, the statement and COMMIT would take three. Errors are the
// driver's (the caller maps its conflicts), retried like tx's.
func (s *Store) exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if s.closed.Load() {
		return pgconn.CommandTag{}, errUnavailable(errors.New("store closed"))
	}
	var tag pgconn.CommandTag
	var err error
	for range maxAttempts {
		tag, err = s.pool.Exec(ctx, sql, args...)
		if !retryable(err) || ctx.Err() != nil {
			break
		}
	}
	return tag, err
}

// pipeline runs the statements as one transaction in one round trip
// (BEGIN, the statements and COMMIT sent together) and reports the first
// that failed, by index (-1: none, or the commit). Errors are the
// driver's, for the caller to map.
func (s *Store) pipeline(ctx context.Context, stmts ...stmt) (int, error) {
	var i int
	err := s.onConn(ctx, func(c *pgxpool.Conn) error {
		var err error
		i, err = sendTx(ctx, c, true, stmts, true)
		return err
	})
	return i, err
}

// onConn runs fn on one pooled connection, retrying it like tx. A
// transaction fn leaves open (it failed half-way) is rolled back, so the
// connection goes back to the pool clean (the pool would otherwise discard
// it).
func (s *Store) onConn(ctx context.Context, fn func(*pgxpool.Conn) error) error {
	if s.closed.Load() {
		return errUnavailable(errors.New("store closed"))
	}
	var err error
	for range maxAttempts {
		err = func() error {
			c, err := s.pool.Acquire(ctx)
			if err != nil {
				return err
			}
			defer c.Release()
			err = fn(c)
			if c.Conn().PgConn().TxStatus() != 'I' && !c.Conn().IsClosed() {
				_, _ = c.Exec(ctx, "ROLLBACK")
			}
			return err
		}()
		if !retryable(err) || ctx.Err() != nil {
			break
		}
	}
	return err
}

// sendTx sends stmts in one round trip, preceded by BEGIN and followed by
// COMMIT as asked, and reports the first statement that failed (-1: none,
// or BEGIN or COMMIT failed). After a failure the server skips the rest of
// the batch and the transaction stays open for onConn to roll back.
func sendTx(ctx context.Context, c *pgxpool.Conn, begin bool, stmts []stmt, commit bool) (int, error) {
	b := &pgx.Batch{}
	if begin {
		b.Queue("BEGIN")
	}
	for _, st := range stmts {
		b.Queue(st.sql, st.args...)
	}
	if commit {
		b.Queue("COMMIT")
	}
	br := c.SendBatch(ctx, b)
	defer br.Close()
	if begin {
		if _, err := br.Exec(); err != nil {
			return -1, err
		}
	}
	for i := range stmts {
		if _, err := br.Exec(); err != nil {
			return i, err
		}
	}
	if commit {
		if _, err := br.Exec(); err != nil {
			return -1, err
		}
	}
	return -1, br.Close()
}

// window is store.Page as OFFSET and LIMIT.
func window(p store.Page) (offset, limit int) {
	limit = p.Max
	if limit <= 0 {
		limit = store.DefaultMax
	}
	return max(p.First, 0), limit
}

// realmExists distinguishes an empty listing from an unknown realm, which
// every backend reports as store.ErrNotFound; it runs only when a listing
// came back empty.
func realmExists(ctx context.Context, q querier, realmID string) error {
	if !storable(realmID) {
		return store.ErrNotFound
	}
	var one int
	return q.QueryRow(ctx, `SELECT 1 FROM realms WHERE id = $1`, realmID).Scan(&one)
}

// emptyOrMissing returns the listing, or ErrNotFound when it is empty
// because the realm does not exist.
func emptyOrMissing[T any](ctx context.Context, s *Store, q querier, realmID string, out []T, err error) ([]T, error) {
	if err == nil && len(out) == 0 {
		err = realmExists(ctx, q, realmID)
	}
	if err != nil {
		return nil, s.err(err)
	}
	return out, nil
}

// ts is a time for a nullable timestamptz column: the zero time is NULL.
func ts(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

// timeOf reads such a column back, in UTC as the JSON rows are.
func timeOf(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// nullIfEmpty stores an empty optional key as NULL, so it is never unique.
func nullIfEmpty(s string) pgtype.Text { return pgtype.Text{String: s, Valid: s != ""} }
