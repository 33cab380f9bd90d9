package memory

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// Store is the in-memory store.Store. The zero value is not usable; call
// New.
type Store struct {
	mu     sync.RWMutex
	closed bool
	realms map[string]*realm // by ID
	// byName maps realm names to IDs; byFold lower-cased names, so that
	// names differing only by case are one name.
	byName, byFold map[string]string
	topologies     map[string]*store.Topology
}

var _ store.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{
		realms: map[string]*realm{}, byName: map[string]string{}, byFold: map[string]string{},
		topologies: map[string]*store.Topology{},
	}
}

// realm holds one realm's records. Every map value is a pointer to a
// record that is never changed once stored (writes store a new one), which
// is what an update compares to know that nobody wrote meanwhile.
type realm struct {
	rec *store.Realm

	clients      map[string]*store.Client
	clientsByCID map[string]string

	users        map[string]*store.User
	usersByName  map[string]string // lower-cased username
	usersByEmail map[string]string // lower-cased email
	usersBySA    map[string]string // service-account client ID
	usersByFed   map[[2]string]string

	roles       map[string]*store.Role
	rolesByName map[[2]string]string // (client ID, name)

	groups       map[string]*store.Group
	groupsByName map[[2]string]string // (parent ID, name)

	scopes       map[string]*store.ClientScope
	scopesByName map[string]string

	keys map[string]*store.SigningKey

	sessions map[string]*store.Session
	tokens   map[string]*store.RefreshToken
	revoked  map[string]time.Time // jti -> exp
	nonces   map[string]time.Time

	codes        map[string]*store.AuthCode
	devices      map[string]*store.DeviceCode
	deviceByUser map[string]string

	adminEvents []store.AdminEvent // by (time, ID)
	loginEvents []store.LoginEvent // by (time, ID)

	idps       map[string]*store.IdentityProvider
	knox       map[string]*store.KnoxToken
	failures   map[string]*store.LoginFailure
	apiKeys    map[string]*store.APIKey
	accessKeys map[string]*store.AccessKey

	// Authorization services (authz.go).
	azResources      map[string]*store.AuthzResource
	azResByName      map[[2]string]string // (server ID, name)
	azResByKey       map[string]string    // access-key hash
	azScopes         map[string]*store.AuthzScope
	azScopesByName   map[[2]string]string
	azPolicies       map[string]*store.AuthzPolicy
	azPoliciesByName map[[2]string]string
}

func newRealm(r store.Realm) *realm {
	return &realm{
		rec:     ptr(r),
		clients: map[string]*store.Client{}, clientsByCID: map[string]string{},
		users: map[string]*store.User{}, usersByName: map[string]string{}, usersByEmail: map[string]string{},
		usersBySA: map[string]string{}, usersByFed: map[[2]string]string{},
		roles: map[string]*store.Role{}, rolesByName: map[[2]string]string{},
		groups: map[string]*store.Group{}, groupsByName: map[[2]string]string{},
		scopes: map[string]*store.ClientScope{}, scopesByName: map[string]string{},
		keys:     map[string]*store.SigningKey{},
		sessions: map[string]*store.Session{}, tokens: map[string]*store.RefreshToken{},
		revoked: map[string]time.Time{}, nonces: map[string]time.Time{},
		codes: map[string]*store.AuthCode{}, devices: map[string]*store.DeviceCode{}, deviceByUser: map[string]string{},
		idps: map[string]*store.IdentityProvider{}, knox: map[string]*store.KnoxToken{},
		failures: map[string]*store.LoginFailure{}, apiKeys: map[string]*store.APIKey{},
		accessKeys:  map[string]*store.AccessKey{},
		azResources: map[string]*store.AuthzResource{}, azResByName: map[[2]string]string{}, azResByKey: map[string]string{},
		azScopes: map[string]*store.AuthzScope{}, azScopesByName: map[[2]string]string{},
		azPolicies: map[string]*store.AuthzPolicy{}, azPoliciesByName: map[[2]string]string{},
	}
}

// Close makes every later call fail with store.ErrUnavailable.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

var errClosed = fmt.Errorf("%w: memory store closed", store.ErrUnavailable)

func ctxErr(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	return ctx.Err()
}

// global and globalRead run fn under the write or the read lock, failing
// once the store is closed.
func (s *Store) global(ctx context.Context, fn func() error) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	return fn()
}

func (s *Store) globalRead(fn func() error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed
	}
	return fn()
}

// read runs fn under the read lock with realm realmID (ErrNotFound when
// there is none).
func (s *Store) read(realmID string, fn func(*realm) error) error {
	return s.globalRead(func() error { return s.withRealm(realmID, fn) })
}

// write runs fn under the write lock with realm realmID. fn checks
// everything before it changes anything: an error leaves the store as it
// was.
func (s *Store) write(ctx context.Context, realmID string, fn func(*realm) error) error {
	return s.global(ctx, func() error { return s.withRealm(realmID, fn) })
}

