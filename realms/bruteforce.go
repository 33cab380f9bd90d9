package realms

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// Brute-force detection with Keycloak's semantics (keycloak.md §6): each
// failure within maxDeltaTimeSeconds of the last counts; from failureFactor
// failures on, logins wait waitIncrementSeconds × (failures / failureFactor),
// at most maxFailureWaitSeconds, or stop for good with permanentLockout; two
// failures closer than quickLoginCheckMilliSeconds impose
// minimumQuickLoginWaitSeconds. Gatehouse applies the same policy to client
// secrets (which Keycloak lacks, keycloak#30077).

// UserFailureKey and ClientFailureKey name brute-force records.
func UserFailureKey(userID string) string       { return "user:" + userID }
func ClientFailureKey(clientUUID string) string { return "client:" + clientUUID }

// failureState reports whether logins for key are refused at now, and
// whether a failure record exists (so a success knows whether it has
// anything to clear without reading the record again).
func (s *Service) failureState(ctx context.Context, r store.Realm, key string, now time.Time) (locked, recorded bool, err error) {
	if !r.BruteForce.Protected {
		return false, false, nil
	}
	f, err := s.store.GetLoginFailure(ctx, r.ID, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	return f.Permanent || now.Before(f.NotBefore), true, nil
}

// recordFailure counts a failed login and sets the wait it earns.
func (s *Service) recordFailure(ctx context.Context, r store.Realm, key, ip string, now time.Time) error {
	if !r.BruteForce.Protected {
		return nil
	}
	p := r.BruteForce
	// The update may run more than once (batched commits): each run decides
	// afresh whether this failure locks.
	var locks bool
	_, err := s.store.UpdateLoginFailure(ctx, r.ID, key, func(f *store.LoginFailure) error {
		locks = false
		last := f.LastFailure
		if !last.IsZero() && now.Sub(last) > time.Duration(p.MaxDeltaTimeSeconds)*time.Second {
			f.NumFailures = 0
		}
		f.NumFailures++
		f.LastFailure, f.LastIP = now, ip
		var wait time.Duration
		if p.FailureFactor > 0 && f.NumFailures >= p.FailureFactor {
			if p.PermanentLockout {
				f.Permanent, locks = true, true
				return nil
			}
			wait = time.Duration(p.WaitIncrementSeconds) * time.Second * time.Duration(f.NumFailures/p.FailureFactor)
			if max := time.Duration(p.MaxFailureWaitSeconds) * time.Second; max > 0 && wait > max {
				wait = max
			}
		}
		if !last.IsZero() && now.Sub(last) < time.Duration(p.QuickLoginCheckMilliSeconds)*time.Millisecond {
			wait = max(wait, time.Duration(p.MinimumQuickLoginWaitSeconds)*time.Second)
		}
		if wait > 0 {
			f.NotBefore, locks = now.Add(wait), true
		}
		return nil
	})
	if err == nil && locks {
		s.metrics.Lockout(r.Name)
	}
	return err
}

// recordSuccess clears the failure count after a successful login, when
// failureState found one. A failed delete only leaves a stale count behind.
func (s *Service) recordSuccess(ctx context.Context, r store.Realm, key string, recorded bool) {
	if recorded {
		_ = s.store.DeleteLoginFailure(ctx, r.ID, key)
	}
}

// LoginFailure returns a user's brute-force state (zero when none).
func (s *Service) LoginFailure(ctx context.Context, realmName, key string) (store.LoginFailure, bool, error) {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return store.LoginFailure{}, false, err
	}
	f, err := s.store.GetLoginFailure(ctx, st.Realm.ID, key)
	if errors.Is(err, store.ErrNotFound) {
		return store.LoginFailure{Key: key}, false, nil
	}
	if err != nil {
		return f, false, err
	}
	locked := f.Permanent || s.now().Before(f.NotBefore)
	return f, locked, nil
}

// ClearLoginFailure unlocks a user or client.
func (s *Service) ClearLoginFailure(ctx context.Context, realmName, key string) error {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return err
	}
	err = s.store.DeleteLoginFailure(ctx, st.Realm.ID, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}
