package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// sessionTests cover sessions, refresh tokens (rotation and reuse), revoked access tokens and expiry.
var sessionTests = []conformanceTest{
	{"SessionCreateAndGet", testSessionRoundTrip},
	{"RotateRefreshToken", testRotate},
	{"RotateRefreshTokenExpiredWritesNothing", testRotateExpired},
	{"RotateRefreshTokenReusePolicy", testRotateReuse},
	{"ConcurrentRotationOneWinner", testConcurrentRotation},
	{"SessionsListAndDelete", testSessions},
	{"SessionWithoutTokenThenAddRefreshToken", testAddRefreshToken},
	{"RevokedAccessTokens", testRevokedJTI},
	{"DeleteExpired", testDeleteExpired},
}

// chain sets up a realm with a session and returns it with its first token.
func chain(t *testing.T, s store.Store, ttl time.Duration) (store.Realm, store.RefreshToken) {
	t.Helper()
	r := mustRealm(t, s, id("realm"))
	return r, chainIn(t, s, r, clock(), ttl, ttl)
}

// chainIn starts a session in r at now and returns its first token.
func chainIn(t *testing.T, s store.Store, r store.Realm, now time.Time, sessTTL, rtTTL time.Duration) store.RefreshToken {
	t.Helper()
	c := store.Client{ID: id("c"), ClientID: id("app")}
	u := store.User{ID: id("u"), Username: id("alice")}
	must(t, s.CreateClient(ctx, r.ID, c))
	must(t, s.CreateUser(ctx, r.ID, u))
	sess, rt := newSessionAt(c, u, now, sessTTL, rtTTL)
	must(t, s.CreateSession(ctx, r.ID, sess, rt))
	return rt
}

func sessionOf(t *testing.T, s store.Store, realmID string, rt store.RefreshToken) store.Session {
	t.Helper()
	sess, err := s.GetSession(ctx, realmID, rt.SessionID)
	must(t, err)
	return sess
}

func testSessionRoundTrip(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	c, u := store.Client{ID: id("c"), ClientID: "app"}, store.User{ID: id("u"), Username: "alice"}
	must(t, s.CreateClient(ctx, r.ID, c))
	must(t, s.CreateUser(ctx, r.ID, u))
	now := clock()
	sess, rt := newSessionAt(c, u, now.Add(-time.Minute), time.Hour, 30*time.Minute)
	sess.LastRefresh = now
	sess.IPAddress = "192.0.2.7"
	must(t, s.CreateSession(ctx, r.ID, sess, rt))
	wantEqual(t, "session", try(s.GetSession(ctx, r.ID, sess.ID)).must(t), sess)
	wantEqual(t, "refresh token", try(s.GetRefreshToken(ctx, r.ID, rt.Hash)).must(t), rt)
	wantErr(t, errOf(s.GetSession(ctx, r.ID, "missing")), store.ErrNotFound)
	wantErr(t, errOf(s.GetRefreshToken(ctx, r.ID, "missing")), store.ErrNotFound)
	other := mustRealm(t, s, "other")
	wantErr(t, errOf(s.GetSession(ctx, other.ID, sess.ID)), store.ErrNotFound)
	wantErr(t, errOf(s.GetRefreshToken(ctx, other.ID, rt.Hash)), store.ErrNotFound)
}

