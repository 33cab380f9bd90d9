// Package postgres is the store.Store backend on PostgreSQL (pgx, pgxpool):
// one database shared by any number of Gatehouse processes.
//
// Open creates and migrates the schema (migrate.go, migrations/*.sql) in the
// first schema of the connection's search_path. Every realm-scoped table is
// keyed by the realm's immutable ID and cascades from realms; sessions and
// refresh tokens have a column per field, other records are the same JSON
// the bbolt backend writes, in a bytea column beside the key and index
// columns that queries use (an authorization code's use is a column of
// its own, so redeeming it is one conditional UPDATE).
//
// Concurrency is the database's: every write is one transaction that locks
// the rows it reads before deciding (SELECT ... FOR UPDATE), so the
// guarantees of the Store interface (one winner among concurrent
// rotations of a refresh token, no lost brute-force increments, the Knox
// per-user limit, single-use codes and nonces) hold across processes, not
// only goroutines. Commits are durable when they return: Open refuses a
// session with synchronous_commit off.
//
// The SQL is meant to run on CockroachDB as well (not run there; README,
// "CockroachDB: audited, not run", lists what was checked): no
// PostgreSQL-only types, transactions retried on serialization failures.
// The PostgreSQL-only features, LISTEN/NOTIFY of generations and an
// advisory lock around migrations, are skipped there: the per-request
// generation read carries correctness without notifications, and
// migrate.go says why migrations are still safe.
//
// A database that cannot be reached, is shutting down, is read-only (a
// standby) or is out of resources makes calls fail with errors wrapping
// store.ErrUnavailable, which the HTTP layers answer with 503; the pool
// reconnects by itself when the database is back.
package postgres
