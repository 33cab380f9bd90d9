package bolt

import (
	"os"
	"syscall"

	bbolt "go.etcd.io/bbolt"
)

// releaseMapping drops the store's pages from this process's page tables
// after Open. With NoFreelistSync, opening rebuilds the freelist by walking
// every page, which left the whole file mapped: with many realms most of
// the server's idle RSS was the store read once at start-up. The
// mapping is shared and read-only, so MADV_DONTNEED only unmaps: the data
// stays in the file and the page cache, and pages come back on first use.
func releaseMapping(db *bbolt.DB, path string) {
	fi, err := os.Stat(path)
	if err != nil || fi.Size() == 0 {
		return
	}
	// bbolt maps at least the file's size. Advice only: nothing to do if
	// the kernel refuses it.
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, db.Info().Data, uintptr(fi.Size()), syscall.MADV_DONTNEED)
}
