package admin_test

import (
	"math/rand/v2"
	"net/url"
	"sync"
	"testing"
	"time"
)

// progress lets a test wait for its load instead of sleeping: the load's
// goroutines signal after each request, without ever blocking.
type progress chan struct{}

func newProgress() progress { return make(progress, 1) }

func (p progress) done() {
	select {
	case p <- struct{}{}:
	default:
	}
}

// await returns once cond holds, checked after each request of the load; a
// load that stops making progress fails the test instead of hanging it.
func (p progress) await(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for !cond() {
		select {
		case <-p:
		case <-deadline:
			t.Fatalf("still waiting for %s after 30 s", what)
		}
	}
}

// runLoad runs step(worker) over and over in n goroutines until the
// returned stop is called; stop returns once they have all finished.
func runLoad(n int, step func(worker int)) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-quit:
					return
				default:
				}
				step(i)
			}
		}()
	}
	return func() {
		close(quit)
		wg.Wait()
	}
}

// No token request ever succeeds with a secret older than the last
// acknowledged regeneration, while regenerations and token requests race.
func TestSecretRegenerationRace(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	id, first := e.createClient("demo", e.admin, map[string]any{"clientId": "app", "serviceAccountsEnabled": true})

	type gen struct {
		secret     string
		replacedAt time.Time // zero while current
	}
	var mu sync.Mutex
	gens := []*gen{{secret: first}}
	var violations, successes, stale, sinceRegen int
	var lastRegen time.Time
	prog := newProgress()
	stop := runLoad(4, func(int) {
		mu.Lock()
		g := gens[rand.IntN(len(gens))]
		mu.Unlock()
		start := time.Now()
		s, _ := e.serviceToken("demo", "app", g.secret)
		mu.Lock()
		replaced := !g.replacedAt.IsZero() && start.After(g.replacedAt)
		if replaced {
			stale++
		}
		if s == 200 {
			successes++
			if replaced {
				violations++
			}
		}
		if start.After(lastRegen) {
			sinceRegen++
		}
		mu.Unlock()
		prog.done()
	})
	for range 15 {
		var regen map[string]string
		e.must(200, "POST", "/admin/realms/demo/clients/"+id+"/client-secret", e.admin, nil).json(t, &regen)
		now := time.Now()
		mu.Lock()
		gens[len(gens)-1].replacedAt = now
		gens = append(gens, &gen{secret: regen["value"]})
		lastRegen, sinceRegen = now, 0
		mu.Unlock()
		// Let the load try the new state before the next regeneration.
		prog.await(t, "a token request after a regeneration", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return sinceRegen > 0
		})
	}
	stop()
	if violations > 0 {
		t.Fatalf("%d token requests succeeded with a secret replaced before they started", violations)
	}
	if successes == 0 || stale == 0 {
		t.Fatalf("%d requests succeeded, %d tried a replaced secret: the test proves nothing", successes, stale)
	}
}

// After a realm deletion is acknowledged, no token is issued for it.
func TestRealmDeletionUnderLoad(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "doomed", "enabled": true})
	_, secret := e.createClient("doomed", e.admin, map[string]any{"clientId": "app", "serviceAccountsEnabled": true, "directAccessGrantsEnabled": true})
	e.must(201, "POST", "/admin/realms/doomed/users", e.admin, map[string]any{"username": "alice", "enabled": true,
		"credentials": []map[string]any{{"value": "pw-Alice-1"}}})
	var mu sync.Mutex
	var deletedAt time.Time
	var late, early, after int
	prog := newProgress()
	stop := runLoad(4, func(i int) {
		start := time.Now()
		var s int
		if i%2 == 0 {
			s, _ = e.serviceToken("doomed", "app", secret)
		} else {
			s, _ = e.tokenRequest("doomed", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"pw-Alice-1"}}, "app", secret)
		}
		mu.Lock()
		gone := !deletedAt.IsZero() && start.After(deletedAt)
		if gone {
			after++
		}
		if s == 200 {
			if gone {
				late++
			} else {
				early++
			}
		}
		mu.Unlock()
		prog.done()
	})
	prog.await(t, "tokens before the deletion", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return early >= 4
	})
	e.must(204, "DELETE", "/admin/realms/doomed", e.admin, nil)
	mu.Lock()
	deletedAt = time.Now()
	mu.Unlock()
	// The check below needs requests that started after the deletion.
	prog.await(t, "requests after the deletion", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return after >= 8
	})
	stop()
	if late > 0 {
		t.Fatalf("%d tokens issued for a realm after its deletion was acknowledged", late)
	}
	if early == 0 {
		t.Fatal("no token before the deletion: the test proves nothing")
	}
}
