package realms

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// Session lists show only sessions that can still be refreshed: past the
// hard end or idle beyond the timeout that applies (SSO, client session,
// offline), a session is gone for the admin even before the janitor
// removes it.
func TestSessionsListsOnlyLiveSessions(t *testing.T) {
	f := newJanitorFixture(t)
	ctx := context.Background()
	st, err := f.svc.Realm(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	first, err := NewSessionService(f.svc).Sessions(ctx, st.Realm, SessionFilter{})
	if err == nil {
		t.Fatalf("a filter naming neither user nor client listed %v", first)
	}
	base, _ := f.svc.Store().GetSession(ctx, f.realmID, f.session)
	add := func(scope string) store.Session {
		s := base
		s.ID, s.Scope, s.ExpiresAt = NewID(), scope, f.t0.Add(365*24*time.Hour)
		rt := store.RefreshToken{Hash: "01" + NewID(), SessionID: s.ID, ClientID: s.ClientID, UserID: s.UserID,
			IssuedAt: f.t0, ExpiresAt: s.ExpiresAt}
		if err := f.svc.Store().CreateSession(ctx, f.realmID, s, rt); err != nil {
			t.Fatal(err)
		}
		return s
	}
	long := add("openid")
	offline := add("openid offline_access")
	for _, tc := range []struct {
		name     string
		at       time.Duration
		clientIT int // realm clientSessionIdleTimeout
		online   []string
		offline  []string
	}{
		{"at login", 0, 0, []string{f.session, long.ID}, []string{offline.ID}},
		{"past the first session's hard end", 2 * time.Minute, 0, []string{long.ID}, []string{offline.ID}},
		{"idle beyond the client session timeout", 2 * time.Minute, 60, nil, []string{offline.ID}},
		{"idle beyond the SSO idle timeout", DefaultSSOSessionIdleTimeout*time.Second + time.Second, 0, nil, []string{offline.ID}},
		{"idle beyond the offline idle timeout", DefaultOfflineSessionIdleTimeout*time.Second + time.Second, 0, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.clock.set(f.t0.Add(tc.at))
			r := st.Realm
			r.ClientSessionIdleTimeout = tc.clientIT
			for _, c := range []struct {
				offline bool
				want    []string
			}{{false, tc.online}, {true, tc.offline}} {
				for _, filter := range []SessionFilter{{UserID: base.UserID}, {ClientID: base.ClientID}} {
					filter.Offline = c.offline
					got, err := NewSessionService(f.svc).Sessions(ctx, r, filter)
					if err != nil {
						t.Fatal(err)
					}
					var ids []string
					for _, s := range got {
						ids = append(ids, s.ID)
						if s.Username != "alice" || s.ClientID != "app" {
							t.Errorf("session names: %q %q", s.Username, s.ClientID)
						}
					}
					if len(ids) != len(c.want) || (len(ids) > 0 && !sameSet(ids, c.want)) {
						t.Errorf("%+v: %v, want %v", filter, ids, c.want)
					}
				}
			}
			stats, err := NewSessionService(f.svc).SessionStats(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(tc.online) + len(tc.offline); (n == 0) != (len(stats) == 0) ||
				(n > 0 && (stats[0].Active != len(tc.online) || stats[0].Offline != len(tc.offline))) {
				t.Errorf("stats %+v", stats)
			}
		})
	}
}

func sameSet(a, b []string) bool {
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		seen[x]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

// A realm stored before the offline and client-session settings existed
// reads with Keycloak's defaults, not zero (which would end every offline
// session at once).
func TestRealmStoredBeforeNewSettingsReadsWithDefaults(t *testing.T) {
	f := newJanitorFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Store().UpdateRealm(ctx, f.realmID, func(r *store.Realm) error {
		r.OfflineSessionIdleTimeout, r.OfflineSessionMaxLifespan, r.SSLRequired, r.Events = 0, 0, "", store.EventsConfig{}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	fresh := NewService(f.svc.Store(), f.svc.sealer, f.clock.now)
	st, err := fresh.Realm(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	r := st.Realm
	if r.OfflineSessionIdleTimeout != DefaultOfflineSessionIdleTimeout || r.OfflineSessionMaxLifespan != DefaultOfflineSessionMaxLifespan ||
		r.SSLRequired != "external" {
		t.Errorf("realm = %+v", r)
	}
}
