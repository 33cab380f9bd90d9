package realms

import (
	"context"
	"errors"
	"sync"

	"github.com/gatehouse/gatehouse/store"
)

// Replicas sharing a database agree through each realm's generation there
// (store.Generations): every write made through a Service bumps it after
// committing, and a Service checks it before serving a realm from its
// caches. The check is one read of one small row per realm per request
// (WithRequestScope), which is what makes a change made on one replica
// hold on every replica's next request: a notification alone could arrive
// after that request. FollowReplicas adds the notifications, which drop a
// changed realm's caches at once rather than on its next request.

// requestScope remembers the realms checked during one request.
type requestScope struct {
	mu     sync.Mutex
	synced map[string]bool
}

type requestScopeKey struct{}

// WithRequestScope marks ctx as one request's: a shared store's realm
// generation is then read once per realm for the whole request, not at
// each of the request's realm lookups. Without it, every lookup reads it.
func WithRequestScope(ctx context.Context) context.Context {
	return context.WithValue(ctx, requestScopeKey{}, &requestScope{synced: map[string]bool{}})
}

// syncRealm drops the cached state of the realm named name when another
// replica changed it since this process last looked. It does nothing on a
// store only this process opens.
func (s *Service) syncRealm(ctx context.Context, name string) error {
	if s.shared == nil {
		return nil
	}
	sc, _ := ctx.Value(requestScopeKey{}).(*requestScope)
	if sc != nil {
		sc.mu.Lock()
		done := sc.synced[name]
		sc.mu.Unlock()
		if done {
			return nil
		}
	}
	id, gen, err := s.shared.RealmGeneration(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		// Deleted or renamed by another replica.
		s.dropCached(name, "")
		return ErrRealmNotFound
	}
	if err != nil {
		return err
	}
	if _, ok := s.pendingBumps.LoadAndDelete(id); ok {
		s.bumpShared(ctx, id)
	}
	// Another realm under this name (renamed or re-created elsewhere).
	s.dropCached(name, id)
	s.observe(id, gen)
	if sc != nil {
		sc.mu.Lock()
		sc.synced[name] = true
		sc.mu.Unlock()
	}
	return nil
}

// observe records that the database's generation of the realm is gen and,
// when that is news, drops the realm's snapshot (its settings and keys);
// the moved generation drops its other caches.
func (s *Service) observe(realmID string, gen uint64) {
	c := s.gens.counter(realmID)
	for {
		old := c.remote.Load()
		if gen <= old {
			return
		}
		if c.remote.CompareAndSwap(old, gen) {
			break
		}
	}
	s.mu.RLock()
	var names []string
	for n, st := range s.byName {
		if st.Realm.ID == realmID {
			names = append(names, n)
		}
	}
	s.mu.RUnlock()
	if len(names) > 0 {
		s.invalidate(names...)
	}
}

// dropCached drops the cached realm named name unless its ID is keepID.
func (s *Service) dropCached(name, keepID string) {
	s.mu.RLock()
	st, ok := s.byName[name]
	s.mu.RUnlock()
	if ok && st.Realm.ID != keepID {
		s.invalidate(name)
	}
}

// bumpShared advances the realm's generation in a shared store. The write
// it follows has committed, so a request cancelled meanwhile still bumps;
// a bump that fails (the database went away) is retried by the next
// request of this process for the realm.
func (s *Service) bumpShared(ctx context.Context, realmID string) {
	if s.shared == nil {
		return
	}
	if err := s.shared.BumpGeneration(context.WithoutCancel(ctx), realmID); err != nil {
		s.pendingBumps.Store(realmID, struct{}{})
	}
}

// FollowReplicas listens for the generations other replicas announce and
// drops the caches of each realm they changed, until ctx ends. It returns
// at once on a store only this process opens.
func (s *Service) FollowReplicas(ctx context.Context) error {
	if s.shared == nil {
		return nil
	}
	return s.shared.ListenGenerations(ctx, s.observe)
}
