package realms

import (
	"sync"
	"sync/atomic"
)

// generations counts, per realm ID, the service's writes to clients, users
// and roles. Protocol caches (a client's record, a service account and its
// resolved roles) remember the generation they were filled at and are
// dropped when it moves, so a change made through the service is visible to
// the very next request. Writes must therefore go through the Service.
type generations struct {
	m sync.Map // realm ID -> *atomic.Uint64
}

func (g *generations) counter(realmID string) *atomic.Uint64 {
	if c, ok := g.m.Load(realmID); ok {
		return c.(*atomic.Uint64)
	}
	c, _ := g.m.LoadOrStore(realmID, new(atomic.Uint64))
	return c.(*atomic.Uint64)
}

// DataGeneration is the realm's current write generation.
func (s *Service) DataGeneration(realmID string) uint64 { return s.gens.counter(realmID).Load() }

// changed records a write to the realm's clients, users or roles.
func (s *Service) changed(realmID string) { s.gens.counter(realmID).Add(1) }

// cacheEntry is a value filled at a write generation.
type cacheEntry[T any] struct {
	gen uint64
	v   T
}

// genCache caches per-realm values until the realm's write generation moves.
// It only holds bounded populations (clients, their service accounts, roles),
// never per-user data that could grow with millions of users.
type genCache[T any] struct{ m sync.Map }

// get returns the cached value for key, or loads and caches it. The
// generation is read before loading, so a write racing with the load only
// costs a reload on the next call, never a stale hit.
func getCached[T any](s *Service, c *genCache[T], realmID, key string, load func() (T, error)) (T, error) {
	gen := s.DataGeneration(realmID)
	k := realmID + "\x00" + key
	if e, ok := c.m.Load(k); ok {
		if ce := e.(cacheEntry[T]); ce.gen == gen {
			return ce.v, nil
		}
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	c.m.Store(k, cacheEntry[T]{gen: gen, v: v})
	return v, nil
}
