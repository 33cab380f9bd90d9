package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/gatehouse/gatehouse/internal/metrics"
	"github.com/gatehouse/gatehouse/store"
)

// Options tunes the store. The zero value is sensible.
type Options struct {
	// MaxBatchDelay is how long a batched write waits for others to share
	// its commit (default 1 ms; bbolt's own 10 ms default halves throughput
	// at low concurrency).
	MaxBatchDelay time.Duration
	// MaxBatchSize caps a shared commit (default 64).
	MaxBatchSize int
	// Timeout bounds the wait for the file lock (default 1 s); past it, Open
	// fails with ErrLocked.
	Timeout time.Duration
	// Metrics receives each write commit's duration and how many writers
	// shared it; nil measures nothing.
	Metrics metrics.Recorder
}

// ErrLocked is Open's error when another process holds the store file.
var ErrLocked = errors.New("another process holds the store file (is another gatehouse serving this data directory?)")

// Store is the bbolt store.Store.
type Store struct {
	db       *bbolt.DB
	path     string
	readOnly bool
	commits  *commitMeter // nil without Options.Metrics
}

// ReadOnly reports whether the file could only be opened for reading.
func (s *Store) ReadOnly() bool { return s.readOnly }

var _ store.Store = (*Store)(nil)

var (
	bRealms       = []byte("realms")
	bRealmsByName = []byte("realms_by_name")
	// bRealmsByFold maps a lower-cased realm name to its realm ID: names
	// that differ only by case are one name. Only writes use it, so a
	// read-only store from an older version needs none.
	bRealmsByFold = []byte("realms_by_folded_name")
	bExp          = []byte("exp")
)

// Sub-buckets of every realm bucket.
var (
	bClients       = []byte("clients")
	bClientsByCID  = []byte("clients_by_clientid")
	bUsers         = []byte("users")
	bUsersByName   = []byte("users_by_name")
	bUsersByEmail  = []byte("users_by_email")
	bUsersBySA     = []byte("users_by_sa_client")
	bRoles         = []byte("roles")
	bRolesByName   = []byte("roles_by_name")
	bKeys          = []byte("keys")
	bSessions      = []byte("sessions")
	bSessByUser    = []byte("sessions_by_user")
	bSessByClient  = []byte("sessions_by_client")
	bRT            = []byte("rt")
	bRevokedJTI    = []byte("revoked_jti")
	realmSubBucket = [][]byte{bClients, bClientsByCID, bUsers, bUsersByName, bUsersByEmail, bUsersBySA,
		bRoles, bRolesByName, bKeys, bSessions, bSessByUser, bSessByClient, bRT, bRevokedJTI, bAdminEvents,
		bIDPs, bKnox, bKnoxByUser, bKnoxByMaker, bUsersByFed, bFailures,
		bAPIKeys, bAPIKeysByUser, bAccessKeys, bAccessKeysByUser, bNonces, bCodes, bDevice, bDeviceByUser,
		bGroups, bGroupsByName, bScopes, bScopesByName,
		bAzResources, bAzResByName, bAzResByOwner, bAzResByParent, bAzResByKey, bAzScopes, bAzScopesByName, bAzPolicies, bAzPolicyByName}
)

// bCodes holds authorization codes by hash.
var bCodes = []byte("auth_codes")

// bDevice holds device authorization requests by device-code hash and
// bDeviceByUser maps user codes to them.
var (
	bDevice       = []byte("device_codes")
	bDeviceByUser = []byte("device_codes_by_user_code")
)

// Open opens (creating if needed) the store file at path.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
	}
	bopts := &bbolt.Options{
		Timeout:        opts.Timeout,
		FreelistType:   bbolt.FreelistMapType,
		NoFreelistSync: true,
		// The mmap grows on demand; a small start keeps idle RSS low.
		InitialMmapSize: 8 << 20,
	}
	db, err := bbolt.Open(path, 0o600, bopts)
	if err != nil && (errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EACCES)) {
		// A read-only data directory still serves every read and token
		// verification; writes answer store.ErrUnavailable.
		ro := *bopts
		ro.ReadOnly = true
		if rdb, rerr := bbolt.Open(path, 0o600, &ro); rerr == nil {
			// Nothing can create the layout now, and every read path
			// assumes it.
			if err := rdb.View(checkLayout); err != nil {
				rdb.Close()
				return nil, fmt.Errorf("open %s read-only: %w", path, err)
			}
			return &Store{db: rdb, path: path, readOnly: true}, nil
		}
	}
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w: %w", path, ErrLocked, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.MaxBatchDelay = opts.MaxBatchDelay
	if db.MaxBatchDelay <= 0 {
		db.MaxBatchDelay = time.Millisecond
	}
	db.MaxBatchSize = opts.MaxBatchSize
	if db.MaxBatchSize <= 0 {
		db.MaxBatchSize = 64
	}
	if err := db.Update(initLayout); err != nil {
		db.Close()
		return nil, writeErr(err)
	}
	releaseMapping(db, path)
	st := &Store{db: db, path: path}
	if opts.Metrics != nil {
		st.commits = &commitMeter{m: opts.Metrics}
	}
	return st, nil
}

