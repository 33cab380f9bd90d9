package bolt_test

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/metrics"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/bolt"
	"github.com/gatehouse/gatehouse/store/storetest"
)

// commitLog records StoreCommit calls.
type commitLog struct {
	metrics.Nop
	mu      sync.Mutex
	commits []int
}

func (c *commitLog) StoreCommit(_ time.Duration, writers int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.commits = append(c.commits, writers)
}

// Batched writers that share a commit are reported once with their count,
// and every write is counted in exactly one commit.
func TestStoreReportsCommitsWithTheirWriters(t *testing.T) {
	log := &commitLog{}
	s, err := bolt.Open(filepath.Join(t.TempDir(), "gatehouse.db"), bolt.Options{
		Timeout: lockTimeout, MaxBatchDelay: 50 * time.Millisecond, Metrics: log})
	must(t, err)
	defer s.Close()
	r := storetest.Seed(t, s)
	log.mu.Lock()
	seeded := len(log.commits)
	log.commits = nil
	log.mu.Unlock()
	if seeded == 0 {
		t.Fatal("seeding wrote without a reported commit")
	}
	const writers = 16
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			must(t, s.AppendAdminEvent(ctx, r.ID, store.AdminEvent{ID: string(rune('a' + i)), Time: time.Unix(int64(i), 0)}))
		})
	}
	wg.Wait()
	log.mu.Lock()
	defer log.mu.Unlock()
	total, shared := 0, false
	for _, n := range log.commits {
		total += n
		shared = shared || n > 1
	}
	if total != writers {
		t.Errorf("commits %v count %d writers, want %d", log.commits, total, writers)
	}
	if !shared {
		t.Errorf("no commit was shared by batched writers: %v", log.commits)
	}
}