func testRotate(t *testing.T, s store.Store) {
	r, sess, rt1 := chainWithSession(t, s)
	now := clock().Add(time.Second)
	rt2 := refreshToken(sess, now, time.Hour)
	old, err := s.RotateRefreshToken(ctx, r.ID, rt1.Hash, rt2, store.RotationPolicy{}, now)
	must(t, err)
	want := rt1
	want.UsedAt, want.UseCount = now, 1
	wantEqual(t, "returned old token", old, want)
	wantEqual(t, "stored old token", try(s.GetRefreshToken(ctx, r.ID, rt1.Hash)).must(t), want)
	wantEqual(t, "new token", try(s.GetRefreshToken(ctx, r.ID, rt2.Hash)).must(t), rt2)
	wantSess := sess
	wantSess.LastRefresh = now
	wantEqual(t, "session", try(s.GetSession(ctx, r.ID, sess.ID)).must(t), wantSess)

	for name, hash := range map[string]string{"unknown": "unknown", "empty": ""} {
		next := refreshToken(sess, now, time.Hour)
		_, err = s.RotateRefreshToken(ctx, r.ID, hash, next, store.RotationPolicy{}, now)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s token: %v, want ErrNotFound", name, err)
		}
		wantErr(t, errOf(s.GetRefreshToken(ctx, r.ID, next.Hash)), store.ErrNotFound)
	}
	_, err = s.RotateRefreshToken(ctx, "missing-realm", rt2.Hash, refreshToken(sess, now, time.Hour), store.RotationPolicy{}, now)
	wantErr(t, err, store.ErrNotFound)

	// The chain goes on: rt2 → rt3, then rt1 is reused under the strict
	// policy: the whole family goes, durably, the newest token included.
	rt3 := refreshToken(sess, now, time.Hour)
	must(t, errOf(s.RotateRefreshToken(ctx, r.ID, rt2.Hash, rt3, store.RotationPolicy{}, now.Add(time.Second))))
	rt4 := refreshToken(sess, now, time.Hour)
	_, err = s.RotateRefreshToken(ctx, r.ID, rt1.Hash, rt4, store.RotationPolicy{}, now.Add(2*time.Second))
	wantErr(t, err, store.ErrTokenReused)
	wantGone(t, "strict reuse", map[string]error{
		"session":          errOf(s.GetSession(ctx, r.ID, sess.ID)),
		"reused token":     errOf(s.GetRefreshToken(ctx, r.ID, rt1.Hash)),
		"middle token":     errOf(s.GetRefreshToken(ctx, r.ID, rt2.Hash)),
		"newest token":     errOf(s.GetRefreshToken(ctx, r.ID, rt3.Hash)),
		"the offered next": errOf(s.GetRefreshToken(ctx, r.ID, rt4.Hash)),
	})
	if got, _ := s.ListSessions(ctx, r.ID, store.SessionQuery{UserID: sess.UserID}); len(got) != 0 {
		t.Errorf("revoked session still listed: %v", got)
	}
	// A token whose session is gone is not found.
	_, err = s.RotateRefreshToken(ctx, r.ID, rt3.Hash, refreshToken(sess, now, time.Hour), store.RotationPolicy{}, now.Add(3*time.Second))
	wantErr(t, err, store.ErrNotFound)
	_, err = s.RotateRefreshToken(ctx, r.ID, rt1.Hash, refreshToken(sess, now, time.Hour), store.RotationPolicy{}, now.Add(3*time.Second))
	wantErr(t, err, store.ErrNotFound)
}

// chainWithSession is chain returning the stored session.
func chainWithSession(t *testing.T, s store.Store) (store.Realm, store.Session, store.RefreshToken) {
	t.Helper()
	r, rt := chain(t, s, time.Hour)
	return r, sessionOf(t, s, r.ID, rt), rt
}

// An expired token or session is refused with ErrTokenExpired and nothing is
// written: not the next token, not UsedAt, not LastRefresh, and a reused but
// expired token does not revoke the family.
func testRotateExpired(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	base := clock()
	for _, tc := range []struct {
		name           string
		sessTTL, rtTTL time.Duration
		rotateFirstAt  time.Duration // rotate once at this offset first (0: don't)
		presentAt      time.Duration
	}{
		{name: "token expired", sessTTL: time.Hour, rtTTL: time.Minute, presentAt: 2 * time.Minute},
		{name: "session expired", sessTTL: time.Minute, rtTTL: time.Hour, presentAt: 2 * time.Minute},
		{name: "both expired", sessTTL: time.Minute, rtTTL: time.Minute, presentAt: 2 * time.Minute},
		{name: "reused after its expiry", sessTTL: time.Hour, rtTTL: time.Minute, rotateFirstAt: 30 * time.Second, presentAt: 2 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := chainIn(t, s, r, base, tc.sessTTL, tc.rtTTL)
			sess := sessionOf(t, s, r.ID, rt)
			var successor store.RefreshToken
			if tc.rotateFirstAt > 0 {
				successor = refreshToken(sess, base, time.Hour)
				must(t, errOf(s.RotateRefreshToken(ctx, r.ID, rt.Hash, successor, store.RotationPolicy{}, base.Add(tc.rotateFirstAt))))
			}
			beforeRT := try(s.GetRefreshToken(ctx, r.ID, rt.Hash)).must(t)
			beforeSess := sessionOf(t, s, r.ID, rt)
			next := refreshToken(sess, base, time.Hour)
			_, err := s.RotateRefreshToken(ctx, r.ID, rt.Hash, next, store.RotationPolicy{}, base.Add(tc.presentAt))
			wantErr(t, err, store.ErrTokenExpired)
			wantErr(t, errOf(s.GetRefreshToken(ctx, r.ID, next.Hash)), store.ErrNotFound)
			wantEqual(t, "token after refusal", try(s.GetRefreshToken(ctx, r.ID, rt.Hash)).must(t), beforeRT)
			wantEqual(t, "session after refusal", sessionOf(t, s, r.ID, rt), beforeSess)
			if tc.rotateFirstAt > 0 {
				if _, err := s.GetRefreshToken(ctx, r.ID, successor.Hash); err != nil {
					t.Errorf("an expired reuse revoked the family: %v", err)
				}
			}
		})
	}
}

