package realms

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// EventListenerLogging is the one event listener Gatehouse accepts: the
// name Keycloak realms carry by default.
const EventListenerLogging = "jboss-logging"

var eventTypeName = regexp.MustCompile(`^[A-Z][A-Z_]{0,63}$`)

func validateEventsConfig(c store.EventsConfig) error {
	for _, l := range c.Listeners {
		if l != EventListenerLogging {
			return invalid("eventsListeners", "Unknown event listener")
		}
	}
	for _, t := range c.EnabledTypes {
		if !eventTypeName.MatchString(t) {
			return invalid("enabledEventTypes", "unknown event type %q", t)
		}
	}
	if c.ExpirationSeconds < 0 {
		return invalid("eventsExpiration", "eventsExpiration must not be negative")
	}
	return nil
}

// Login event types Gatehouse records (Keycloak's names).
const (
	EventLogin           = "LOGIN"
	EventClientLogin     = "CLIENT_LOGIN"
	EventRefreshToken    = "REFRESH_TOKEN"
	EventTokenExchange   = "TOKEN_EXCHANGE"
	EventPermissionToken = "PERMISSION_TOKEN"
	EventLogout          = "LOGOUT"
	EventRevokeGrant     = "REVOKE_GRANT"
	EventIntrospectToken = "INTROSPECT_TOKEN"
	eventErrorSuffix     = "_ERROR"
	eventBufferFlushAt   = 256
	eventBufferMax       = 1 << 16
	eventDeleteBatch     = 1000
)

// ErrorType is the _ERROR type of an event type.
func ErrorType(t string) string { return t + eventErrorSuffix }

// eventBuffer holds recorded login events until they are written: the
// token path only appends to memory, and one commit per realm writes a
// whole batch.
type eventBuffer struct {
	mu      sync.Mutex
	pending map[string][]store.LoginEvent // by realm ID
	n       int
	// limit bounds n (eventBufferMax when zero).
	limit int
	// flushing is set while a background flush runs, so a burst of
	// events starts one, not one per event.
	flushing atomic.Bool
	// flushMu serializes flushes: events of one realm are written in
	// the order they were recorded.
	flushMu sync.Mutex
	dropped atomic.Int64
}

// EventsWanted reports whether realm r records events of type t; callers
// skip building an event when it does not.
func EventsWanted(r store.Realm, t string) bool {
	if !r.Events.Enabled {
		return false
	}
	if len(r.Events.EnabledTypes) == 0 {
		return true
	}
	return slices.Contains(r.Events.EnabledTypes, t)
}

// RecordEvent records a login event of realm r if the realm records its
// type. It never blocks on the store: events are buffered and written in
// batches (by a background flush once enough are pending, by the janitor,
// and before every read of the events). When the buffer is full, events
// are dropped and counted rather than slowing logins down.
func (s *Service) RecordEvent(r store.Realm, e store.LoginEvent) {
	if !EventsWanted(r, e.Type) {
		return
	}
	e.ID = NewID()
	e.Time = s.now().UTC()
	b := &s.events
	b.mu.Lock()
	limit := b.limit
	if limit <= 0 {
		limit = eventBufferMax
	}
	if b.n >= limit {
		b.mu.Unlock()
		b.dropped.Add(1)
		return
	}
	if b.pending == nil {
		b.pending = map[string][]store.LoginEvent{}
	}
	b.pending[r.ID] = append(b.pending[r.ID], e)
	b.n++
	full := b.n >= eventBufferFlushAt
	b.mu.Unlock()
	if full && b.flushing.CompareAndSwap(false, true) {
		go func() {
			defer b.flushing.Store(false)
			_ = s.FlushEvents(context.Background())
		}()
	}
}

// FlushEvents writes the buffered login events, one commit per realm.
// Events of a realm deleted meanwhile are discarded with it.
func (s *Service) FlushEvents(ctx context.Context) error {
	b := &s.events
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	b.mu.Lock()
	pending := b.pending
	b.pending, b.n = nil, 0
	b.mu.Unlock()
	var errs []error
	for realmID, events := range pending {
		err := s.store.AppendLoginEvents(ctx, realmID, events)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, fmt.Errorf("write %d login events: %w", len(events), err))
		}
	}
	return errors.Join(errs...)
}

// DroppedEvents counts login events dropped because the buffer was full.
func (s *Service) DroppedEvents() int64 { return s.events.dropped.Load() }

// LoginEvents returns realm r's login events matching q, newest first,
// after writing the buffered ones (an admin sees every recorded event).
func (s *Service) LoginEvents(ctx context.Context, r store.Realm, q store.LoginEventQuery) ([]store.LoginEvent, error) {
	if err := s.FlushEvents(ctx); err != nil {
		return nil, err
	}
	return s.store.ListLoginEvents(ctx, r.ID, q)
}

// ClearLoginEvents deletes all of realm r's login events, buffered ones
// included.
func (s *Service) ClearLoginEvents(ctx context.Context, r store.Realm) error {
	if err := s.FlushEvents(ctx); err != nil {
		return err
	}
	_, err := s.deleteLoginEvents(ctx, r.ID, time.Time{})
	return err
}

func (s *Service) deleteLoginEvents(ctx context.Context, realmID string, before time.Time) (int, error) {
	total := 0
	for {
		n, err := s.store.DeleteLoginEvents(ctx, realmID, before, eventDeleteBatch)
		total += n
		if err != nil || n < eventDeleteBatch {
			return total, err
		}
	}
}

// expireLoginEvents writes buffered events and deletes, in every realm
// with an events expiration, the events older than it.
func (s *Service) expireLoginEvents(ctx context.Context) (int, error) {
	if err := s.FlushEvents(ctx); err != nil {
		return 0, err
	}
	all, err := s.store.ListRealms(ctx)
	if err != nil {
		return 0, fmt.Errorf("list realms: %w", err)
	}
	total := 0
	now := s.now()
	for _, r := range all {
		if r.Events.ExpirationSeconds <= 0 {
			continue
		}
		n, err := s.deleteLoginEvents(ctx, r.ID, now.Add(-time.Duration(r.Events.ExpirationSeconds)*time.Second))
		total += n
		if err != nil {
			return total, fmt.Errorf("expire login events of realm %s: %w", r.Name, err)
		}
	}
	return total, nil
}

// SetEventsConfig replaces realm name's login-event settings.
func (s *Service) SetEventsConfig(ctx context.Context, name string, c store.EventsConfig) (store.Realm, error) {
	return s.UpdateRealm(ctx, name, func(r *store.Realm) error {
		r.Events = c
		return nil
	})
}
