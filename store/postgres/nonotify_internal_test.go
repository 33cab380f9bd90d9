package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/postgres/pgtest"
)

// CockroachDB has no LISTEN/NOTIFY, so there the store bumps generations
// with a plain upsert and does not listen (noNotify, set when version()
// names CockroachDB). Run here on PostgreSQL with the flag forced: a
// replica taking that path still moves the generation every other replica
// reads before trusting its caches, which is what keeps replicas in
// agreement, while a listening replica hears nothing of its bumps.
func TestNoNotifyPathGenerationsStillAdvance(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	open := func() *Store {
		s, err := Open(ctx, u, Options{MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	listening, quiet := open(), open()
	quiet.noNotify = true
	if err := listening.CreateRealm(ctx, store.Realm{ID: "r1", Name: "demo"}); err != nil {
		t.Fatal(err)
	}

	heard := make(chan uint64, 16)
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		_ = listening.ListenGenerations(lctx, func(_ string, gen uint64) { heard <- gen })
	}()
	if err := quiet.ListenGenerations(ctx, func(string, uint64) { t.Error("the no-NOTIFY path heard a notification") }); err != nil {
		t.Fatalf("ListenGenerations on the no-NOTIFY path: %v, want it to return at once", err)
	}
	// next is the next generation heard other than skip (which a listener
	// may hear twice: announced, and read back when it connects).
	next := func(skip uint64) uint64 {
		for {
			select {
			case gen := <-heard:
				if gen != skip {
					return gen
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no announcement heard")
			}
		}
	}
	// A notifying bump, heard: from here on the listener is listening.
	if err := listening.BumpGeneration(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	if gen := next(0); gen != 1 {
		t.Fatalf("first generation heard: %d, want 1", gen)
	}

	for want := uint64(2); want <= 4; want++ {
		if err := quiet.BumpGeneration(ctx, "r1"); err != nil {
			t.Fatal(err)
		}
		for _, s := range []*Store{listening, quiet} {
			if id, gen, err := s.RealmGeneration(ctx, "demo"); err != nil || id != "r1" || gen != want {
				t.Fatalf("generation after bump %d: %q %d %v", want, id, gen, err)
			}
		}
	}
	// The next announcement is the next notifying bump's: the quiet bumps
	// announced nothing, and only the generation read saw them.
	if err := listening.BumpGeneration(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	if gen := next(1); gen != 5 {
		t.Errorf("announcement after the quiet bumps: generation %d, want 5", gen)
	}
}
