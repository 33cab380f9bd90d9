package realms

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// Brute-force detection with Keycloak's semantics: each
// failure within maxDeltaTimeSeconds of the last counts; from failureFactor
// failures on, logins wait waitIncrementSeconds × (failures / failureFactor),
// at most maxFailureWaitSeconds, or stop for good with permanentLockout; two
// failures closer than quickLoginCheckMilliSeconds impose
// minimumQuickLoginWaitSeconds. Gatehouse applies the same policy to client
// secrets (which Keycloak lacks), counted per client and remote address:
// a client_id is no secret, so a lock on the client as a whole would let
// anyone take it offline with a few wrong guesses.

// UserFailureKey names a user's brute-force record.
func UserFailureKey(userID string) string { return "user:" + userID }

// ClientFailureKey names the brute-force record of a client as seen from one
// source (see failureSource). Sources never contain '@', so a prefix scan of
// one client skips the records of another whose ID continues with '@'.
func ClientFailureKey(clientUUID, ip string) string {
	return clientFailurePrefix(clientUUID) + failureSource(ip)
}

func clientFailurePrefix(clientUUID string) string { return "client:" + clientUUID + "@" }

// failureSource is what wrong client secrets are counted against: the IPv4
// address, or the /64 of an IPv6 address, which is what one host (or one
// customer) is usually given, so stepping through addresses inside it does
// not escape the throttle. Anything that does not parse counts as itself.
func failureSource(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return strings.ReplaceAll(ip, "@", "_")
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
}

// legacyClientFailureKey is the per-client record of earlier versions; it is
// no longer consulted and is removed with the client's other records.
func legacyClientFailureKey(clientUUID string) string { return "client:" + clientUUID }

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
	return lockedAt(f, now), true, nil
}

// lockedAt reports whether record f refuses logins at now.
func lockedAt(f store.LoginFailure, now time.Time) bool {
	return f.Permanent || now.Before(f.NotBefore)
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

// ClientFailure is the brute-force state of a client from one source.
type ClientFailure struct {
	store.LoginFailure
	// IP is the source: an IPv4 address or an IPv6 /64.
	IP     string
	Locked bool
}

// ClientLoginFailures lists a client's brute-force records, one per remote
// address that sent a wrong secret.
func (s *Service) ClientLoginFailures(ctx context.Context, realmName, clientUUID string) ([]ClientFailure, error) {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return nil, err
	}
	fs, err := s.clientFailures(ctx, realmID, clientUUID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]ClientFailure, 0, len(fs))
	for _, f := range fs {
		ip := strings.TrimPrefix(f.Key, clientFailurePrefix(clientUUID))
		out = append(out, ClientFailure{LoginFailure: f, IP: ip, Locked: lockedAt(f, now)})
	}
	return out, nil
}

// clientFailures reads a client's records, one per source, leaving out
// those of another client whose ID continues with '@'.
func (s *Service) clientFailures(ctx context.Context, realmID, clientUUID string) ([]store.LoginFailure, error) {
	prefix := clientFailurePrefix(clientUUID)
	fs, err := s.store.ListLoginFailures(ctx, realmID, prefix)
	if err != nil {
		return nil, err
	}
	out := fs[:0]
	for _, f := range fs {
		if !strings.Contains(strings.TrimPrefix(f.Key, prefix), "@") {
			out = append(out, f)
		}
	}
	return out, nil
}

// ClearClientLoginFailures unthrottles every address of a client.
func (s *Service) ClearClientLoginFailures(ctx context.Context, realmName, clientUUID string) error {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return err
	}
	return s.clearClientFailures(ctx, realmID, clientUUID)
}

func (s *Service) clearClientFailures(ctx context.Context, realmID, clientUUID string) error {
	fs, err := s.clientFailures(ctx, realmID, clientUUID)
	if err != nil {
		return err
	}
	keys := []string{legacyClientFailureKey(clientUUID)}
	for _, f := range fs {
		keys = append(keys, f.Key)
	}
	for _, k := range keys {
		if err := s.store.DeleteLoginFailure(ctx, realmID, k); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// PruneClientFailures deletes the client records that no longer matter at
// now: not locked, and older than the realm's maxDeltaTimeSeconds (the next
// failure from that source would start counting afresh anyway), or any
// record of a realm whose protection is off. Counting per source means a
// record for every source that ever sent a wrong secret; the janitor calls
// this so they do not pile up. It returns how many went.
func (s *Service) PruneClientFailures(ctx context.Context, now time.Time) (int, error) {
	rs, err := s.store.ListRealms(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, r := range rs {
		p := r.BruteForce
		n, err := s.store.PruneLoginFailures(ctx, r.ID, "client:", func(f store.LoginFailure) bool {
			return !p.Protected || (!lockedAt(f, now) && now.Sub(f.LastFailure) > time.Duration(p.MaxDeltaTimeSeconds)*time.Second)
		})
		total += n
		if errors.Is(err, store.ErrNotFound) {
			continue // the realm went meanwhile
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
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
	return f, lockedAt(f, s.now()), nil
}

// ClearLoginFailure unlocks a user.
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
