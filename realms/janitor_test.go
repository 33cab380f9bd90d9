package realms

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// testClock is a settable service clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// janitorFixture is a service whose clock stands years before the wall
// clock, with one session and refresh token expiring a minute after it and
// one managed Knox token expiring at the same time.
type janitorFixture struct {
	svc     *Service
	clock   *testClock
	t0      time.Time
	realmID string
	session string
	knox    string
}

func newJanitorFixture(t *testing.T) janitorFixture {
	t.Helper()
	st := openTestStore(t)
	sealer := zeroSealer()
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := &testClock{t: t0}
	svc := NewService(st, sealer, clock.now)
	ctx := context.Background()
	r, err := svc.CreateRealm(ctx, store.Realm{Name: "demo", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := svc.CreateClient(ctx, "demo", NewClient{Client: store.Client{ClientID: "app", Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.CreateUser(ctx, "demo", NewUser{User: store.User{Username: "alice", Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	exp := t0.Add(time.Minute)
	sess := store.Session{ID: NewID(), ClientID: c.ID, UserID: u.ID, AuthTime: t0, LastRefresh: t0, ExpiresAt: exp}
	rt := store.RefreshToken{Hash: "00" + NewID(), SessionID: sess.ID, ClientID: c.ID, UserID: u.ID, IssuedAt: t0, ExpiresAt: exp}
	if err := st.CreateSession(ctx, r.ID, sess, rt); err != nil {
		t.Fatal(err)
	}
	kt := store.KnoxToken{ID: NewID(), Username: "alice", CreatedBy: "alice", IssuedAt: t0, ExpiresAt: exp, Enabled: true}
	if err := st.CreateKnoxToken(ctx, r.ID, kt, store.KnoxTokenLimit{}); err != nil {
		t.Fatal(err)
	}
	return janitorFixture{svc: svc, clock: clock, t0: t0, realmID: r.ID, session: sess.ID, knox: kt.ID}
}

func (f janitorFixture) sessionExists(t *testing.T) bool {
	t.Helper()
	_, err := f.svc.Store().GetSession(context.Background(), f.realmID, f.session)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func (f janitorFixture) knoxExists(t *testing.T) bool {
	t.Helper()
	_, err := f.svc.Store().GetKnoxToken(context.Background(), f.realmID, f.knox)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// Expiry is judged by the service clock, not the wall clock (by which every
// row here expired years ago), and Knox tokens get their eviction grace.
func TestDeleteExpiredFollowsServiceClock(t *testing.T) {
	f := newJanitorFixture(t)
	ctx := context.Background()
	for _, step := range []struct {
		name          string
		at            time.Duration
		session, knox bool
	}{
		{"before expiry", 30 * time.Second, true, true},
		{"expired, knox in its grace", 10 * time.Minute, false, true},
		{"knox past its grace", 25 * time.Hour, false, false},
	} {
		f.clock.set(f.t0.Add(step.at))
		if _, err := f.svc.DeleteExpired(ctx); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if got := f.sessionExists(t); got != step.session {
			t.Errorf("%s: session exists = %v, want %v", step.name, got, step.session)
		}
		if got := f.knoxExists(t); got != step.knox {
			t.Errorf("%s: knox token exists = %v, want %v", step.name, got, step.knox)
		}
	}
}

// The janitor sweeps on its ticks, and Close returns only once a sweep in
// progress is done, so the server can close the store right after it.
func TestJanitorCloseWaitsForSweep(t *testing.T) {
	f := newJanitorFixture(t)
	f.clock.set(f.t0.Add(10 * time.Minute))
	var logs bytes.Buffer
	ticks := make(chan time.Time)
	stopped := false
	j := f.svc.startJanitor(ticks, func() { stopped = true }, slog.New(slog.NewTextHandler(&logs, nil)))
	ticks <- f.clock.now()
	j.Close()
	if f.sessionExists(t) {
		t.Fatal("Close returned before the sweep deleted the expired session")
	}
	if !stopped {
		t.Fatal("the janitor's ticker was not stopped")
	}
	if logs.Len() != 0 {
		t.Fatalf("janitor logged: %s", logs.String())
	}
	j.Close() // a second Close is harmless
}

func TestJanitorWithoutIntervalStartsNothing(t *testing.T) {
	f := newJanitorFixture(t)
	j := f.svc.StartJanitor(0, slog.New(slog.DiscardHandler))
	j.Close()
	if !f.sessionExists(t) {
		t.Fatal("a disabled janitor deleted rows")
	}
}
