package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatehouse/gatehouse/store"
)

// RunTests runs the conformance suite; newStore returns an empty store that
// the test may close. Cases are grouped by resource (t.Run(resource, ...)),
// each case on a fresh store, so `-run 'Conformance/sessions/'` selects one
// resource on any backend.
//
// Times written by the suite are truncated to the millisecond and compared
// with time.Time.Equal (go-cmp uses the Equal method), so a backend may
// round-trip them through JSON or a database column of millisecond or finer
// precision, in any time zone. Empty and nil maps and slices are equal.
// "Ordered by" a name means Go's bytewise string order ("Zeta" before
// "alpha") except where the interface says lower-cased (users).
func RunTests(t *testing.T, newStore func(t *testing.T) store.Store) {
	for _, r := range suite {
		t.Run(r.resource, func(t *testing.T) {
			for _, tc := range r.tests {
				t.Run(tc.name, func(t *testing.T) {
					s := newStore(t)
					t.Cleanup(func() { s.Close() })
					tc.fn(t, s)
				})
			}
		})
	}
}

// conformanceTest is one case: a behaviour of the store.Store interface.
type conformanceTest struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// suite lists the cases by resource; each resource's cases live in the
// file of that name.
var suite = []struct {
	resource string
	tests    []conformanceTest
}{
	{"realms", realmTests},
	{"records", recordTests},
	{"clients", clientTests},
	{"users", userTests},
	{"roles", roleTests},
	{"groups", groupTests},
	{"clientScopes", clientScopeTests},
	{"keys", keyTests},
	{"sessions", sessionTests},
	{"codes", codeTests},
	{"events", eventTests},
	{"identityProviders", idpTests},
	{"topologies", topologyTests},
	{"knox", knoxTests},
	{"loginFailures", failureTests},
	{"credentials", credentialTests},
	{"imports", importTests},
	{"generations", generationTests},
	{"authz", authzTests},
}

var ctx = context.Background()

var seq atomic.Int64

func id(prefix string) string {
	return fmt.Sprintf("%s-%06d", prefix, seq.Add(1))
}

// clock is the current time at the precision every backend must keep.
func clock() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

func mustRealm(t *testing.T, s store.Store, name string) store.Realm {
	t.Helper()
	r := store.Realm{ID: id("realm"), Name: name, Enabled: true, CreatedAt: clock()}
	if err := s.CreateRealm(ctx, r); err != nil {
		t.Fatal(err)
	}
	return r
}

// AtOnce runs fn(0) … fn(n-1) in goroutines released together (writers
// racing, as replicas sharing a database do) and returns their errors.
func AtOnce(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}

// wantGone reports every named lookup that did not fail with ErrNotFound.
func wantGone(t *testing.T, why string, lookups map[string]error) {
	t.Helper()
	for name, err := range lookups {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %s still there (err %v)", why, name, err)
		}
	}
}

// wantThere reports every named lookup that failed.
func wantThere(t *testing.T, why string, lookups map[string]error) {
	t.Helper()
	for name, err := range lookups {
		if err != nil {
			t.Errorf("%s: %s lost: %v", why, name, err)
		}
	}
}

func wantConflict(t *testing.T, err error, kind, field string) {
	t.Helper()
	var ce *store.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, store.ErrAlreadyExists) || ce.Kind != kind || ce.Field != field {
		t.Fatalf("got %v, want a %s conflict on %s", err, kind, field)
	}
}

var cmpOpts = []cmp.Option{cmpopts.EquateEmpty()}

func wantEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpOpts...); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

func errOf[T any](_ T, err error) error { return err }

// fill puts one of everything into a realm and returns the client, the user
// and the session's first refresh-token hash.
func fill(t *testing.T, s store.Store, realmID string) (store.Client, store.User, string) {
	t.Helper()
	c := store.Client{ID: id("client"), ClientID: "app", Enabled: true}
	must(t, s.CreateClient(ctx, realmID, c))
	u := store.User{ID: id("user"), Username: "alice", Email: "alice@example.com", Enabled: true}
	must(t, s.CreateUser(ctx, realmID, u))
	must(t, s.CreateRole(ctx, realmID, store.Role{ID: id("role"), Name: "reader"}))
	must(t, s.CreateRole(ctx, realmID, store.Role{ID: id("role"), Name: "viewer", ClientID: c.ID}))
	must(t, s.CreateKey(ctx, realmID, store.SigningKey{KID: id("kid"), Algorithm: "RS256", Status: store.KeyActive, CreatedAt: clock()}))
	sess, rt := newSession(c, u, time.Hour)
	must(t, s.CreateSession(ctx, realmID, sess, rt))
	must(t, s.RevokeAccessToken(ctx, realmID, "jti-"+realmID, clock().Add(time.Hour)))
	return c, u, rt.Hash
}

func newSession(c store.Client, u store.User, ttl time.Duration) (store.Session, store.RefreshToken) {
	return newSessionAt(c, u, clock(), ttl, ttl)
}

// newSessionAt makes a session ending at now+sessTTL with a first token
// ending at now+rtTTL.
func newSessionAt(c store.Client, u store.User, now time.Time, sessTTL, rtTTL time.Duration) (store.Session, store.RefreshToken) {
	sess := store.Session{ID: id("sess"), ClientID: c.ID, UserID: u.ID, Scope: "openid profile email",
		AuthTime: now, LastRefresh: now, ExpiresAt: now.Add(sessTTL)}
	return sess, refreshToken(sess, now, rtTTL)
}

func refreshToken(sess store.Session, now time.Time, ttl time.Duration) store.RefreshToken {
	return store.RefreshToken{Hash: id("hash"), SessionID: sess.ID, ClientID: sess.ClientID, UserID: sess.UserID,
		Scope: sess.Scope, IssuedAt: now, ExpiresAt: now.Add(ttl)}
}

// result holds a (value, error) pair for inline use: try(s.Get(...)).must(t).
type result[T any] struct {
	v   T
	err error
}

func try[T any](v T, err error) result[T] { return result[T]{v, err} }

// must returns the value, failing the test on the error.
func (r result[T]) must(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

// listed names each of xs, in order, as fmt prints a []string: the
// listings tests compare against.
func listed[T any](xs []T, name func(T) string) string {
	var out []string
	for _, x := range xs {
		out = append(out, name(x))
	}
	return fmt.Sprint(out)
}

// firstListed returns the first record of a listing; an empty one is an
// error.
func firstListed[T any](l []T, err error) (T, error) {
	if len(l) == 0 {
		var zero T
		return zero, fmt.Errorf("no %T listed: %v", zero, err)
	}
	return l[0], err
}
