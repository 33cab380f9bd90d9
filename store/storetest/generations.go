package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// generationTests cover store.Generations, which only stores shared by
// several processes implement; other backends skip them.
var generationTests = []conformanceTest{
	{"GenerationsFollowTheRealmAndAreMadeUpOnListen", testGenerations},
}

func testGenerations(t *testing.T, s store.Store) {
	g, ok := s.(store.Generations)
	if !ok {
		t.Skipf("%T is opened by one process only: it keeps no generations", s)
	}
	wantErr(t, errOf2(g.RealmGeneration(ctx, "demo")), store.ErrNotFound)
	r := mustRealm(t, s, "demo")
	gen := func(name string) uint64 {
		t.Helper()
		id, n, err := g.RealmGeneration(ctx, name)
		must(t, err)
		if id != r.ID {
			t.Fatalf("generation of %q belongs to %q, want %q", name, id, r.ID)
		}
		return n
	}
	if n := gen("demo"); n != 0 {
		t.Fatalf("generation before any bump = %d", n)
	}
	must(t, g.BumpGeneration(ctx, r.ID))
	must(t, g.BumpGeneration(ctx, r.ID))
	if n := gen("demo"); n != 2 {
		t.Fatalf("generation after two bumps = %d", n)
	}
	// The generation is the realm's (by ID): a rename keeps it.
	must(t, errOf(s.UpdateRealm(ctx, r.ID, func(x *store.Realm) error { x.Name = "renamed"; return nil })))
	if n := gen("renamed"); n != 2 {
		t.Fatalf("generation after rename = %d", n)
	}
	wantErr(t, errOf2(g.RealmGeneration(ctx, "demo")), store.ErrNotFound)

	// A listener starts from every realm's current generation.
	lctx, stop := context.WithCancel(ctx)
	heard := make(chan uint64, 16)
	done := make(chan error, 1)
	go func() {
		done <- g.ListenGenerations(lctx, func(id string, n uint64) {
			if id == r.ID {
				heard <- n
			}
		})
	}()
	select {
	case n := <-heard:
		if n != 2 {
			t.Errorf("listener started from generation %d, want 2", n)
		}
	case err := <-done:
		t.Errorf("ListenGenerations returned before reporting: %v", err)
	case <-time.After(10 * time.Second):
		t.Error("the listener reported nothing")
	}
	stop()
	<-done

	must(t, s.DeleteRealm(ctx, r.ID))
	wantErr(t, errOf2(g.RealmGeneration(ctx, "renamed")), store.ErrNotFound)
}

func errOf2[A, B any](_ A, _ B, err error) error { return err }
