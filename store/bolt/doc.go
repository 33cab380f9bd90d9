// Package bolt is the embedded store.Store backend on bbolt: one file, one
// process, no server.
//
// Layout: top-level buckets "realms" (id → realm JSON), "realms_by_name"
// (name → id) and "exp" (a global expiry index the janitor scans in time
// order). Each realm owns a nested bucket "realm/<id>" holding all of its
// rows and secondary indexes, so deleting a realm is one DeleteBucket and no
// lookup can ever cross into another realm.
//
// Hot-path writes (session creation, refresh rotation, revocation) go through
// db.Batch so concurrent requests share one fsync'd commit.
package bolt
