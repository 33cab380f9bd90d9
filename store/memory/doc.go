// Package memory is a store.Store that keeps everything in process memory:
// maps behind one sync.RWMutex, gone when the process ends.
//
// It exists so tests of the layers above the store (realms, oidc, admin)
// need no database file each; it passes the store/storetest conformance
// suite unchanged, with bbolt's error semantics (the same ErrNotFound,
// ConflictError kinds and fields, ErrTokenReused and ErrTokenExpired
// answers). Tests about durability, backups or the file itself use
// store/bolt.
//
// Records are copied on the way in and on the way out (a deep copy of maps,
// slices and pointers), so neither a caller mutating what it passed nor one
// mutating what it got back changes what is stored. Each stored record is
// replaced, never changed in place: an Update method runs its function on a
// copy outside the lock and commits only if the record is still the one it
// copied, else runs it again on the newer one (the store.Store contract
// allows the rerun). So a function that reads the store cannot deadlock,
// and a slow one does not hold up other writers.
//
// The serve command does not offer it: a server that loses every realm at
// exit is not a deployment.
package memory
