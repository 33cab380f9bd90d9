//go:build !linux

package bolt

import bbolt "go.etcd.io/bbolt"

// releaseMapping is Linux-only (see release_linux.go).
func releaseMapping(*bbolt.DB, string) {}
