// Package bolt is the embedded store.Store backend on bbolt: one file, one
// process, no server.
//
// Layout: top-level buckets "meta" (the layout's schema version, checked at
// Open), "realms" (id → realm JSON), "realms_by_name" (name → id),
// "realms_by_folded_name" (lower-cased name → id, so names differing only by
// case conflict) and "exp" (a global expiry index the janitor scans in time
// order). Each realm owns a nested bucket "realm/<id>" holding all of its
// rows and secondary indexes, every one created with the realm, so deleting
// a realm is one DeleteBucket and no lookup can ever cross into another
// realm. Sub-buckets added to the layout later (the authorization
// services' ones) are created in the realms of an existing file at Open,
// so the layout version stays.
//
// Hot-path writes (session creation, refresh rotation, revocation) go through
// db.Batch so concurrent requests share one fsync'd commit.
//
// DeleteRealm leaves the realm's rows in the global expiry index; the janitor
// (DeleteExpired) drops rows whose realm bucket is gone, which keeps realm
// deletion independent of the number of tokens in other realms.
//
// Writes that cannot happen now (closed store, read-only file system, full
// disk) wrap store.ErrUnavailable. Open falls back to a read-only store when
// the file cannot be opened for writing. A row that does not decode is an
// error for its reader, never a panic.
package bolt
