package bolt

import (
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/internal/metrics"
)

// commitMeter measures write transactions for metrics. db.Batch runs many
// writers' functions in one transaction, so a transaction's first function
// starts its clock and the ones that follow count as writers sharing it; the
// commit hook reports them once the commit (and its fsync) is done. bbolt
// runs one write transaction at a time, so one slot is enough; holding the
// transaction pointer keeps its address from being reused by a later one.
type commitMeter struct {
	m       metrics.Recorder
	mu      sync.Mutex
	tx      *bbolt.Tx
	start   time.Time
	writers int
}

// measure wraps fn to count it towards its transaction. A nil meter
// returns fn unchanged, so a store without metrics pays nothing.
func (c *commitMeter) measure(fn func(*bbolt.Tx) error) func(*bbolt.Tx) error {
	if c == nil {
		return fn
	}
	return func(tx *bbolt.Tx) error {
		c.mu.Lock()
		if c.tx != tx {
			c.tx, c.start, c.writers = tx, time.Now(), 0
			tx.OnCommit(func() { c.committed(tx) })
		}
		c.writers++
		c.mu.Unlock()
		err := fn(tx)
		if err != nil {
			// The transaction rolls back (db.Batch retries the others in a
			// new one): nothing to report.
			c.mu.Lock()
			if c.tx == tx {
				c.tx = nil
			}
			c.mu.Unlock()
		}
		return err
	}
}

func (c *commitMeter) committed(tx *bbolt.Tx) {
	c.mu.Lock()
	if c.tx != tx {
		c.mu.Unlock()
		return
	}
	d, n := time.Since(c.start), c.writers
	c.tx = nil
	c.mu.Unlock()
	c.m.StoreCommit(d, n)
}