// Reuse of a rotated-out token: allowed while now-UsedAt <= Grace and
// UseCount <= MaxReuse, then the family is revoked.
func testRotateReuse(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	for _, tc := range []struct {
		name string
		p    store.RotationPolicy
		// reuses are the offsets, from the first rotation, at which the
		// first token is presented again.
		reuses []time.Duration
		// allowed of them succeed; the one after is ErrTokenReused.
		allowed int
	}{
		{"strict", store.RotationPolicy{}, []time.Duration{0}, 0},
		{"strict ignores MaxReuse", store.RotationPolicy{MaxReuse: 5}, []time.Duration{time.Millisecond}, 0},
		{"grace with MaxReuse 0", store.RotationPolicy{Grace: 10 * time.Second}, []time.Duration{time.Second}, 0},
		{"one reuse", store.RotationPolicy{Grace: 10 * time.Second, MaxReuse: 1}, []time.Duration{5 * time.Second, 6 * time.Second}, 1},
		{"up to MaxReuse", store.RotationPolicy{Grace: 10 * time.Second, MaxReuse: 3}, []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second}, 3},
		{"at the grace boundary", store.RotationPolicy{Grace: 10 * time.Second, MaxReuse: 2}, []time.Duration{10 * time.Second, 10*time.Second + time.Millisecond}, 1},
		{"after the grace", store.RotationPolicy{Grace: 10 * time.Second, MaxReuse: 5}, []time.Duration{10*time.Second + time.Millisecond}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := clock()
			first := chainIn(t, s, r, base, time.Hour, time.Hour)
			sess := sessionOf(t, s, r.ID, first)
			minted := []store.RefreshToken{refreshToken(sess, base, time.Hour)}
			must(t, errOf(s.RotateRefreshToken(ctx, r.ID, first.Hash, minted[0], tc.p, base)))
			for i, off := range tc.reuses {
				next := refreshToken(sess, base, time.Hour)
				old, err := s.RotateRefreshToken(ctx, r.ID, first.Hash, next, tc.p, base.Add(off))
				if i < tc.allowed {
					must(t, err)
					if old.UseCount != i+2 || !old.UsedAt.Equal(base) {
						t.Errorf("reuse %d returned UseCount %d UsedAt %v, want %d and the first use", i+1, old.UseCount, old.UsedAt, i+2)
					}
					if got, _ := s.GetSession(ctx, r.ID, sess.ID); !got.LastRefresh.Equal(base.Add(off)) {
						t.Errorf("reuse %d: LastRefresh = %v", i+1, got.LastRefresh)
					}
					minted = append(minted, next)
					// Every token minted so far is valid.
					for j, m := range minted {
						if _, err := s.GetRefreshToken(ctx, r.ID, m.Hash); err != nil {
							t.Fatalf("after reuse %d, token %d lost: %v", i+1, j, err)
						}
					}
					continue
				}
				wantErr(t, err, store.ErrTokenReused)
				lookups := map[string]error{
					"session":       errOf(s.GetSession(ctx, r.ID, sess.ID)),
					"reused token":  errOf(s.GetRefreshToken(ctx, r.ID, first.Hash)),
					"offered token": errOf(s.GetRefreshToken(ctx, r.ID, next.Hash)),
				}
				for j, m := range minted {
					lookups[fmt.Sprintf("minted token %d", j)] = errOf(s.GetRefreshToken(ctx, r.ID, m.Hash))
				}
				wantGone(t, "revoked family", lookups)
				return
			}
			t.Fatal("the policy never revoked")
		})
	}
}

