// Package bounded is a concurrent map with a fixed maximum size, for caches
// of per-token or per-user values whose population is unbounded: it makes
// room by dropping stale entries first and then an arbitrary half (Go's
// map order is random), which bounds memory without bookkeeping on reads.
package bounded

import "sync"

// Map holds at most Max entries. Stale, when set, marks entries that may
// be dropped first when the map is full. The zero value is not usable;
// call New.
type Map[K comparable, V any] struct {
	mu    sync.RWMutex
	m     map[K]V
	max   int
	stale func(V) bool
}

// New returns a map of at most limit entries (at least 2).
func New[K comparable, V any](limit int, stale func(V) bool) *Map[K, V] {
	return &Map[K, V]{m: map[K]V{}, max: max(limit, 2), stale: stale}
}

// Get returns the value stored for k.
func (b *Map[K, V]) Get(k K) (V, bool) {
	b.mu.RLock()
	v, ok := b.m[k]
	b.mu.RUnlock()
	return v, ok
}

// Put stores v for k, making room first when the map is full.
func (b *Map[K, V]) Put(k K, v V) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m[k]; !ok && len(b.m) >= b.max {
		if b.stale != nil {
			for key, val := range b.m {
				if b.stale(val) {
					delete(b.m, key)
				}
			}
		}
		for key := range b.m {
			if len(b.m) < b.max/2 {
				break
			}
			delete(b.m, key)
		}
	}
	b.m[k] = v
}

// Len is the number of entries.
func (b *Map[K, V]) Len() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.m)
}