func (s *Store) withRealm(realmID string, fn func(*realm) error) error {
	r := s.realms[realmID]
	if r == nil {
		return store.ErrNotFound
	}
	return fn(r)
}

// get reads one record of realm realmID through load and returns a copy.
func get[T any](s *Store, realmID string, load func(*realm) (*T, error)) (T, error) {
	var out T
	err := s.read(realmID, func(r *realm) error {
		v, err := load(r)
		if err == nil {
			out = clone(*v)
		}
		return err
	})
	return out, err
}

// lookup returns m[key] or ErrNotFound.
func lookup[T any](m map[string]*T, key string) (*T, error) {
	if v := m[key]; v != nil {
		return v, nil
	}
	return nil, store.ErrNotFound
}

// byIndex follows an index to a record, or ErrNotFound.
func byIndex[K comparable, T any](index map[K]string, rows map[string]*T, key K) (*T, error) {
	id, ok := index[key]
	if !ok {
		return nil, store.ErrNotFound
	}
	return lookup(rows, id)
}

// modify is every Update method: fn runs on a copy of the current record
// outside the lock, and the result is committed through save only if the
// record is still the one copied; otherwise fn runs again on the newer
// record. load answering (nil, nil) hands fn the zero value (a record
// created by its first update). save checks before it changes anything.
func modify[T any](s *Store, ctx context.Context, realmID string, load func(*realm) (*T, error),
	fn func(*T) error, save func(r *realm, old, updated *T) error) (T, error) {
	var zero T
	for {
		var cur *T
		var curRealm *realm
		var v T
		err := s.read(realmID, func(r *realm) error {
			var err error
			if cur, err = load(r); err == nil && cur != nil {
				v = clone(*cur)
			}
			curRealm = r
			return err
		})
		if err != nil {
			return zero, err
		}
		if err := fn(&v); err != nil {
			return zero, err
		}
		retry := false
		var out T
		err = s.write(ctx, realmID, func(r *realm) error {
			now, err := load(r)
			if r != curRealm || err != nil || now != cur {
				retry = true
				return nil
			}
			stored := clone(v)
			if err := save(r, cur, &stored); err != nil {
				return err
			}
			out = clone(stored)
			return nil
		})
		if err != nil {
			return zero, err
		}
		if !retry {
			return out, nil
		}
	}
}

func ptr[T any](v T) *T {
	c := clone(v)
	return &c
}

// list copies the records of m that keep accepts, in the order less
// gives.
func list[T any](m map[string]*T, keep func(*T) bool, less func(a, b *T) bool) []T {
	rows := make([]*T, 0, len(m))
	for _, v := range m {
		if keep == nil || keep(v) {
			rows = append(rows, v)
		}
	}
	sort.Slice(rows, func(i, j int) bool { return less(rows[i], rows[j]) })
	out := make([]T, len(rows))
	for i, v := range rows {
		out[i] = clone(*v)
	}
	return out
}

// window applies a store.Page to an ordered list.
func window[T any](xs []T, p store.Page) []T {
	first, max := p.First, p.Max
	if first < 0 {
		first = 0
	}
	if max <= 0 {
		max = store.DefaultMax
	}
	if first >= len(xs) {
		return nil
	}
	xs = xs[first:]
	if len(xs) > max {
		xs = xs[:max]
	}
	return xs
}

func lower(s string) string { return strings.ToLower(s) }

// clone deep-copies a record: maps, slices and pointers are copied, so the
// copy shares nothing mutable with v. Unexported fields (those of
// time.Time) are copied as values.
func clone[T any](v T) T {
	var out T
	deepCopy(reflect.ValueOf(&out).Elem(), reflect.ValueOf(&v).Elem())
	return out
}

func deepCopy(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Struct:
		dst.Set(src)
		t := src.Type()
		for i := range src.NumField() {
			if t.Field(i).IsExported() {
				deepCopy(dst.Field(i), src.Field(i))
			}
		}
	case reflect.Map:
		if src.IsNil() {
			dst.Set(reflect.Zero(src.Type()))
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		it := src.MapRange()
		for it.Next() {
			v := reflect.New(src.Type().Elem()).Elem()
			deepCopy(v, it.Value())
			m.SetMapIndex(it.Key(), v)
		}
		dst.Set(m)
	case reflect.Slice:
		if src.IsNil() {
			dst.Set(reflect.Zero(src.Type()))
			return
		}
		out := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		switch src.Type().Elem().Kind() {
		case reflect.Struct, reflect.Map, reflect.Slice, reflect.Pointer, reflect.Interface:
			for i := range src.Len() {
				deepCopy(out.Index(i), src.Index(i))
			}
		default:
			reflect.Copy(out, src)
		}
		dst.Set(out)
	case reflect.Pointer:
		if src.IsNil() {
			dst.Set(reflect.Zero(src.Type()))
			return
		}
		p := reflect.New(src.Type().Elem())
		deepCopy(p.Elem(), src.Elem())
		dst.Set(p)
	default:
		dst.Set(src)
	}
}