func testConcurrentRotation(t *testing.T, s store.Store) {
	r, sess, rt := chainWithSession(t, s)
	const n = 8
	nexts := make([]store.RefreshToken, n)
	for i := range nexts {
		nexts[i] = refreshToken(sess, clock(), time.Hour)
	}
	errs := AtOnce(n, func(i int) error {
		return errOf(s.RotateRefreshToken(ctx, r.ID, rt.Hash, nexts[i], store.RotationPolicy{}, time.Now()))
	})
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, store.ErrTokenReused), errors.Is(err, store.ErrNotFound):
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d rotations won, want 1", wins)
	}
	lookups := map[string]error{
		"session":   errOf(s.GetSession(ctx, r.ID, sess.ID)),
		"old token": errOf(s.GetRefreshToken(ctx, r.ID, rt.Hash)),
	}
	for i, next := range nexts {
		lookups[fmt.Sprint("next token ", i)] = errOf(s.GetRefreshToken(ctx, r.ID, next.Hash))
	}
	wantGone(t, "concurrent reuse", lookups)
}

func testSessions(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	c1, c2 := store.Client{ID: id("c"), ClientID: "one"}, store.Client{ID: id("c"), ClientID: "two"}
	u, v := store.User{ID: id("u"), Username: "alice"}, store.User{ID: id("u"), Username: "bob"}
	must(t, s.CreateClient(ctx, r.ID, c1))
	must(t, s.CreateClient(ctx, r.ID, c2))
	must(t, s.CreateUser(ctx, r.ID, u))
	must(t, s.CreateUser(ctx, r.ID, v))
	s1, rt1 := newSession(c1, u, time.Hour)
	s2, rt2 := newSession(c2, u, time.Hour)
	s3, rt3 := newSession(c2, v, time.Hour)
	for _, x := range []struct {
		s  store.Session
		rt store.RefreshToken
	}{{s1, rt1}, {s2, rt2}, {s3, rt3}} {
		must(t, s.CreateSession(ctx, r.ID, x.s, x.rt))
	}
	// A second token in s1's family.
	rt1b := refreshToken(s1, clock(), time.Hour)
	must(t, errOf(s.RotateRefreshToken(ctx, r.ID, rt1.Hash, rt1b, store.RotationPolicy{}, clock())))

	ids := func(q store.SessionQuery) string {
		got, err := s.ListSessions(ctx, r.ID, q)
		must(t, err)
		set := map[string]bool{}
		for _, x := range got {
			set[x.ID] = true
		}
		var out []string
		for _, x := range []store.Session{s1, s2, s3} {
			if set[x.ID] {
				out = append(out, x.ID)
			}
		}
		if len(out) != len(got) {
			t.Errorf("ListSessions(%+v) returned unknown or duplicate sessions: %v", q, got)
		}
		return fmt.Sprint(out)
	}
	for _, tc := range []struct {
		q    store.SessionQuery
		want []store.Session
	}{
		{store.SessionQuery{UserID: u.ID}, []store.Session{s1, s2}},
		{store.SessionQuery{UserID: v.ID}, []store.Session{s3}},
		{store.SessionQuery{ClientID: c1.ID}, []store.Session{s1}},
		{store.SessionQuery{ClientID: c2.ID}, []store.Session{s2, s3}},
		{store.SessionQuery{UserID: u.ID, ClientID: c2.ID}, []store.Session{s2}},
		{store.SessionQuery{UserID: "nobody"}, nil},
	} {
		var want []string
		for _, x := range tc.want {
			want = append(want, x.ID)
		}
		if got := ids(tc.q); got != fmt.Sprint(want) {
			t.Errorf("ListSessions(%+v) = %s, want %v", tc.q, got, want)
		}
	}

	must(t, s.DeleteSession(ctx, r.ID, s1.ID))
	wantGone(t, "deleted session", map[string]error{
		"session":       errOf(s.GetSession(ctx, r.ID, s1.ID)),
		"rotated token": errOf(s.GetRefreshToken(ctx, r.ID, rt1.Hash)),
		"current token": errOf(s.GetRefreshToken(ctx, r.ID, rt1b.Hash)),
	})
	wantErr(t, s.DeleteSession(ctx, r.ID, s1.ID), store.ErrNotFound)
	wantErr(t, s.DeleteSession(ctx, r.ID, "missing"), store.ErrNotFound)
	wantThere(t, "deleted another session", map[string]error{
		"session": errOf(s.GetSession(ctx, r.ID, s2.ID)),
		"token":   errOf(s.GetRefreshToken(ctx, r.ID, rt2.Hash)),
	})
	if got := ids(store.SessionQuery{UserID: u.ID}); got != fmt.Sprint([]string{s2.ID}) {
		t.Errorf("after delete, user's sessions = %s", got)
	}
	if got := ids(store.SessionQuery{ClientID: c1.ID}); got != "[]" {
		t.Errorf("after delete, client's sessions = %s", got)
	}
}

