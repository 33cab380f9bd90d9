package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// credentialTests are the cases for user-held credentials and nonces.
var credentialTests = []conformanceTest{
	{"APIKeysPerUserAndGoneWithTheUser", testAPIKeys},
	{"AccessKeysUpdateKeepsOwner", testAccessKeys},
	{"NoncesSingleUseUntilExpiry", testNonces},
}

func twoUsers(t *testing.T, s store.Store) (store.Realm, store.User, store.User) {
	t.Helper()
	r := mustRealm(t, s, "demo")
	a := store.User{ID: id("user"), Username: "alice", Enabled: true}
	b := store.User{ID: id("user"), Username: "bob", Enabled: true}
	must(t, s.CreateUser(ctx, r.ID, a))
	must(t, s.CreateUser(ctx, r.ID, b))
	return r, a, b
}

func testAPIKeys(t *testing.T, s store.Store) {
	r, alice, bob := twoUsers(t, s)
	now := clock()
	mk := func(u store.User, age time.Duration) store.APIKey {
		k := store.APIKey{ID: id("key"), UserID: u.ID, Description: "ci", Digest: []byte{1, 2, 3},
			CreatedAt: now.Add(-age), ExpiresAt: now.Add(time.Hour)}
		must(t, s.CreateAPIKey(ctx, r.ID, k))
		return k
	}
	newer, older, bobs := mk(alice, time.Minute), mk(alice, time.Hour), mk(bob, 0)
	wantConflict(t, s.CreateAPIKey(ctx, r.ID, store.APIKey{ID: newer.ID, UserID: bob.ID}), "api-key", "id")
	wantEqual(t, "GetAPIKey", try(s.GetAPIKey(ctx, r.ID, newer.ID)).must(t), newer)
	wantEqual(t, "alice's keys, oldest first", try(s.ListAPIKeys(ctx, r.ID, alice.ID)).must(t), []store.APIKey{older, newer})
	wantEqual(t, "the realm's keys", len(try(s.ListAPIKeys(ctx, r.ID, "")).must(t)), 3)
	wantEqual(t, "a stranger's keys", len(try(s.ListAPIKeys(ctx, r.ID, "nobody")).must(t)), 0)

	must(t, s.DeleteAPIKey(ctx, r.ID, older.ID))
	wantErr(t, s.DeleteAPIKey(ctx, r.ID, older.ID), store.ErrNotFound)
	wantErr(t, errOf(s.GetAPIKey(ctx, r.ID, older.ID)), store.ErrNotFound)
	wantEqual(t, "alice's keys after a delete", try(s.ListAPIKeys(ctx, r.ID, alice.ID)).must(t), []store.APIKey{newer})

	must(t, s.DeleteUser(ctx, r.ID, alice.ID))
	wantGone(t, "alice deleted", map[string]error{"her key": errOf(s.GetAPIKey(ctx, r.ID, newer.ID))})
	wantEqual(t, "the realm's keys after alice went", try(s.ListAPIKeys(ctx, r.ID, "")).must(t), []store.APIKey{bobs})

	// Another realm sees none of them.
	other := mustRealm(t, s, "other")
	wantErr(t, errOf(s.GetAPIKey(ctx, other.ID, bobs.ID)), store.ErrNotFound)
	wantEqual(t, "another realm's keys", len(try(s.ListAPIKeys(ctx, other.ID, "")).must(t)), 0)
}

func testAccessKeys(t *testing.T, s store.Store) {
	r, alice, bob := twoUsers(t, s)
	k := store.AccessKey{ID: id("ak"), UserID: alice.ID, Type: "ed25519v1", PublicKey: []byte{9, 8, 7},
		Status: store.AccessKeyActive, CreatedAt: clock()}
	must(t, s.CreateAccessKey(ctx, r.ID, k))
	wantConflict(t, s.CreateAccessKey(ctx, r.ID, k), "access-key", "id")
	wantEqual(t, "GetAccessKey", try(s.GetAccessKey(ctx, r.ID, k.ID)).must(t), k)

	got := try(s.UpdateAccessKey(ctx, r.ID, k.ID, func(x *store.AccessKey) error {
		x.Status, x.UserID, x.ID = store.AccessKeyInactive, bob.ID, "other"
		return nil
	})).must(t)
	want := k
	want.Status = store.AccessKeyInactive
	wantEqual(t, "updated key (owner and ID kept)", got, want)
	wantEqual(t, "alice's keys", try(s.ListAccessKeys(ctx, r.ID, alice.ID)).must(t), []store.AccessKey{want})
	wantEqual(t, "bob's keys", len(try(s.ListAccessKeys(ctx, r.ID, bob.ID)).must(t)), 0)
	boom := errors.New("boom")
	wantErr(t, errOf(s.UpdateAccessKey(ctx, r.ID, k.ID, func(*store.AccessKey) error { return boom })), boom)
	wantErr(t, errOf(s.UpdateAccessKey(ctx, r.ID, "missing", func(*store.AccessKey) error { return nil })), store.ErrNotFound)

	must(t, s.DeleteAccessKey(ctx, r.ID, k.ID))
	wantErr(t, s.DeleteAccessKey(ctx, r.ID, k.ID), store.ErrNotFound)
	wantEqual(t, "alice's keys after the delete", len(try(s.ListAccessKeys(ctx, r.ID, alice.ID)).must(t)), 0)

	k2 := store.AccessKey{ID: id("ak"), UserID: bob.ID, Type: "rsav1", Status: store.AccessKeyActive, CreatedAt: clock()}
	must(t, s.CreateAccessKey(ctx, r.ID, k2))
	must(t, s.DeleteUser(ctx, r.ID, bob.ID))
	wantGone(t, "bob deleted", map[string]error{"his access key": errOf(s.GetAccessKey(ctx, r.ID, k2.ID))})
}

func testNonces(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	other := mustRealm(t, s, "other")
	now := clock()
	exp := now.Add(5 * time.Minute)
	must(t, s.ClaimNonce(ctx, r.ID, "sig-1", exp, now))
	wantConflict(t, s.ClaimNonce(ctx, r.ID, "sig-1", exp, now.Add(time.Minute)), "nonce", "value")
	must(t, s.ClaimNonce(ctx, other.ID, "sig-1", exp, now)) // realms do not share nonces
	must(t, s.ClaimNonce(ctx, r.ID, "sig-2", exp, now))
	// Past its expiry the record no longer blocks the value.
	must(t, s.ClaimNonce(ctx, r.ID, "sig-1", exp.Add(5*time.Minute), exp.Add(time.Second)))
	wantConflict(t, s.ClaimNonce(ctx, r.ID, "sig-1", exp.Add(5*time.Minute), exp.Add(2*time.Second)), "nonce", "value")

	// The janitor removes expired records (sig-2, and other's sig-1).
	n, err := s.DeleteExpired(ctx, exp.Add(time.Second), 100)
	must(t, err)
	if n != 2 {
		t.Errorf("DeleteExpired removed %d rows, want the 2 expired nonces", n)
	}
	must(t, s.ClaimNonce(ctx, r.ID, "sig-2", exp.Add(time.Hour), exp.Add(2*time.Second)))
}
