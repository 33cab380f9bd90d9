package realms

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/gatehouse/gatehouse/internal/bounded"
	"github.com/gatehouse/gatehouse/internal/metrics"
	"github.com/gatehouse/gatehouse/store"
)

// generations counts, per realm ID, the service's writes to clients, users,
// roles, groups and identity providers. Protocol caches (clients, service
// accounts, roles, groups, identity providers, token users and resolved
// roles) remember the generation they were filled at and are dropped when
// it moves, so a change made through the service is visible to the very
// next request. Writes must therefore go through the Service.
//
// On a store several replicas share (store.Generations), a realm's
// generation is the sum of this process's own writes and the newest
// database generation it has seen: both only grow, so the sum moves
// whenever either does, and the caches of every replica are dropped by
// another's write (see sync.go).
type generations struct {
	m sync.Map // realm ID -> *realmGen
}

type realmGen struct {
	local  atomic.Uint64 // this process's writes
	remote atomic.Uint64 // the newest database generation seen
}

func (g *generations) counter(realmID string) *realmGen {
	if c, ok := g.m.Load(realmID); ok {
		return c.(*realmGen)
	}
	c, _ := g.m.LoadOrStore(realmID, new(realmGen))
	return c.(*realmGen)
}

// DataGeneration is the realm's current write generation.
func (s *Service) DataGeneration(realmID string) uint64 {
	c := s.gens.counter(realmID)
	return c.local.Load() + c.remote.Load()
}

// changed records a write to the realm's clients, users or roles, and, on
// a shared store, announces it to the other replicas. It runs after the
// write committed, so a replica that sees the new generation reads the
// write too.
func (s *Service) changed(ctx context.Context, realmID string) {
	s.gens.counter(realmID).local.Add(1)
	s.bumpShared(ctx, realmID)
}

// cacheEntry is a value filled at a write generation.
type cacheEntry[T any] struct {
	gen uint64
	v   T
}

// genCache caches per-realm values until the realm's write generation moves.
// It only holds bounded populations (clients, their service accounts, roles,
// identity providers), never per-user data that could grow with millions of
// users: that goes in a perUserCache.
type genCache[T any] struct{ m sync.Map }

// getCached returns the cached value for key, or loads and caches it. The
// generation is read before loading, so a write racing with the load only
// costs a reload on the next call, never a stale hit.
func getCached[T any](s *Service, c *genCache[T], realmID, key string, load func() (T, error)) (T, error) {
	gen := s.DataGeneration(realmID)
	k := realmID + "\x00" + key
	if e, ok := c.m.Load(k); ok {
		if ce := e.(cacheEntry[T]); ce.gen == gen {
			s.metrics.CacheLookup(metrics.CacheRealmData, true)
			return ce.v, nil
		}
	}
	s.metrics.CacheLookup(metrics.CacheRealmData, false)
	v, err := load()
	if err != nil {
		return v, err
	}
	c.m.Store(k, cacheEntry[T]{gen: gen, v: v})
	return v, nil
}

// perUserCacheSize bounds each per-user cache (users for token grants, their
// resolved roles): a few hundred bytes an entry.
const perUserCacheSize = 16384

// boundedEntry is a per-user value filled at a realm write generation.
type boundedEntry[T any] struct {
	realmID string
	gen     uint64
	v       T
}

// perUserCache holds per-user values, whose population may be millions, in
// a bounded map; entries of an older generation go first when it is full.
type perUserCache[T any] = bounded.Map[string, boundedEntry[T]]

func newPerUserCache[T any](s *Service) *perUserCache[T] {
	return bounded.New[string](perUserCacheSize, func(e boundedEntry[T]) bool { return e.gen != s.DataGeneration(e.realmID) })
}

// getBounded is getCached for a perUserCache.
func getBounded[T any](s *Service, c *perUserCache[T], realmID, key string, load func() (T, error)) (T, error) {
	gen := s.DataGeneration(realmID)
	k := realmID + "\x00" + key
	e, ok := c.Get(k)
	hit := ok && e.gen == gen
	s.metrics.CacheLookup(metrics.CachePerUser, hit)
	if hit {
		return e.v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	c.Put(k, boundedEntry[T]{realmID: realmID, gen: gen, v: v})
	return v, nil
}

// TokenUser returns a user as token grants need it (refresh, introspection):
// everything but the credentials, which are never cached. It is served from
// a bounded cache until the realm's next write to its clients, users or
// roles (decoding the user record showed in refresh profiles).
func (s *Service) TokenUser(ctx context.Context, realmID, id string) (store.User, error) {
	return getBounded(s, s.users, realmID, id, func() (store.User, error) {
		u, err := s.store.GetUser(ctx, realmID, id)
		u.Credentials = nil
		return u, err
	})
}
