package realms

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// Wrong client secrets throttle their source: one IPv4 address, or one
// IPv6 /64 (what a single host is usually given, so rotating addresses
// inside it gains nothing). Other sources keep working.
func TestClientFailuresThrottleTheSource(t *testing.T) {
	for _, tc := range []struct {
		name, attacker, from string
		throttled            bool
	}{
		{"same IPv4 address", "192.0.2.1", "192.0.2.1", true},
		{"another IPv4 address", "192.0.2.1", "192.0.2.2", false},
		{"IPv4-mapped IPv6 form of the address", "192.0.2.1", "::ffff:192.0.2.1", true},
		{"another address of the same IPv6 /64", "2001:db8:1:2::1", "2001:db8:1:2:ffff::9", true},
		{"another IPv6 /64", "2001:db8:1:2::1", "2001:db8:1:3::1", false},
		{"unparsable address is its own source", "unix", "192.0.2.1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc, st, secret := bruteForceService(t, store.BruteForcePolicy{Protected: true, FailureFactor: 2, WaitIncrementSeconds: 60})
			ctx := context.Background()
			for range 2 {
				if _, err := svc.AuthenticateClient(ctx, st.Realm, "app", "wrong", tc.attacker); !errors.Is(err, ErrClientSecret) {
					t.Fatalf("wrong secret: %v", err)
				}
			}
			_, err := svc.AuthenticateClient(ctx, st.Realm, "app", secret, tc.from)
			if got := errors.Is(err, ErrClientSecret); got != tc.throttled || (!tc.throttled && err != nil) {
				t.Fatalf("right secret from %s after failures from %s: %v, throttled want %v", tc.from, tc.attacker, err, tc.throttled)
			}
		})
	}
}

// bruteForceService is benchService with policy p on realm bench; it also
// returns the realm as loaded after the change.
func bruteForceService(t *testing.T, p store.BruteForcePolicy) (*Service, *RealmState, string) {
	t.Helper()
	svc, _, secret := benchService(t)
	ctx := context.Background()
	if _, err := svc.UpdateRealm(ctx, "bench", func(r *store.Realm) error { r.BruteForce = p; return nil }); err != nil {
		t.Fatal(err)
	}
	st, err := svc.Realm(ctx, "bench")
	if err != nil {
		t.Fatal(err)
	}
	return svc, st, secret
}

func TestFailureSource(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":               "192.0.2.7",
		"::ffff:192.0.2.7":        "192.0.2.7",
		"2001:db8:a:b:c:d:e:f":    "2001:db8:a:b::/64",
		"2001:DB8:A:B::1":         "2001:db8:a:b::/64",
		"fe80::1%eth0":            "fe80::/64",
		"":                        "",
		"not an address@with@sep": "not an address_with_sep",
	} {
		if got := failureSource(in); got != want {
			t.Errorf("failureSource(%q) = %q, want %q", in, got, want)
		}
	}
}

// Client records a source no longer needs are pruned: those past the wait
// and older than maxDeltaTimeSeconds go, a throttled or recent one stays.
func TestPruneClientFailures(t *testing.T) {
	svc, st, _ := bruteForceService(t, store.BruteForcePolicy{Protected: true, FailureFactor: 2, WaitIncrementSeconds: 600, MaxDeltaTimeSeconds: 3600})
	ctx := context.Background()
	wrong := func(from string, times int) {
		for range times {
			if _, err := svc.AuthenticateClient(ctx, st.Realm, "app", "wrong", from); !errors.Is(err, ErrClientSecret) {
				t.Fatal(err)
			}
		}
	}
	wrong("192.0.2.1", 1) // one failure: no wait
	wrong("192.0.2.2", 2) // throttled for 600 s
	c, err := svc.ClientByClientID(ctx, st.Realm.ID, "app")
	if err != nil {
		t.Fatal(err)
	}
	sources := func() []string {
		fs, err := svc.ClientLoginFailures(ctx, "bench", c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range fs {
			out = append(out, f.IP)
		}
		return out
	}
	now := time.Now()
	for _, step := range []struct {
		at   time.Duration
		want []string
	}{
		{time.Minute, []string{"192.0.2.1", "192.0.2.2"}}, // both recent
		{2 * time.Hour, nil},                              // past the wait and maxDeltaTime
	} {
		if _, err := svc.PruneClientFailures(ctx, now.Add(step.at)); err != nil {
			t.Fatal(err)
		}
		if got := sources(); !slices.Equal(got, step.want) {
			t.Fatalf("after pruning at +%v: %v, want %v", step.at, got, step.want)
		}
	}
	// A permanent lockout stays until an admin clears it.
	if _, err := svc.UpdateRealm(ctx, "bench", func(r *store.Realm) error { r.BruteForce.PermanentLockout = true; return nil }); err != nil {
		t.Fatal(err)
	}
	st, _ = svc.Realm(ctx, "bench")
	wrong("192.0.2.3", 2)
	if _, err := svc.PruneClientFailures(ctx, now.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := sources(); !slices.Equal(got, []string{"192.0.2.3"}) {
		t.Fatalf("permanent lockout pruned: %v", got)
	}
}
