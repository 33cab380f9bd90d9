package postgres_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/postgres/pgtest"
	"github.com/gatehouse/gatehouse/store/storetest"
)

// A realm's generation starts at 0, each bump by any replica advances it,
// and a listening replica hears every bump: announced while it listens,
// read back when its connection returns after one that broke while it
// was away.
func TestPostgresGenerationsAnnouncedAndMadeUpAfterReconnect(t *testing.T) {
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	writer := open(t, u.String())
	t.Cleanup(func() { writer.Close() })
	proxy := pgtest.StartProxy(t, u.Host)
	u.Host = proxy.Addr
	listener := open(t, u.String())
	t.Cleanup(func() { listener.Close() })

	if _, _, err := writer.RealmGeneration(ctx, "demo"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("generation of a missing realm: %v, want ErrNotFound", err)
	}
	storetest.Seed(t, writer)
	if id, gen, err := writer.RealmGeneration(ctx, "demo"); err != nil || id != "r1" || gen != 0 {
		t.Fatalf("generation before any bump = %q %d %v, want r1 0", id, gen, err)
	}
	must(t, writer.BumpGeneration(ctx, "r1"))

	type heard struct {
		id  string
		gen uint64
	}
	got := make(chan heard, 16)
	lctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- listener.ListenGenerations(lctx, func(id string, gen uint64) { got <- heard{id, gen} })
	}()
	defer func() {
		stop()
		<-done
	}()
	expect := func(what string, gen uint64) {
		t.Helper()
		select {
		case h := <-got:
			if h != (heard{"r1", gen}) {
				t.Fatalf("%s: heard %+v, want r1 at %d", what, h, gen)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: nothing heard", what)
		}
	}
	expect("the generation read when listening starts", 1)
	must(t, writer.BumpGeneration(ctx, "r1"))
	expect("a bump announced", 2)

	proxy.Stop()
	must(t, writer.BumpGeneration(ctx, "r1"))
	proxy.Restart(t)
	expect("a bump made while the listener was disconnected", 3)
	if id, gen, err := writer.RealmGeneration(ctx, "demo"); err != nil || id != "r1" || gen != 3 {
		t.Errorf("generation after three bumps = %q %d %v, want r1 3", id, gen, err)
	}
}

// The read every request makes before serving a realm from a replica's
// caches (see BENCHMARKS.md).
func BenchmarkRealmGeneration(b *testing.B) {
	s := open(b, pgtest.URL(b))
	defer s.Close()
	storetest.Seed(b, s)
	must(b, s.BumpGeneration(ctx, "r1"))
	for b.Loop() {
		if _, _, err := s.RealmGeneration(ctx, "demo"); err != nil {
			b.Fatal(err)
		}
	}
}
