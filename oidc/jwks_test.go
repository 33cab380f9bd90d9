package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// jwksServer serves one ES256 key as kid "k1" (or fails with status when
// non-zero), counting requests; gate, when set, holds every answer until
// closed.
type jwksServer struct {
	*httptest.Server
	hits    atomic.Int64
	status  atomic.Int64
	entered chan struct{}
	gate    chan struct{}
}

func newJWKSServer(t *testing.T, gate chan struct{}) *jwksServer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	js := &jwksServer{entered: make(chan struct{}, 100), gate: gate}
	js.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		js.hits.Add(1)
		js.entered <- struct{}{}
		if js.gate != nil {
			<-js.gate
		}
		if st := js.status.Load(); st != 0 {
			w.WriteHeader(int(st))
			return
		}
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	}))
	t.Cleanup(js.Close)
	return js
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Concurrent lookups of an uncached provider share one fetch.
func TestJWKSSingleFlight(t *testing.T) {
	gate := make(chan struct{})
	js := newJWKSServer(t, gate)
	clock := &testClock{t: time.Unix(1_800_000_000, 0)}
	c := newJWKSCache(clock.now)
	const callers = 16
	var started, done sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			started.Done()
			_, err := c.key(context.Background(), js.URL, "k1", "ES256")
			errs <- err
		}()
	}
	started.Wait()
	<-js.entered
	close(gate)
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := js.hits.Load(); n != 1 {
		t.Errorf("%d concurrent lookups made %d fetches, want 1", callers, n)
	}
}

// A failed fetch is remembered for jwksFailureTTL: anonymous requests
// presenting tokens cannot make the server fetch on every call.
func TestJWKSFailureCachedBriefly(t *testing.T) {
	js := newJWKSServer(t, nil)
	js.status.Store(http.StatusInternalServerError)
	clock := &testClock{t: time.Unix(1_800_000_000, 0)}
	c := newJWKSCache(clock.now)
	lookup := func() error {
		_, err := c.key(context.Background(), js.URL, "k1", "ES256")
		return err
	}
	if err := lookup(); err == nil || errors.Is(err, errJWKSRemembered) {
		t.Fatalf("first lookup: %v, want a fetch failure", err)
	}
	// Remembered failures say so, so that they are not logged again.
	for range 4 {
		if err := lookup(); !errors.Is(err, errJWKSRemembered) {
			t.Fatalf("repeated lookup: %v, want the remembered failure", err)
		}
	}
	clock.advance(jwksFailureTTL - time.Second)
	if lookup() == nil || js.hits.Load() != 1 {
		t.Fatalf("within the failure TTL: %d fetches, want 1", js.hits.Load())
	}
	js.status.Store(0)
	clock.advance(2 * time.Second)
	if err := lookup(); err != nil || js.hits.Load() != 2 {
		t.Fatalf("after the failure TTL: %v, %d fetches, want a key from the second fetch", err, js.hits.Load())
	}
	// Unknown kids refetch at most once per jwksRefetchGap.
	for range 5 {
		if _, err := c.key(context.Background(), js.URL, "forged", "ES256"); err == nil {
			t.Fatal("unknown kid gave a key")
		}
	}
	if n := js.hits.Load(); n != 2 {
		t.Errorf("unknown kids within the refetch gap: %d fetches, want 2", n)
	}
}

// Fetches give up after the timeout, and never follow a redirect to another
// host.
func TestJWKSTimeoutAndRedirects(t *testing.T) {
	stuck := newJWKSServer(t, make(chan struct{}))
	t.Cleanup(func() { close(stuck.gate) })
	clock := &testClock{t: time.Unix(1_800_000_000, 0)}
	c := newJWKSCache(clock.now)
	c.timeout = 50 * time.Millisecond
	if _, err := c.key(context.Background(), stuck.URL, "k1", "ES256"); err == nil {
		t.Error("a JWKS that never answers gave a key")
	}

	target := newJWKSServer(t, nil)
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	t.Cleanup(redirect.Close)
	if _, err := c.key(context.Background(), redirect.URL, "k1", "ES256"); err == nil || target.hits.Load() != 0 {
		t.Errorf("redirect to another host followed: %v, %d fetches there", err, target.hits.Load())
	}
}
