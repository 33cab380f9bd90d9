package realms

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

func (f janitorFixture) enableEvents(t *testing.T, c store.EventsConfig) store.Realm {
	t.Helper()
	r, err := f.svc.SetEventsConfig(context.Background(), "demo", c)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f janitorFixture) storedEvents(t *testing.T) []store.LoginEvent {
	t.Helper()
	got, err := f.svc.Store().ListLoginEvents(context.Background(), f.realmID, store.LoginEventQuery{Page: store.Page{Max: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Recording only buffers: nothing is written until a flush, a read through
// the service writes the buffer first, and the janitor deletes events past
// the realm's expiration by the service clock.
func TestLoginEventsBufferedFlushedAndExpired(t *testing.T) {
	f := newJanitorFixture(t)
	ctx := context.Background()
	r := f.enableEvents(t, store.EventsConfig{Enabled: true, ExpirationSeconds: 3600})
	f.svc.RecordEvent(r, store.LoginEvent{Type: EventLogin, UserID: "u1"})
	if got := f.storedEvents(t); len(got) != 0 {
		t.Fatalf("recording wrote at once: %v", got)
	}
	got, err := f.svc.LoginEvents(ctx, r, store.LoginEventQuery{})
	if err != nil || len(got) != 1 || got[0].ID == "" || !got[0].Time.Equal(f.t0) {
		t.Fatalf("read after record: %v %v", got, err)
	}
	f.clock.set(f.t0.Add(30 * time.Minute))
	f.svc.RecordEvent(r, store.LoginEvent{Type: EventLogin, UserID: "u2"})
	f.clock.set(f.t0.Add(time.Hour + time.Second))
	if _, err := f.svc.DeleteExpired(ctx); err != nil {
		t.Fatal(err)
	}
	got = f.storedEvents(t)
	if len(got) != 1 || got[0].UserID != "u2" {
		t.Errorf("after expiry of the first: %v", got)
	}
	// A realm without expiration keeps its events.
	r = f.enableEvents(t, store.EventsConfig{Enabled: true})
	f.clock.set(f.t0.Add(1000 * time.Hour))
	if _, err := f.svc.DeleteExpired(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.storedEvents(t); len(got) != 1 {
		t.Errorf("no expiration: %v", got)
	}
	if err := f.svc.ClearLoginEvents(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got := f.storedEvents(t); len(got) != 0 {
		t.Errorf("after clear: %v", got)
	}
}

// The realm's settings decide what is recorded.
func TestRecordEventFollowsTheRealm(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  store.EventsConfig
		typ  string
		want bool
	}{
		{"disabled", store.EventsConfig{}, EventLogin, false},
		{"all types", store.EventsConfig{Enabled: true}, EventLogin, true},
		{"type enabled", store.EventsConfig{Enabled: true, EnabledTypes: []string{"LOGIN_ERROR"}}, ErrorType(EventLogin), true},
		{"type not enabled", store.EventsConfig{Enabled: true, EnabledTypes: []string{"LOGIN_ERROR"}}, EventLogin, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newJanitorFixture(t)
			r := f.enableEvents(t, tc.cfg)
			f.svc.RecordEvent(r, store.LoginEvent{Type: tc.typ})
			if err := f.svc.FlushEvents(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := len(f.storedEvents(t)) == 1; got != tc.want {
				t.Errorf("recorded = %v, want %v", got, tc.want)
			}
		})
	}
}

// A full buffer drops events (counted) instead of blocking logins; a burst
// past the flush threshold starts a background write.
func TestEventBufferBounded(t *testing.T) {
	f := newJanitorFixture(t)
	r := f.enableEvents(t, store.EventsConfig{Enabled: true})
	// Hold the flush lock so the background write started by the burst
	// cannot drain the buffer while it fills.
	f.svc.events.limit = eventBufferFlushAt + 50
	f.svc.events.flushMu.Lock()
	for range f.svc.events.limit + 10 {
		f.svc.RecordEvent(r, store.LoginEvent{Type: EventClientLogin})
	}
	if got := f.svc.DroppedEvents(); got != 10 {
		t.Errorf("dropped = %d, want 10", got)
	}
	f.svc.events.flushMu.Unlock()
	if err := f.svc.FlushEvents(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.Store().ListLoginEvents(context.Background(), f.realmID, store.LoginEventQuery{Page: store.Page{Max: 1000}})
	if err != nil || len(got) != f.svc.events.limit {
		t.Errorf("stored %d events (%v), want %d", len(got), err, f.svc.events.limit)
	}
}

// failingEventWrites is a store whose login-event writes fail.
type failingEventWrites struct{ store.Store }

func (failingEventWrites) AppendLoginEvents(context.Context, string, []store.LoginEvent) error {
	return errors.New("event writes fail")
}

// A failure to write login events does not keep expired sessions alive: the
// janitor deletes them and reports the event failure.
func TestJanitorDeletesExpiredSessionsWhenEventWritesFail(t *testing.T) {
	f := newJanitorFixture(t)
	r := f.enableEvents(t, store.EventsConfig{Enabled: true})
	svc := NewService(failingEventWrites{f.svc.Store()}, f.svc.sealer, f.clock.now)
	svc.RecordEvent(r, store.LoginEvent{Type: EventLogin})
	f.clock.set(f.t0.Add(time.Hour))
	n, err := svc.DeleteExpired(context.Background())
	if err == nil || !strings.Contains(err.Error(), "event writes fail") {
		t.Errorf("DeleteExpired error = %v, want the event failure", err)
	}
	if n == 0 || f.sessionExists(t) {
		t.Errorf("expired session kept (%d rows deleted)", n)
	}
}