func testRevokedJTI(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	other := mustRealm(t, s, "other")
	must(t, s.RevokeAccessToken(ctx, r.ID, "jti-1", clock().Add(time.Minute)))
	must(t, s.RevokeAccessToken(ctx, r.ID, "jti-1", clock().Add(time.Minute))) // idempotent
	if ok, err := s.IsAccessTokenRevoked(ctx, r.ID, "jti-1"); err != nil || !ok {
		t.Fatalf("revoked = %v, %v", ok, err)
	}
	if ok, err := s.IsAccessTokenRevoked(ctx, r.ID, "jti-2"); ok || err != nil {
		t.Fatalf("unknown jti: revoked = %v, %v", ok, err)
	}
	if ok, _ := s.IsAccessTokenRevoked(ctx, other.ID, "jti-1"); ok {
		t.Fatal("revocation leaked into another realm")
	}
}

func testDeleteExpired(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	c, u := store.Client{ID: id("c"), ClientID: "app"}, store.User{ID: id("u"), Username: "alice"}
	must(t, s.CreateClient(ctx, r.ID, c))
	must(t, s.CreateUser(ctx, r.ID, u))
	now := clock()
	mk := func(sessTTL, rtTTL time.Duration) (store.Session, store.RefreshToken) {
		sess, rt := newSessionAt(c, u, now, sessTTL, rtTTL)
		must(t, s.CreateSession(ctx, r.ID, sess, rt))
		return sess, rt
	}
	both, bothRT := mk(time.Minute, time.Minute)
	tokOnly, tokOnlyRT := mk(time.Hour, time.Minute) // the token expires, its session lives
	sessOnly, sessOnlyRT := mk(time.Minute, time.Hour)
	live, liveRT := mk(time.Hour, time.Hour)
	liveRotated := refreshToken(live, now, time.Hour)
	must(t, errOf(s.RotateRefreshToken(ctx, r.ID, liveRT.Hash, liveRotated, store.RotationPolicy{}, now)))
	must(t, s.RevokeAccessToken(ctx, r.ID, "old-jti", now.Add(time.Minute)))
	must(t, s.RevokeAccessToken(ctx, r.ID, "new-jti", now.Add(time.Hour)))

	// Nothing is expired yet.
	n, err := s.DeleteExpired(ctx, now, 100)
	must(t, err)
	if n != 0 {
		t.Fatalf("DeleteExpired before any expiry = %d", n)
	}

	later := now.Add(10 * time.Minute)
	n, err = s.DeleteExpired(ctx, later, 1)
	must(t, err)
	if n != 1 {
		t.Fatalf("limit 1 deleted %d", n)
	}
	for i := 0; ; i++ {
		if i == 50 {
			t.Fatal("DeleteExpired never reports 0")
		}
		n, err := s.DeleteExpired(ctx, later, 2)
		must(t, err)
		if n > 2 {
			t.Fatalf("limit 2 deleted %d", n)
		}
		if n == 0 {
			break
		}
	}
	wantGone(t, "expired", map[string]error{
		"expired session":                   errOf(s.GetSession(ctx, r.ID, both.ID)),
		"its token":                         errOf(s.GetRefreshToken(ctx, r.ID, bothRT.Hash)),
		"expired token":                     errOf(s.GetRefreshToken(ctx, r.ID, tokOnlyRT.Hash)),
		"expired session with a live token": errOf(s.GetSession(ctx, r.ID, sessOnly.ID)),
		"that live token":                   errOf(s.GetRefreshToken(ctx, r.ID, sessOnlyRT.Hash)),
	})
	if ok, _ := s.IsAccessTokenRevoked(ctx, r.ID, "old-jti"); ok {
		t.Error("expired revoked jti kept")
	}
	wantThere(t, "unexpired", map[string]error{
		"session of an expired token": errOf(s.GetSession(ctx, r.ID, tokOnly.ID)),
		"live session":                errOf(s.GetSession(ctx, r.ID, live.ID)),
		"its rotated-out token":       errOf(s.GetRefreshToken(ctx, r.ID, liveRT.Hash)),
		"its current token":           errOf(s.GetRefreshToken(ctx, r.ID, liveRotated.Hash)),
	})
	if ok, _ := s.IsAccessTokenRevoked(ctx, r.ID, "new-jti"); !ok {
		t.Error("unexpired revoked jti deleted")
	}
	if got, _ := s.ListSessions(ctx, r.ID, store.SessionQuery{UserID: u.ID}); len(got) != 2 {
		t.Errorf("sessions left = %v, want the 2 unexpired", got)
	}
	// Once everything has expired, everything goes.
	for i := 0; ; i++ {
		if i == 50 {
			t.Fatal("DeleteExpired never reports 0")
		}
		if n, err := s.DeleteExpired(ctx, now.Add(2*time.Hour), 100); err != nil || n == 0 {
			must(t, err)
			break
		}
	}
	if got, _ := s.ListSessions(ctx, r.ID, store.SessionQuery{UserID: u.ID}); len(got) != 0 {
		t.Errorf("sessions left after all expired = %v", got)
	}
	wantGone(t, "all expired", map[string]error{"token": errOf(s.GetRefreshToken(ctx, r.ID, liveRotated.Hash))})
	if ok, _ := s.IsAccessTokenRevoked(ctx, r.ID, "new-jti"); ok {
		t.Error("expired revoked jti kept")
	}
}

