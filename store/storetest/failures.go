package storetest

import (
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

// failureTests cover brute-force state.
var failureTests = []conformanceTest{
	{"LoginFailures", testLoginFailures},
}

func testLoginFailures(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	wantErr(t, errOf(s.GetLoginFailure(ctx, r.ID, "user:1")), store.ErrNotFound)
	for i := 1; i <= 3; i++ {
		f, err := s.UpdateLoginFailure(ctx, r.ID, "user:1", func(f *store.LoginFailure) error { f.NumFailures++; return nil })
		must(t, err)
		if f.NumFailures != i || f.Key != "user:1" {
			t.Fatalf("after %d: %+v", i, f)
		}
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = s.UpdateLoginFailure(ctx, r.ID, "user:1", func(f *store.LoginFailure) error { f.NumFailures++; return nil })
		}()
	}
	wg.Wait()
	if f, _ := s.GetLoginFailure(ctx, r.ID, "user:1"); f.NumFailures != 11 {
		t.Fatalf("concurrent increments lost: %d", f.NumFailures)
	}
	must(t, s.DeleteLoginFailure(ctx, r.ID, "user:1"))
	wantErr(t, s.DeleteLoginFailure(ctx, r.ID, "user:1"), store.ErrNotFound)

	// Client records are kept per client and remote address: listing one
	// client's prefix finds its addresses and nothing of a client whose ID
	// merely starts the same way.
	for _, k := range []string{"client:c1@10.0.0.2", "client:c1@10.0.0.1", "client:c10@10.0.0.1", "user:c1"} {
		_, err := s.UpdateLoginFailure(ctx, r.ID, k, func(f *store.LoginFailure) error { f.NumFailures++; return nil })
		must(t, err)
	}
	fs, err := s.ListLoginFailures(ctx, r.ID, "client:c1@")
	must(t, err)
	if len(fs) != 2 || fs[0].Key != "client:c1@10.0.0.1" || fs[1].Key != "client:c1@10.0.0.2" || fs[0].NumFailures != 1 {
		t.Fatalf("ListLoginFailures(client:c1@) = %+v", fs)
	}
	must(t, s.DeleteLoginFailure(ctx, r.ID, "client:c1@10.0.0.1"))
	if fs, _ := s.ListLoginFailures(ctx, r.ID, "client:c1@"); len(fs) != 1 || fs[0].Key != "client:c1@10.0.0.2" {
		t.Fatalf("after deleting one address: %+v", fs)
	}
	other := mustRealm(t, s, "other")
	if fs, err := s.ListLoginFailures(ctx, other.ID, "client:"); err != nil || len(fs) != 0 {
		t.Fatalf("another realm's list: %v %+v", err, fs)
	}

	// Pruning deletes what the predicate calls stale, under the prefix only.
	_, err = s.UpdateLoginFailure(ctx, r.ID, "client:c1@10.0.0.3", func(f *store.LoginFailure) error { f.NumFailures = 5; return nil })
	must(t, err)
	n, err := s.PruneLoginFailures(ctx, r.ID, "client:", func(f store.LoginFailure) bool { return f.NumFailures < 5 })
	must(t, err)
	if n != 2 { // client:c1@10.0.0.2 and client:c10@10.0.0.1
		t.Fatalf("pruned %d, want 2", n)
	}
	fs, err = s.ListLoginFailures(ctx, r.ID, "")
	must(t, err)
	if len(fs) != 2 || fs[0].Key != "client:c1@10.0.0.3" || fs[1].Key != "user:c1" {
		t.Fatalf("after pruning: %+v", fs)
	}
	if n, err := s.PruneLoginFailures(ctx, other.ID, "client:", func(store.LoginFailure) bool { return true }); err != nil || n != 0 {
		t.Fatalf("pruning an empty realm: %d %v", n, err)
	}
}
