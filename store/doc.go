// Package store owns persistence for Gatehouse: the record types that are
// written to disk and the Store interface every backend implements.
//
// Records are plain data. The rules that decide what a valid record is
// (name syntax, secret generation, password hashing, role resolution) live in
// package realms; a Store only guarantees uniqueness, atomicity and
// durability. Every sub-resource is addressed by the owning realm's immutable
// ID, so a realm that is deleted and re-created under the same name can never
// see the old realm's clients, users or tokens.
//
// The bbolt backend lives in store/bolt; store/storetest holds the
// conformance suite that every backend must pass unchanged.
package store