func testAddRefreshToken(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "sso")
	now := clock()
	sess := store.Session{ID: id("sess"), UserID: "u1", AuthTime: now, LastRefresh: now, ExpiresAt: now.Add(time.Hour)}
	must(t, s.CreateSession(ctx, r.ID, sess, store.RefreshToken{}))
	got, err := s.GetSession(ctx, r.ID, sess.ID)
	must(t, err)
	if got.UserID != "u1" || got.ClientID != "" {
		t.Fatalf("session = %+v", got)
	}
	rt := store.RefreshToken{Hash: id("rt"), SessionID: sess.ID, ClientID: "c1", UserID: "u1", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	must(t, s.AddRefreshToken(ctx, r.ID, rt, now))
	if _, err := s.GetRefreshToken(ctx, r.ID, rt.Hash); err != nil {
		t.Fatalf("added token: %v", err)
	}
	if err := s.AddRefreshToken(ctx, r.ID, store.RefreshToken{Hash: id("rt"), SessionID: sess.ID, ExpiresAt: now.Add(2 * time.Hour)}, now.Add(time.Hour)); !errors.Is(err, store.ErrTokenExpired) {
		t.Fatalf("add to expired session: %v, want ErrTokenExpired", err)
	}
	// Activity moves LastRefresh forward only, and only while it lives.
	must(t, s.TouchSession(ctx, r.ID, sess.ID, now.Add(time.Minute)))
	must(t, s.TouchSession(ctx, r.ID, sess.ID, now))
	if got, _ := s.GetSession(ctx, r.ID, sess.ID); !got.LastRefresh.Equal(now.Add(time.Minute)) {
		t.Fatalf("LastRefresh after touch = %v, want %v", got.LastRefresh, now.Add(time.Minute))
	}
	if err := s.TouchSession(ctx, r.ID, sess.ID, now.Add(time.Hour)); !errors.Is(err, store.ErrTokenExpired) {
		t.Fatalf("touch expired session: %v", err)
	}
	// Ending the session ends the token added to it.
	must(t, s.DeleteSession(ctx, r.ID, sess.ID))
	if _, err := s.GetRefreshToken(ctx, r.ID, rt.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("token after session end: %v", err)
	}
	if err := s.AddRefreshToken(ctx, r.ID, store.RefreshToken{Hash: id("rt"), SessionID: sess.ID, ExpiresAt: now.Add(time.Hour)}, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("add to ended session: %v, want ErrNotFound", err)
	}
	if err := s.TouchSession(ctx, r.ID, sess.ID, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("touch ended session: %v, want ErrNotFound", err)
	}
}
