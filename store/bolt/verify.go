package bolt

import (
	"fmt"
	"os"
	"time"

	"go.etcd.io/bbolt"
)

// Summary describes a verified store file.
type Summary struct {
	Buckets int // top-level buckets
	Realms  int
}

// Verify opens the store file at path read-only (it is not modified, not
// even upgraded) and runs bbolt's consistency check and the checks Open
// relies on. It is how a downloaded backup is accepted. Limit: bbolt
// walks the pages of a file without a synced freelist in its own goroutine
// and panics there on some corrupt page headers, which ends the process
// rather than returning an error; truncation, a broken meta page or a
// foreign file are errors.
func Verify(path string) (Summary, error) {
	db, err := bbolt.Open(path, 0o400, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return Summary{}, fmt.Errorf("open %s read-only: %w", path, err)
	}
	defer db.Close()
	fi, err := os.Stat(path)
	if err != nil {
		return Summary{}, err
	}
	var sum Summary
	err = db.View(func(tx *bbolt.Tx) error {
		// A page past the end of a short file faults when read through the
		// mapping (SIGBUS, which no recover catches): check the length the
		// meta page records before touching any other page.
		if tx.Size() > fi.Size() {
			return fmt.Errorf("truncated: %d bytes, the store says %d", fi.Size(), tx.Size())
		}
		var first error
		for err := range tx.Check() { // drained: the checker blocks until read
			if first == nil {
				first = err
			}
		}
		if first != nil {
			return first
		}
		if err := checkLayout(tx); err != nil {
			return err
		}
		sum.Realms = tx.Bucket(bRealms).Stats().KeyN
		return tx.ForEach(func([]byte, *bbolt.Bucket) error { sum.Buckets++; return nil })
	})
	return sum, err
}
