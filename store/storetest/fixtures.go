package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// Seed creates realm r1 ("demo") with client c1 (clientId "app") and user
// u1 ("alice"): the fixture of the backends' own tests and benchmarks.
func Seed(t testing.TB, s store.Store) store.Realm {
	t.Helper()
	r := store.Realm{ID: "r1", Name: "demo", Enabled: true}
	for _, err := range []error{
		s.CreateRealm(ctx, r),
		s.CreateClient(ctx, r.ID, store.Client{ID: "c1", ClientID: "app"}),
		s.CreateUser(ctx, r.ID, store.User{ID: "u1", Username: "alice"}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// StartSession starts session sid of u1 at c1 in Seed's realm, ending at
// exp, with first refresh token sid+"-0", and returns that token.
func StartSession(t testing.TB, s store.Store, sid string, exp time.Time) store.RefreshToken {
	t.Helper()
	sess := store.Session{ID: sid, ClientID: "c1", UserID: "u1", ExpiresAt: exp}
	rt := store.RefreshToken{Hash: sid + "-0", SessionID: sid, ClientID: "c1", UserID: "u1", ExpiresAt: exp}
	if err := s.CreateSession(ctx, "r1", sess, rt); err != nil {
		t.Fatal(err)
	}
	return rt
}
