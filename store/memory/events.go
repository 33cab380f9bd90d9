package memory

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// eventBefore orders events by time, then ID, as they are kept.
func eventBefore(at time.Time, id string, bt time.Time, bid string) bool {
	if !at.Equal(bt) {
		return at.Before(bt)
	}
	return id < bid
}

// insertEvent puts e in its place in an ordered log; an event with the
// same time and ID replaces the one there.
func insertEvent[T any](log []T, e T, key func(T) (time.Time, string)) []T {
	et, eid := key(e)
	i := sort.Search(len(log), func(i int) bool {
		t, id := key(log[i])
		return !eventBefore(t, id, et, eid)
	})
	if i < len(log) {
		if t, id := key(log[i]); t.Equal(et) && id == eid {
			log[i] = e
			return log
		}
	}
	return slices.Insert(log, i, e)
}

func adminEventKey(e store.AdminEvent) (time.Time, string) { return e.Time, e.ID }
func loginEventKey(e store.LoginEvent) (time.Time, string) { return e.Time, e.ID }

func (s *Store) AppendAdminEvent(ctx context.Context, realmID string, e store.AdminEvent) error {
	return s.write(ctx, realmID, func(r *realm) error {
		r.adminEvents = insertEvent(r.adminEvents, clone(e), adminEventKey)
		return nil
	})
}

func (s *Store) ListAdminEvents(_ context.Context, realmID string, q store.Page) ([]store.AdminEvent, error) {
	var out []store.AdminEvent
	err := s.read(realmID, func(r *realm) error {
		newest := make([]store.AdminEvent, len(r.adminEvents))
		for i, e := range r.adminEvents {
			newest[len(newest)-1-i] = e
		}
		out = clone(window(newest, q))
		return nil
	})
	return out, err
}

func (s *Store) DeleteAdminEvents(ctx context.Context, realmID string) error {
	return s.write(ctx, realmID, func(r *realm) error {
		r.adminEvents = nil
		return nil
	})
}

func (s *Store) AppendLoginEvents(ctx context.Context, realmID string, events []store.LoginEvent) error {
	if len(events) == 0 {
		return ctxErr(ctx)
	}
	return s.write(ctx, realmID, func(r *realm) error {
		for _, e := range events {
			r.loginEvents = insertEvent(r.loginEvents, clone(e), loginEventKey)
		}
		return nil
	})
}

func (s *Store) ListLoginEvents(_ context.Context, realmID string, q store.LoginEventQuery) ([]store.LoginEvent, error) {
	var out []store.LoginEvent
	err := s.read(realmID, func(r *realm) error {
		var match []store.LoginEvent
		for i := len(r.loginEvents) - 1; i >= 0; i-- {
			e := r.loginEvents[i]
			if (!q.To.IsZero() && e.Time.After(q.To)) || (!q.From.IsZero() && e.Time.Before(q.From)) {
				continue
			}
			if (len(q.Types) > 0 && !slices.Contains(q.Types, e.Type)) || (q.ClientID != "" && e.ClientID != q.ClientID) ||
				(q.UserID != "" && e.UserID != q.UserID) || (q.IPAddress != "" && e.IPAddress != q.IPAddress) {
				continue
			}
			match = append(match, e)
		}
		out = clone(window(match, q.Page))
		return nil
	})
	return out, err
}

func (s *Store) DeleteLoginEvents(ctx context.Context, realmID string, before time.Time, limit int) (int, error) {
	n := 0
	err := s.write(ctx, realmID, func(r *realm) error {
		for n < limit && n < len(r.loginEvents) && (before.IsZero() || r.loginEvents[n].Time.Before(before)) {
			n++
		}
		r.loginEvents = slices.Delete(r.loginEvents, 0, n)
		return nil
	})
	return n, err
}
