package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/postgres"
	"github.com/gatehouse/gatehouse/store/postgres/pgtest"
	"github.com/gatehouse/gatehouse/store/storetest"
)

var ctx = context.Background()

func open(t testing.TB, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newStore opens a store on a fresh schema, closed when the test ends.
func newStore(t testing.TB) *postgres.Store {
	t.Helper()
	s := open(t, pgtest.URL(t))
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPostgresConformance(t *testing.T) {
	pgtest.Require(t)
	storetest.RunTests(t, func(t *testing.T) store.Store {
		return open(t, pgtest.URL(t))
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func errOf[T any](_ T, err error) error { return err }

var _ = errors.Is
