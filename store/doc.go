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
// The backends are store/bolt (bbolt, the default), store/postgres (shared
// by several replicas) and store/memory (in process, for tests);
// store/storetest holds the conformance suite, by resource, that every
// backend must pass unchanged.
//
// A write that spans several records (a realm with its contents, a client
// with its service account, on creation or when an update enables it, a
// realm update with its new key, a key rotation) is one Store method and one transaction in every backend, so a
// failure part way leaves nothing to undo.
package store