// topLevel are the buckets a new store starts with; reads assume they
// exist, and every realm bucket holds all of realmSubBucket.
var topLevel = [][]byte{bRealms, bRealmsByName, bRealmsByFold, bExp, bTopologies, bKnoxExp}

// The layout version is stored in bucket "meta" under "schema". Open writes
// it into a new file and refuses a file with any other version, or with
// buckets but no version (not a Gatehouse store, or one from a pre-release
// build), so a future layout change is one numbered migration at Open
// rather than fallbacks on every read.
var (
	bMeta     = []byte("meta")
	keySchema = []byte("schema")
)

// schemaVersion 2 binds gateway topologies to their realm's ID (version 1
// named the realm); upgrades lists the one-step upgrades Open applies.
const schemaVersion = "2"

var upgrades = map[string]func(*bbolt.Tx) error{"1": upgradeTopologiesToRealmIDs}

// initLayout creates the layout in a new (empty) file, or checks it,
// upgrading a file of the previous version first.
func initLayout(tx *bbolt.Tx) error {
	if meta := tx.Bucket(bMeta); meta != nil {
		if up := upgrades[string(meta.Get(keySchema))]; up != nil {
			if err := up(tx); err != nil {
				return fmt.Errorf("upgrade store schema: %w", err)
			}
			if err := meta.Put(keySchema, []byte(schemaVersion)); err != nil {
				return err
			}
		}
		if err := checkLayout(tx); err != nil {
			return err
		}
		return addRealmSubBuckets(tx)
	}
	if err := tx.ForEach(func([]byte, *bbolt.Bucket) error { return errNoSchema }); err != nil {
		return err
	}
	for _, b := range topLevel {
		if _, err := tx.CreateBucket(b); err != nil {
			return err
		}
	}
	meta, err := tx.CreateBucket(bMeta)
	if err != nil {
		return err
	}
	return meta.Put(keySchema, []byte(schemaVersion))
}

var errNoSchema = errors.New("no schema version: not a Gatehouse store, or one written by a pre-release build")

