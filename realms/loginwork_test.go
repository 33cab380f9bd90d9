package realms

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

// TestEveryLoginOutcomeCostsOneHash: whether the user exists, has a
// password, is locked out or typed the right password, a login spends
// exactly one password verification, so response time does not tell an
// attacker which usernames exist. Counting the verifications proves it
// without a timing test that a busy machine could fail.
func TestEveryLoginOutcomeCostsOneHash(t *testing.T) {
	svc, st, _ := bruteForceService(t, store.BruteForcePolicy{Protected: true, FailureFactor: 1, WaitIncrementSeconds: 600, MaxDeltaTimeSeconds: 3600})
	ctx := context.Background()
	for _, u := range []NewUser{
		{User: store.User{Username: "alice", Enabled: true}, Password: "alice-Secret-1"},
		{User: store.User{Username: "nopass", Enabled: true}},
		{User: store.User{Username: "locked", Enabled: true}, Password: "locked-Secret-1"},
	} {
		if _, err := svc.CreateUser(ctx, "bench", u); err != nil {
			t.Fatal(err)
		}
	}
	// One failure locks "locked" out (failure factor 1).
	if _, err := svc.AuthenticateUser(ctx, st.Realm, "locked", "wrong", "192.0.2.1"); err == nil {
		t.Fatal("wrong password accepted")
	}
	for _, tc := range []struct {
		name, username, password string
		ok                       bool
	}{
		{"unknown user", "nobody-here", "whatever", false},
		{"known user, right password", "alice", "alice-Secret-1", true},
		{"known user, wrong password", "alice", "wrong", false},
		{"user without a password", "nopass", "whatever", false},
		{"locked-out user, right password", "locked", "locked-Secret-1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := svc.hashes.Load()
			_, err := svc.AuthenticateUser(ctx, st.Realm, tc.username, tc.password, "192.0.2.2")
			if (err == nil) != tc.ok {
				t.Fatalf("AuthenticateUser = %v, want success %v", err, tc.ok)
			}
			if n := svc.hashes.Load() - before; n != 1 {
				t.Errorf("%d password verifications, want exactly 1", n)
			}
		})
	}
}
