package memory_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/memory"
	"github.com/gatehouse/gatehouse/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) store.Store { return memory.New() })
}

var ctx = context.Background()

func realm(t *testing.T, s store.Store) store.Realm {
	t.Helper()
	r := store.Realm{ID: "r1", Name: "demo", Enabled: true}
	if err := s.CreateRealm(ctx, r); err != nil {
		t.Fatal(err)
	}
	return r
}

// Concurrent updates of one record each apply once: an update whose record
// changed after it was copied runs again on the newer one, so none is
// lost.
func TestConcurrentUpdatesOfOneRecordAllApply(t *testing.T) {
	s := memory.New()
	r := realm(t, s)
	const n = 50
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.UpdateLoginFailure(ctx, r.ID, "user:u1", func(f *store.LoginFailure) error {
				f.NumFailures++
				return nil
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	f, err := s.GetLoginFailure(ctx, r.ID, "user:u1")
	if err != nil || f.NumFailures != n {
		t.Fatalf("NumFailures = %d, %v; want %d", f.NumFailures, err, n)
	}
}

// An update function runs outside the store's lock: one that reads the
// store (as service code may) finishes instead of deadlocking.
func TestUpdateFunctionMayReadTheStore(t *testing.T) {
	s := memory.New()
	r := realm(t, s)
	if err := s.CreateUser(ctx, r.ID, store.User{ID: "u1", Username: "alice"}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.UpdateUser(ctx, r.ID, "u1", func(u *store.User) error {
			other, err := s.GetRealmByID(ctx, r.ID)
			u.FirstName = other.Name
			return err
		})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("UpdateUser whose function reads the store did not return")
	}
	if u, _ := s.GetUser(ctx, r.ID, "u1"); u.FirstName != "demo" {
		t.Fatalf("update lost: %+v", u)
	}
}

// A closed store answers ErrUnavailable, so callers answer 503 as with a
// closed bbolt file.
func TestClosedStoreIsUnavailable(t *testing.T) {
	s := memory.New()
	r := realm(t, s)
	s.Close()
	if err := s.CreateUser(ctx, r.ID, store.User{ID: "u1", Username: "alice"}); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write after Close = %v", err)
	}
	if _, err := s.GetRealm(ctx, "demo"); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("read after Close = %v", err)
	}
}
