package oidc

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// A new session's hard end and its refresh token's idle expiry follow the
// realm: SSO limits narrowed by client-session limits for online sessions,
// the offline settings for offline ones, and the address is recorded.
func TestNewSessionFollowsTheRealmsTimeouts(t *testing.T) {
	now := time.Unix(1_800_000_000, 0).UTC()
	base := store.Realm{SSOSessionIdleTimeout: 1800, SSOSessionMaxLifespan: 36000,
		OfflineSessionIdleTimeout: realms.DefaultOfflineSessionIdleTimeout, OfflineSessionMaxLifespan: realms.DefaultOfflineSessionMaxLifespan}
	for _, tc := range []struct {
		name          string
		realm         func(*store.Realm)
		scopes        []string
		idle, maxLife time.Duration
	}{
		{"online", func(*store.Realm) {}, []string{"openid"}, 1800 * time.Second, 36000 * time.Second},
		{"online, client session limits", func(r *store.Realm) { r.ClientSessionIdleTimeout, r.ClientSessionMaxLifespan = 60, 300 },
			[]string{"openid"}, 60 * time.Second, 300 * time.Second},
		{"client session limits above SSO's do not extend", func(r *store.Realm) { r.ClientSessionIdleTimeout, r.ClientSessionMaxLifespan = 7200, 72000 },
			[]string{"openid"}, 1800 * time.Second, 36000 * time.Second},
		{"offline, max lifespan off", func(r *store.Realm) { r.OfflineSessionIdleTimeout = 120 },
			[]string{realms.OfflineAccess}, 120 * time.Second, offlineMaxAge},
		{"offline, max lifespan on", func(r *store.Realm) {
			r.OfflineSessionIdleTimeout, r.OfflineSessionMaxLifespanEnabled, r.OfflineSessionMaxLifespan = 120, true, 600
		}, []string{"openid", realms.OfflineAccess}, 120 * time.Second, 600 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := base
			tc.realm(&r)
			m := &minter{realm: r}
			g := &grant{client: store.Client{ID: "c"}, user: store.User{ID: "u"}, scopes: tc.scopes}
			if err := m.newSession(g, "192.0.2.9", now); err != nil {
				t.Fatal(err)
			}
			if got := g.session.ExpiresAt.Sub(now); got != tc.maxLife {
				t.Errorf("session lifespan %v, want %v", got, tc.maxLife)
			}
			if got := g.refreshRecord.ExpiresAt.Sub(now); got != min(tc.idle, tc.maxLife) {
				t.Errorf("refresh token idle %v, want %v", got, tc.idle)
			}
			if g.session.IPAddress != "192.0.2.9" {
				t.Errorf("ip %q", g.session.IPAddress)
			}
		})
	}
}
