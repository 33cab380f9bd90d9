package realms

import (
	"context"
	"errors"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/internal/metrics"
	"github.com/gatehouse/gatehouse/store"
)

// Service applies the domain rules on top of a store.Store. It is safe for
// concurrent use. All writes to realms and keys go through it so that its
// realm cache can be invalidated: in process for bbolt (the store's file
// lock means a single process owns the data), and across replicas through
// the realm's generation in a shared store (see sync.go).
type Service struct {
	store  store.Store
	sealer *Sealer
	now    func() time.Time
	// metrics is never nil (metrics.Nop by default).
	metrics metrics.Recorder

	mu     sync.RWMutex
	byName map[string]*RealmState
	// gen counts invalidations; a load that raced with one is not cached.
	gen uint64
	// listeners are told the name of every realm that changed.
	listeners []func(name string)

	// adminMu serializes changes that could take master's admin right
	// from its last holder (see guardMasterAdmins).
	adminMu sync.Mutex

	gens generations
	// shared is the store's generations when several replicas share it
	// (nil for bbolt); pendingBumps holds realm IDs whose bump failed.
	shared       store.Generations
	pendingBumps sync.Map
	// hashSlots bounds concurrent password hashes to the CPUs that can run
	// them: each argon2id hash holds 7 MiB, so 128 concurrent logins would
	// otherwise need almost a gigabyte, and beyond the CPU count extra
	// hashes only queue in the scheduler anyway. Waiting is back-pressure,
	// not failure.
	hashSlots chan struct{}
	// hashes counts password verifications, so tests can prove that every
	// login outcome costs the same work without timing anything.
	hashes atomic.Uint64
	// Hot-path caches, dropped by generation (see generation.go).
	clients         genCache[store.Client]
	serviceAccounts genCache[store.User]
	saRoles         genCache[resolvedRoles]
	roles           genCache[store.Role]
	groups          genCache[store.Group]
	clientsByID     genCache[store.Client]
	idps            genCache[[]store.IdentityProvider]
	clientScopes    genCache[[]store.ClientScope]
	tokenPlans      genCache[*TokenPlan]
	clientScopeSets genCache[clientScopeSet]
	// Resource servers' scopes and policies (authz*.go), by server.
	authzScopeLists  genCache[[]store.AuthzScope]
	authzPolicyLists genCache[[]store.AuthzPolicy]
	// authzResourceLists holds servers' resources up to
	// maxCachedResources each (authz_eval.go).
	authzResourceLists genCache[[]store.AuthzResource]
	// Per-user caches are bounded: unlike clients and roles, a realm may
	// hold millions of users.
	users     *perUserCache[store.User]
	userRoles *perUserCache[resolvedRoles]

	// events buffers login events until they are written in batches.
	events eventBuffer
}

// RealmState is an immutable snapshot of a realm and its key ring. A new
// snapshot replaces it whenever the realm or its keys change.
type RealmState struct {
	Realm store.Realm
	Keys  *KeyRing
}

// NewService returns a Service writing through st and sealing secrets and keys
// with sealer. now may be nil (time.Now).
func NewService(st store.Store, sealer *Sealer, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{store: st, sealer: sealer, now: now, byName: map[string]*RealmState{}, metrics: metrics.Nop{},
		hashSlots: make(chan struct{}, max(runtime.GOMAXPROCS(0), 1))}
	s.shared, _ = st.(store.Generations)
	s.users, s.userRoles = newPerUserCache[store.User](s), newPerUserCache[resolvedRoles](s)
	return s
}

// SetMetrics sends the service's measurements (logins, lockouts, cache
// lookups) to m, and makes m the Recorder that Metrics hands to the protocol
// layer. Call it before the service serves anything.
func (s *Service) SetMetrics(m metrics.Recorder) { s.metrics = metrics.OrNop(m) }

// Metrics is the Recorder set by SetMetrics (a no-op one by default).
func (s *Service) Metrics() metrics.Recorder { return s.metrics }

// Backuper is implemented by stores that can stream a consistent online
// copy of themselves (bbolt's Tx.WriteTo).
type Backuper interface {
	Backup(w io.Writer) (int64, error)
}

// Backuper returns the store's online backup, when the store has one.
func (s *Service) Backuper() (Backuper, bool) {
	b, ok := s.store.(Backuper)
	return b, ok
}

// Store returns the underlying store, for tests that arrange or inspect
// state. Handlers go through the service's methods: writes there move the
// realm's write generation that caches and replicas follow.
func (s *Service) Store() store.Store { return s.store }

// Sealer returns the sealer that protects secrets and keys.
func (s *Service) Sealer() *Sealer { return s.sealer }

// Now returns the service clock.
func (s *Service) Now() time.Time { return s.now() }

// OnRealmChange registers fn to be called (synchronously) after a realm is
// updated, deleted or re-keyed. Protocol caches use it to drop stale state.
func (s *Service) OnRealmChange(fn func(name string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listeners = append(s.listeners, fn)
}

// Realm returns the current snapshot of the realm named name, loading it once
// and then serving it from memory until it changes.
func (s *Service) Realm(ctx context.Context, name string) (*RealmState, error) {
	if err := s.syncRealm(ctx, name); err != nil {
		return nil, err
	}
	s.mu.RLock()
	st, ok := s.byName[name]
	gen := s.gen
	s.mu.RUnlock()
	s.metrics.CacheLookup(metrics.CacheRealm, ok)
	if ok {
		return st, nil
	}
	r, err := s.store.GetRealm(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrRealmNotFound
	}
	if err != nil {
		return nil, err
	}
	// A realm stored before a setting existed gets Keycloak's default for
	// it (a zero offline idle timeout would end offline sessions at once).
	ApplyRealmDefaults(&r)
	keys, err := s.loadKeyRing(ctx, r)
	if err != nil {
		return nil, err
	}
	st = &RealmState{Realm: r, Keys: keys}
	s.mu.Lock()
	// A writer that invalidated after our read makes our copy possibly stale:
	// serve it to this caller but do not cache it.
	if s.gen == gen {
		s.byName[name] = st
	}
	s.mu.Unlock()
	return st, nil
}

// invalidate drops cached state for the named realms and notifies listeners.
func (s *Service) invalidate(names ...string) {
	s.mu.Lock()
	s.gen++
	for _, n := range names {
		delete(s.byName, n)
	}
	ls := append([]func(string){}, s.listeners...)
	s.mu.Unlock()
	for _, n := range names {
		for _, fn := range ls {
			fn(n)
		}
	}
}

func (s *Service) realmID(ctx context.Context, name string) (string, error) {
	st, err := s.Realm(ctx, name)
	if err != nil {
		return "", err
	}
	return st.Realm.ID, nil
}

func notFoundAs(err, as error) error {
	if errors.Is(err, store.ErrNotFound) {
		return as
	}
	return err
}

// hashing runs fn holding one of the password-hash slots.
func (s *Service) hashing(fn func()) {
	s.hashSlots <- struct{}{}
	defer func() { <-s.hashSlots }()
	s.hashes.Add(1)
	fn()
}
