package oidc_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/store"
)

// An x/oauth2 TokenSource refreshes an expired token through the refresh
// grant; the new access token has a fresh iat (fosite's stock session would
// keep the first one) and the refresh token rotated.
func TestRefreshWithOAuth2TokenSource(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	conf := oauth2.Config{ClientID: "app", ClientSecret: e.secret, Endpoint: oauth2.Endpoint{
		TokenURL: e.endpoint("token"), AuthStyle: oauth2.AuthStyleInHeader}}
	tok, err := conf.PasswordCredentialsToken(ctx, "alice", alicePassword)
	if err != nil {
		t.Fatal(err)
	}
	first := claims(t, tok.AccessToken)
	e.clock.advance(time.Second) // iat has one-second resolution
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	next, err := conf.TokenSource(ctx, &expired).Token()
	if err != nil {
		t.Fatal(err)
	}
	if next.AccessToken == tok.AccessToken || next.RefreshToken == tok.RefreshToken {
		t.Fatal("refresh returned the same tokens")
	}
	c := claims(t, next.AccessToken)
	if c["iat"].(float64) <= first["iat"].(float64) {
		t.Errorf("iat not fresh: %v then %v", first["iat"], c["iat"])
	}
	if c["sid"] != first["sid"] || c["sub"] != first["sub"] {
		t.Errorf("refresh changed the session or subject")
	}
}

// A rotated-out refresh token presented again ends the whole session: the
// reuse gets invalid_grant and so does the token that replaced it.
func TestRefreshReuseRevokesFamily(t *testing.T) {
	e := newEnv(t)
	login := e.passwordLogin(nil)
	rt1 := login.str("refresh_token")
	refresh := func(rt string) response {
		return e.post("token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "app", e.secret)
	}
	r2 := refresh(rt1)
	if r2.status != 200 {
		t.Fatalf("first refresh: %d %s", r2.status, r2.raw)
	}
	reuse := refresh(rt1)
	if reuse.status != 400 || reuse.str("error") != "invalid_grant" || reuse.str("error_description") != "Maximum allowed refresh token reuse exceeded" {
		t.Fatalf("reuse: %d %s", reuse.status, reuse.raw)
	}
	if r := refresh(r2.str("refresh_token")); r.status != 400 || r.str("error") != "invalid_grant" {
		t.Fatalf("successor still works after reuse: %d %s", r.status, r.raw)
	}
	// The family's access token is dead too.
	in := e.post("token/introspect", url.Values{"token": {r2.str("access_token")}}, "app", e.secret)
	if in.body["active"] != false {
		t.Errorf("access token of a revoked session is active: %s", in.raw)
	}
}

// N parallel refreshes of one token: exactly one wins, the rest get
// invalid_grant, and the family is revoked (the winner's token too).
func TestRefreshConcurrentReuse(t *testing.T) {
	e := newEnv(t)
	rt := e.passwordLogin(nil).str("refresh_token")
	const n = 8
	var wg sync.WaitGroup
	results := make([]response, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = e.post("token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "app", e.secret)
		}()
	}
	wg.Wait()
	var winners []response
	for _, r := range results {
		switch {
		case r.status == 200:
			winners = append(winners, r)
		case r.status == 400 && r.str("error") == "invalid_grant":
		default:
			t.Errorf("unexpected answer %d %s", r.status, r.raw)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d refreshes succeeded, want exactly 1", len(winners))
	}
	r := e.post("token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {winners[0].str("refresh_token")}}, "app", e.secret)
	if r.status != 400 {
		t.Errorf("family not revoked: winner's refresh token still works (%d)", r.status)
	}
}

// With a realm reuse grace, presenting the previous token again within it
// succeeds without ending the session.
func TestRefreshReuseWithinGrace(t *testing.T) {
	e := newEnv(t, withRealm(func(r *store.Realm) { r.RefreshTokenReuseGraceSeconds = 30 }))
	rt1 := e.passwordLogin(nil).str("refresh_token")
	refresh := func(rt string) response {
		return e.post("token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "app", e.secret)
	}
	a := refresh(rt1)
	b := refresh(rt1)
	if a.status != 200 || b.status != 200 {
		t.Fatalf("grace reuse: %d %s / %d %s", a.status, a.raw, b.status, b.raw)
	}
	if r := refresh(a.str("refresh_token")); r.status != 200 {
		t.Fatalf("session ended by a reuse within grace: %s", r.raw)
	}
	// Beyond the allowed reuse count the family is revoked after all.
	if r := refresh(rt1); r.status != 400 {
		t.Fatalf("second reuse allowed: %d", r.status)
	}
}

// A refresh re-reads the user: role changes appear, disabled and deleted
// users are refused.
func TestRefreshRereadsUser(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	refresh := func(rt string) response {
		return e.post("token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "app", e.secret)
	}
	rt := e.passwordLogin(nil).str("refresh_token")
	role, err := e.svc.CreateRole(ctx, "demo", store.Role{Name: "reader"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.GrantRoles(ctx, "demo", e.alice.ID, role.ID); err != nil {
		t.Fatal(err)
	}
	r := refresh(rt)
	if r.status != 200 {
		t.Fatal(r.raw)
	}
	if !slices.Contains(realmRoles(claims(t, r.str("access_token"))), "reader") {
		t.Errorf("new role missing after refresh")
	}
	if _, err := e.svc.UpdateUser(ctx, "demo", e.alice.ID, func(u *store.User) error { u.Enabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if r2 := refresh(r.str("refresh_token")); r2.status != 400 || r2.str("error_description") != "User disabled" {
		t.Errorf("disabled user: %d %s", r2.status, r2.raw)
	}
	if _, err := e.svc.UpdateUser(ctx, "demo", e.alice.ID, func(u *store.User) error { u.Enabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteUser(ctx, "demo", e.alice.ID); err != nil {
		t.Fatal(err)
	}
	if r3 := refresh(r.str("refresh_token")); r3.status != 400 || r3.str("error") != "invalid_grant" {
		t.Errorf("deleted user: %d %s", r3.status, r3.raw)
	}
}

// Only refresh tokens of the time-ordered kind are looked up: a 32-byte
// token stored under its bare hex SHA-256, a shape no release issued, is
// refused even though a row for it exists.
func TestRefreshBareHashTokenIsRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var secret [32]byte
	if _, err := rand.Read(secret[:]); err != nil {
		t.Fatal(err)
	}
	legacy := base64.RawURLEncoding.EncodeToString(secret[:])
	sum := sha256.Sum256([]byte(legacy))
	now := time.Now()
	sess := store.Session{ID: "legacy-session", ClientID: e.app.ID, UserID: e.alice.ID,
		AuthTime: now, LastRefresh: now, ExpiresAt: now.Add(time.Hour)}
	rt := store.RefreshToken{Hash: hex.EncodeToString(sum[:]), SessionID: sess.ID, ClientID: e.app.ID,
		UserID: e.alice.ID, IssuedAt: now, ExpiresAt: now.Add(30 * time.Minute)}
	realm, err := e.svc.Realm(ctx, e.realm)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateSession(ctx, realm.Realm.ID, sess, rt); err != nil {
		t.Fatal(err)
	}
	r := e.post("token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {legacy}}, "app", e.secret)
	if r.status != 400 || r.str("error") != "invalid_grant" {
		t.Fatalf("bare-hash refresh token: %d %s, want 400 invalid_grant", r.status, r.raw)
	}
}
