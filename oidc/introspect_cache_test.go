package oidc_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// Introspection answers from a cache of verified tokens, so every change
// that ends a token must still end it after the token has been introspected
// (and cached): each case introspects twice, changes one thing, and expects
// {"active":false}.
func TestIntrospectionSeesChangesAfterCaching(t *testing.T) {
	ctx := context.Background()
	for name, change := range map[string]func(e *env, login response){
		"access token revoked": func(e *env, login response) {
			e.post("revoke", url.Values{"token": {login.str("access_token")}}, "app", e.secret)
		},
		"session ended by revoking its refresh token": func(e *env, login response) {
			e.post("revoke", url.Values{"token": {login.str("refresh_token")}}, "app", e.secret)
		},
		"user disabled": func(e *env, _ response) {
			t.Helper()
			must(t, errOnly(e.svc.UpdateUser(ctx, e.realm, e.alice.ID, func(u *store.User) error { u.Enabled = false; return nil })))
		},
		"user's tokens before now": func(e *env, _ response) {
			t.Helper()
			must(t, errOnly(e.svc.UpdateUser(ctx, e.realm, e.alice.ID, func(u *store.User) error {
				u.NotBefore = time.Now().Add(time.Minute).Unix()
				return nil
			})))
		},
		"user deleted": func(e *env, _ response) {
			if err := e.svc.DeleteUser(ctx, e.realm, e.alice.ID); err != nil {
				t.Fatal(err)
			}
		},
		"client disabled": func(e *env, _ response) {
			t.Helper()
			must(t, errOnly(e.svc.UpdateClient(ctx, e.realm, e.app.ID, func(c *store.Client) error { c.Enabled = false; return nil })))
		},
		"realm's tokens before now": func(e *env, _ response) {
			t.Helper()
			must(t, errOnly(e.svc.UpdateRealm(ctx, e.realm, func(r *store.Realm) error {
				r.NotBefore = time.Now().Add(time.Minute).Unix()
				return nil
			})))
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			login := e.passwordLogin(nil)
			at := login.str("access_token")
			// The introspecting client is another confidential client, so
			// disabling "app" does not also lock out the caller.
			_, secret, err := e.svc.CreateClient(ctx, e.realm, realms.NewClient{Client: store.Client{ClientID: "rs", Enabled: true}})
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if r := e.post("token/introspect", url.Values{"token": {at}}, "rs", secret); r.body["active"] != true {
					t.Fatalf("before the change: %s", r.raw)
				}
			}
			change(e, login)
			if r := e.post("token/introspect", url.Values{"token": {at}}, "rs", secret); r.body["active"] != false || len(r.body) != 1 {
				t.Fatalf("after the change: %d %s", r.status, r.raw)
			}
		})
	}
}

// The cached rendering answers with every claim of the token, as decoding
// the token on each request did.
func TestIntrospectionEchoesEveryClaim(t *testing.T) {
	e := newEnv(t)
	at := e.passwordLogin(url.Values{"scope": {"openid"}}).str("access_token")
	want := claims(t, at)
	want["active"], want["client_id"], want["username"], want["token_type"] = true, "app", "alice", "Bearer"
	for range 2 { // uncached, then cached
		r := e.post("token/introspect", url.Values{"token": {at}}, "app", e.secret)
		if diff := cmp.Diff(want, r.body); diff != "" {
			t.Fatalf("introspection (-want +got):\n%s", diff)
		}
	}
}

func errOnly[T any](_ T, err error) error { return err }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A store that cannot answer (a database that went away) makes
// introspection of a refresh token a 503 the caller may retry, never an
// inactive answer a resource server would take for a revocation, nor a 500.
func TestIntrospectionAnswers503WhenTheStoreIsUnavailable(t *testing.T) {
	e := newEnv(t)
	refresh := e.passwordLogin(nil).str("refresh_token")
	if r := e.post("token/introspect", url.Values{"token": {refresh}}, "app", e.secret); r.status != 200 || r.body["active"] != true {
		t.Fatalf("before: %d %s", r.status, r.raw)
	}
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	r := e.post("token/introspect", url.Values{"token": {refresh}}, "app", e.secret)
	if r.status != 503 || r.str("error") != "temporarily_unavailable" {
		t.Errorf("introspection with the store gone: %d %s", r.status, r.raw)
	}
}