// addRealmSubBuckets gives the realms of an existing file the sub-buckets
// added to realmSubBucket since it was written (the authorization
// services' ones): they only add, so the layout version stays.
func addRealmSubBuckets(tx *bbolt.Tx) error {
	var realms [][]byte
	if err := tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
		if bytes.HasPrefix(name, []byte("realm/")) {
			realms = append(realms, append([]byte(nil), name...))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, name := range realms {
		rb := tx.Bucket(name)
		for _, sb := range realmSubBucket {
			if rb.Bucket(sb) == nil {
				if _, err := rb.CreateBucket(sb); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkLayout fails unless the file has this build's layout version.
func checkLayout(tx *bbolt.Tx) error {
	meta := tx.Bucket(bMeta)
	if meta == nil {
		return errNoSchema
	}
	if v := meta.Get(keySchema); string(v) != schemaVersion {
		if upgrades[string(v)] != nil {
			return fmt.Errorf("store schema version %q: this build reads version %s; open it once writable to upgrade it", v, schemaVersion)
		}
		return fmt.Errorf("store schema version %q: this build reads version %s", v, schemaVersion)
	}
	return nil
}

// upgradeTopologiesToRealmIDs binds each topology of a version-1 file, which
// named its realm, to that realm's ID. A topology whose realm no longer
// exists is kept unbound: it serves nothing, as before, and a realm created
// later under that name does not inherit it.
func upgradeTopologiesToRealmIDs(tx *bbolt.Tx) error {
	b := tx.Bucket(bTopologies)
	byName := tx.Bucket(bRealmsByName)
	type named struct {
		store.Topology
		Realm string `json:"realm"`
	}
	var tops []named
	if err := b.ForEach(func(k, v []byte) error {
		var t named
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("corrupt topology %q: %w", k, err)
		}
		tops = append(tops, t)
		return nil
	}); err != nil {
		return err
	}
	for _, t := range tops {
		if id := byName.Get([]byte(t.Realm)); id != nil && t.RealmID == "" {
			t.Topology.RealmID = string(id)
		}
		if err := putRow(b, t.Name, t.Topology); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Path is the store file.
func (s *Store) Path() string { return s.path }

// Backup writes a consistent copy of the whole store to w while it stays
// online (one read transaction).
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// writeErr marks errors that mean "cannot write now" with
// store.ErrUnavailable so callers answer 503 rather than 500.
func writeErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		errors.Is(err, syscall.EIO) || errors.Is(err, bolterrors.ErrDatabaseNotOpen) || errors.Is(err, bolterrors.ErrDatabaseReadOnly) {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	return err
}

func (s *Store) update(fn func(tx *bbolt.Tx) error) error {
	return writeErr(s.db.Update(s.commits.measure(fn)))
}

func (s *Store) batch(fn func(tx *bbolt.Tx) error) error {
	return writeErr(s.db.Batch(s.commits.measure(fn)))
}

// viewRealm, updateRealm and batchRealm run fn in a read, write or batched
// write transaction with realm realmID's bucket; an unknown realm is
// store.ErrNotFound. batchRealm's fn may run more than once (db.Batch).
func (s *Store) viewRealm(realmID string, fn func(*bbolt.Tx, *bbolt.Bucket) error) error {
	return s.db.View(func(tx *bbolt.Tx) error { return withRealm(tx, realmID, fn) })
}

func (s *Store) updateRealm(realmID string, fn func(*bbolt.Tx, *bbolt.Bucket) error) error {
	return s.update(func(tx *bbolt.Tx) error { return withRealm(tx, realmID, fn) })
}

func (s *Store) batchRealm(realmID string, fn func(*bbolt.Tx, *bbolt.Bucket) error) error {
	return s.batch(func(tx *bbolt.Tx) error { return withRealm(tx, realmID, fn) })
}

func withRealm(tx *bbolt.Tx, realmID string, fn func(*bbolt.Tx, *bbolt.Bucket) error) error {
	rb, err := realmBucket(tx, realmID)
	if err != nil {
		return err
	}
	return fn(tx, rb)
}

// realmBucket returns realm id's bucket or store.ErrNotFound.
func realmBucket(tx *bbolt.Tx, id string) (*bbolt.Bucket, error) {
	b := tx.Bucket([]byte("realm/" + id))
	if b == nil {
		return nil, store.ErrNotFound
	}
	return b, nil
}

// sub returns a sub-bucket of a realm bucket: CreateRealm makes every one of
// realmSubBucket, so it is always present.
func sub(rb *bbolt.Bucket, name []byte) *bbolt.Bucket { return rb.Bucket(name) }

// getRow decodes row key of b into v, in the form putRow wrote it.
func getRow(b *bbolt.Bucket, key string, v any) error {
	raw := b.Get([]byte(key))
	if raw == nil {
		return store.ErrNotFound
	}
	var err error
	switch x := v.(type) {
	case *store.Session:
		err = parseSession(raw, x)
	case *store.RefreshToken:
		err = parseRefreshToken(raw, x)
	default:
		err = json.Unmarshal(raw, v)
	}
	if err != nil {
		return fmt.Errorf("corrupt row %q: %w", key, err)
	}
	return nil
}

// deleteRow deletes row key of b, or is ErrNotFound.
func deleteRow(b *bbolt.Bucket, key string) error {
	if b.Get([]byte(key)) == nil {
		return store.ErrNotFound
	}
	return b.Delete([]byte(key))
}

// putRow stores v under key: sessions and refresh tokens in their binary
// form (codec.go), everything else as JSON.
func putRow(b *bbolt.Bucket, key string, v any) error {
	var raw []byte
	switch x := v.(type) {
	case store.Session:
		raw = appendSession(make([]byte, 0, 192), x)
	case store.RefreshToken:
		raw = appendRefreshToken(make([]byte, 0, 256), x)
	default:
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return err
		}
	}
	return b.Put([]byte(key), raw)
}

// idx joins index key parts with NUL, which no name may contain.
func idx(parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	out := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			out = append(out, 0)
		}
		out = append(out, p...)
	}
	return out
}

// Expiry index kinds.
const (
	kindRefresh = 'r'
	kindSession = 's'
	kindJTI     = 'j'
	kindCode    = 'c'
	kindDevice  = 'd'
)

// expKey orders by time first: be64(unix nanos) | realmID | 0 | kind | key.
func expKey(t time.Time, realmID string, kind byte, key string) []byte {
	out := make([]byte, 8, 8+len(realmID)+2+len(key))
	binary.BigEndian.PutUint64(out, uint64(t.UnixNano()))
	out = append(out, realmID...)
	out = append(out, 0, kind)
	return append(out, key...)
}

func parseExpKey(k []byte) (t time.Time, realmID string, kind byte, key string, ok bool) {
	if len(k) < 10 {
		return
	}
	t = time.Unix(0, int64(binary.BigEndian.Uint64(k[:8])))
	rest := k[8:]
	for i, c := range rest {
		if c == 0 && i+1 < len(rest) {
			return t, string(rest[:i]), rest[i+1], string(rest[i+2:]), true
		}
	}
	return
}

func ctxErr(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	return ctx.Err()
}

// prefixKeys collects the keys with a prefix (collected first: bbolt
// cursors must not be used across deletes).
func prefixKeys(b *bbolt.Bucket, prefix []byte) [][]byte {
	var out [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		out = append(out, append([]byte(nil), k...))
	}
	return out
}

// page applies store.Page to a running count: skip reports the item is
// before the window, full that the window is complete.
type pager struct {
	first, max, seen, taken int
}

func newPager(p store.Page) *pager {
	m := p.Max
	if m <= 0 {
		m = store.DefaultMax
	}
	f := p.First
	if f < 0 {
		f = 0
	}
	return &pager{first: f, max: m}
}

// take reports whether the next matching item belongs to the page.
func (p *pager) take() bool {
	p.seen++
	if p.seen <= p.first {
		return false
	}
	p.taken++
	return true
}

func (p *pager) full() bool { return p.taken >= p.max }

// Check verifies the file's page structure (bbolt's consistency check), for
// backups and restores.
func (s *Store) Check() error {
	return s.db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
}
