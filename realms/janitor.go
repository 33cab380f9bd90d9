package realms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// knoxEvictionGrace is Knox's gateway.knox.token.eviction.grace.period:
// expired managed Knox tokens stay listable for a day before they go.
const knoxEvictionGrace = 24 * time.Hour

// janitorBatch bounds one delete transaction, so a sweep after a long pause
// never holds the write lock for long.
const janitorBatch = 1000

// DeleteExpired deletes everything that has expired by the service clock:
// refresh tokens, sessions, revoked access-token IDs, managed Knox tokens
// past their eviction grace, and login events past their realm's
// expiration (writing buffered events first). It works in bounded batches
// and returns how many rows went.
func (s *Service) DeleteExpired(ctx context.Context) (int, error) {
	total, err := s.deleteExpiredTokens(ctx)
	// Login events come last and apart: a failure to write or expire them
	// must not keep expired credentials in the store.
	n, eerr := s.expireLoginEvents(ctx)
	total += n
	if eerr != nil {
		eerr = fmt.Errorf("login events: %w", eerr)
	}
	return total, errors.Join(err, eerr)
}

func (s *Service) deleteExpiredTokens(ctx context.Context) (int, error) {
	now := s.now()
	total, err := s.store.DeleteExpiredKnoxTokens(ctx, now.Add(-knoxEvictionGrace), janitorBatch)
	if err != nil {
		return total, fmt.Errorf("expired knox tokens: %w", err)
	}
	for {
		n, err := s.store.DeleteExpired(ctx, now, janitorBatch)
		total += n
		if err != nil {
			return total, fmt.Errorf("expired tokens and sessions: %w", err)
		}
		if n < janitorBatch {
			return total, nil
		}
	}
}

// Janitor runs DeleteExpired in the background so the store file stays
// bounded under steady refresh load. The server starts it with the service
// and closes it before the store.
type Janitor struct {
	svc  *Service
	log  *slog.Logger
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// StartJanitor runs DeleteExpired every interval until Close; an interval
// of zero or less starts nothing.
func (s *Service) StartJanitor(every time.Duration, log *slog.Logger) *Janitor {
	if every <= 0 {
		j := newJanitor(s, log)
		close(j.done)
		return j
	}
	t := time.NewTicker(every)
	return s.startJanitor(t.C, t.Stop, log)
}

func newJanitor(s *Service, log *slog.Logger) *Janitor {
	return &Janitor{svc: s, log: log, stop: make(chan struct{}), done: make(chan struct{})}
}

// startJanitor sweeps on every tick; stopTicks runs when the janitor ends.
func (s *Service) startJanitor(ticks <-chan time.Time, stopTicks func(), log *slog.Logger) *Janitor {
	j := newJanitor(s, log)
	go func() {
		defer close(j.done)
		defer stopTicks()
		for {
			select {
			case <-j.stop:
				return
			case <-ticks:
			}
			// A sweep in progress finishes (its batches are bounded) so
			// Close never leaves a half-done transaction to the store's
			// Close.
			n, err := j.svc.DeleteExpired(context.Background())
			if err != nil {
				j.log.Warn("janitor", "err", err)
			} else if n > 0 {
				j.log.Debug("janitor deleted expired rows", "count", n)
			}
		}
	}()
	return j
}

// Close stops the janitor, waits for a sweep in progress to finish and
// writes the login events still buffered. It may be called more than once.
func (j *Janitor) Close() {
	j.once.Do(func() {
		close(j.stop)
		<-j.done
		if err := j.svc.FlushEvents(context.Background()); err != nil && j.log != nil {
			j.log.Warn("janitor: write login events", "err", err)
		}
	})
	<-j.done
}
