package realms

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// readCounter counts the store reads a key presentation can cause.
type readCounter struct {
	store.Store
	reads atomic.Int64
}

func (c *readCounter) GetAPIKey(ctx context.Context, realmID, id string) (store.APIKey, error) {
	c.reads.Add(1)
	return c.Store.GetAPIKey(ctx, realmID, id)
}

func (c *readCounter) GetLoginFailure(ctx context.Context, realmID, key string) (store.LoginFailure, error) {
	c.reads.Add(1)
	return c.Store.GetLoginFailure(ctx, realmID, key)
}

func (c *readCounter) GetUser(ctx context.Context, realmID, id string) (store.User, error) {
	c.reads.Add(1)
	return c.Store.GetUser(ctx, realmID, id)
}

type keyEnv struct {
	svc   *Service
	st    *readCounter
	now   *time.Time
	realm store.Realm
	alice store.User
}

func newKeyEnv(t *testing.T, realm store.Realm) *keyEnv {
	t.Helper()
	st := &readCounter{Store: openTestStore(t)}
	sealer := zeroSealer()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	svc := NewService(st, sealer, func() time.Time { return now })
	ctx := context.Background()
	realm.Name, realm.Enabled = "demo", true
	r, err := svc.CreateRealm(ctx, realm)
	if err != nil {
		t.Fatal(err)
	}
	alice, err := svc.CreateUser(ctx, "demo", NewUser{User: store.User{Username: "alice", Enabled: true}, Password: "pw-Alice-1"})
	if err != nil {
		t.Fatal(err)
	}
	return &keyEnv{svc: svc, st: st, now: &now, realm: r, alice: alice}
}

func (e *keyEnv) create(t *testing.T, in NewAPIKey) (store.APIKey, string) {
	t.Helper()
	rec, key, err := e.svc.CreateAPIKey(context.Background(), "demo", e.alice.ID, in, Actor{UserID: e.alice.ID})
	if err != nil {
		t.Fatal(err)
	}
	return rec, key
}

func (e *keyEnv) authenticate(key string) error {
	r, _ := e.svc.Realm(context.Background(), "demo")
	_, _, err := e.svc.AuthenticateAPIKey(context.Background(), r.Realm, key, "192.0.2.1")
	return err
}

func TestAPIKeyFormatIsScannableAndSelfChecking(t *testing.T) {
	e := newKeyEnv(t, store.Realm{})
	rec, key := e.create(t, NewAPIKey{})
	if !regexp.MustCompile(`^ghk_[0-9a-f]{16}_[0-9A-Za-z]{49}$`).MatchString(key) {
		t.Fatalf("key %q does not have the documented shape", key)
	}
	if !strings.Contains(key, rec.ID) {
		t.Fatalf("key %q does not carry its ID %s", key, rec.ID)
	}
	if strings.Contains(string(rec.Digest), key) || len(rec.Digest) != 32 {
		t.Fatalf("stored digest %x is not a 256-bit hash", rec.Digest)
	}
	_, key2 := e.create(t, NewAPIKey{})
	if key2[len(APIKeyPrefix)+17:len(key2)-6] == key[len(APIKeyPrefix)+17:len(key)-6] {
		t.Fatal("two keys share a secret")
	}
}

// A mistyped key is refused before any store read; a well-formed one with
// a wrong secret costs the reads that check it.
func TestMistypedAPIKeyRefusedWithoutStoreRead(t *testing.T) {
	e := newKeyEnv(t, store.Realm{})
	_, key := e.create(t, NewAPIKey{})
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	for name, bad := range map[string]string{
		"one secret character changed": flip(key, len(APIKeyPrefix)+20),
		"one ID character changed":     flip(key, len(APIKeyPrefix)+1),
		"checksum changed":             flip(key, len(key)-1),
		"truncated":                    key[:len(key)-1],
		"wrong prefix":                 "ghx_" + key[4:],
		"empty":                        "",
	} {
		before := e.st.reads.Load()
		if err := e.authenticate(bad); !errors.Is(err, ErrAPIKeyInvalid) {
			t.Errorf("%s: %v, want ErrAPIKeyInvalid", name, err)
		}
		if n := e.st.reads.Load() - before; n != 0 {
			t.Errorf("%s: %d store reads, want none", name, n)
		}
	}
	before := e.st.reads.Load()
	if err := e.authenticate(key); err != nil {
		t.Fatalf("the key itself: %v", err)
	}
	if e.st.reads.Load() == before {
		t.Fatal("the counter sees no reads for a valid key: it measures nothing")
	}
}

func TestAPIKeyExpiryPolicy(t *testing.T) {
	e := newKeyEnv(t, store.Realm{APIKeyDefaultLifespanDays: 30, APIKeyMaxLifespanDays: 90})
	ctx := context.Background()
	now := *e.now
	rec, _ := e.create(t, NewAPIKey{})
	if want := now.AddDate(0, 0, 30); !rec.ExpiresAt.Equal(want) {
		t.Errorf("default expiry %v, want the realm's 30 days (%v)", rec.ExpiresAt, want)
	}
	rec, _ = e.create(t, NewAPIKey{ExpiresAt: now.AddDate(0, 0, 90)})
	if !rec.ExpiresAt.Equal(now.AddDate(0, 0, 90)) {
		t.Errorf("expiry at the maximum: %v", rec.ExpiresAt)
	}
	for name, exp := range map[string]time.Time{
		"beyond the maximum": now.AddDate(0, 0, 90).Add(time.Second),
		"in the past":        now.Add(-time.Second),
	} {
		_, _, err := e.svc.CreateAPIKey(ctx, "demo", e.alice.ID, NewAPIKey{ExpiresAt: exp}, Actor{})
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != "expiresAt" {
			t.Errorf("%s: %v, want a ValidationError on expiresAt", name, err)
		}
		if name == "beyond the maximum" && (ve == nil || !strings.Contains(ve.Message, "90 days")) {
			t.Errorf("the refusal does not name the maximum: %v", err)
		}
	}
	// A key stops working when it expires.
	_, key := e.create(t, NewAPIKey{ExpiresAt: now.Add(time.Hour)})
	if err := e.authenticate(key); err != nil {
		t.Fatal(err)
	}
	*e.now = now.Add(time.Hour)
	if err := e.authenticate(key); !errors.Is(err, ErrAPIKeyInvalid) {
		t.Fatalf("expired key: %v", err)
	}
}

func TestParseKeyExpiry(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2027-01-31":                time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC),
		"2027-01-31T10:00:00Z":      time.Date(2027, 1, 31, 10, 0, 0, 0, time.UTC),
		"2027-01-31T10:00:00+02:00": time.Date(2027, 1, 31, 8, 0, 0, 0, time.UTC),
	} {
		got, err := ParseKeyExpiry(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseKeyExpiry(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "tomorrow", "2027-13-01", "31/01/2027"} {
		if _, err := ParseKeyExpiry(bad); err == nil {
			t.Errorf("ParseKeyExpiry(%q) accepted", bad)
		}
	}
}

func TestAPIKeyRevokedAtOnce(t *testing.T) {
	ctx := context.Background()
	for name, revoke := range map[string]func(e *keyEnv, rec store.APIKey) error{
		"key deleted": func(e *keyEnv, rec store.APIKey) error {
			return e.svc.DeleteAPIKey(ctx, "demo", e.alice.ID, rec.ID, Actor{})
		},
		"all keys deleted by an admin": func(e *keyEnv, rec store.APIKey) error {
			n, err := e.svc.DeleteAPIKeys(ctx, "demo", e.alice.ID, Actor{})
			if n != 1 {
				t.Errorf("DeleteAPIKeys removed %d keys", n)
			}
			return err
		},
		"user disabled": func(e *keyEnv, rec store.APIKey) error {
			_, err := e.svc.UpdateUser(ctx, "demo", e.alice.ID, func(u *store.User) error { u.Enabled = false; return nil })
			return err
		},
		"user deleted": func(e *keyEnv, rec store.APIKey) error { return e.svc.DeleteUser(ctx, "demo", e.alice.ID) },
		"user not-before pushed": func(e *keyEnv, rec store.APIKey) error {
			*e.now = e.now.Add(time.Second)
			_, err := e.svc.UpdateUser(ctx, "demo", e.alice.ID, func(u *store.User) error { u.NotBefore = e.now.Unix(); return nil })
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := newKeyEnv(t, store.Realm{})
			rec, key := e.create(t, NewAPIKey{})
			if err := e.authenticate(key); err != nil {
				t.Fatal(err)
			}
			if err := revoke(e, rec); err != nil {
				t.Fatal(err)
			}
			if err := e.authenticate(key); !errors.Is(err, ErrAPIKeyInvalid) {
				t.Fatalf("after revocation: %v, want ErrAPIKeyInvalid", err)
			}
		})
	}
}

func TestAPIKeyOwnershipAndEvents(t *testing.T) {
	e := newKeyEnv(t, store.Realm{})
	ctx := context.Background()
	bob, err := e.svc.CreateUser(ctx, "demo", NewUser{User: store.User{Username: "bob", Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	rec, key := e.create(t, NewAPIKey{Description: "ci"})
	if err := e.svc.DeleteAPIKey(ctx, "demo", bob.ID, rec.ID, Actor{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("bob deleting alice's key: %v, want not found", err)
	}
	counts, err := e.svc.APIKeyCounts(ctx, "demo")
	if err != nil || counts[e.alice.ID] != 1 || counts[bob.ID] != 0 {
		t.Fatalf("counts %v, %v", counts, err)
	}
	*e.now = e.now.Add(time.Second)
	if err := e.svc.DeleteAPIKey(ctx, "demo", e.alice.ID, rec.ID, Actor{UserID: e.alice.ID, Username: "alice"}); err != nil {
		t.Fatal(err)
	}
	events, err := e.st.ListAdminEvents(ctx, e.realm.ID, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, ev := range events {
		if strings.Contains(ev.Representation, key[len(APIKeyPrefix)+17:]) {
			t.Errorf("event %s carries the secret", ev.OperationType)
		}
		if ev.ResourcePath == apiKeyPath(e.alice.ID, rec.ID) {
			ops = append(ops, ev.OperationType)
		}
	}
	if strings.Join(ops, ",") != "DELETE,CREATE" {
		t.Fatalf("events for the key: %v, want DELETE,CREATE (newest first)", ops)
	}
}

func TestAPIKeyBruteForceLocksTheKey(t *testing.T) {
	e := newKeyEnv(t, store.Realm{BruteForce: store.BruteForcePolicy{Protected: true, FailureFactor: 3,
		WaitIncrementSeconds: 60, QuickLoginCheckMilliSeconds: 1, MinimumQuickLoginWaitSeconds: 1}})
	_, key := e.create(t, NewAPIKey{})
	// A forger who knows the public format makes keys with valid checksums.
	id, _ := parseAPIKey(key)
	forged := func(i int) string {
		body := APIKeyPrefix + id + "_" + base62([]byte{byte(i)}, apiKeySecretLen)
		return body + apiKeyChecksum(body)
	}
	for i := range 3 {
		*e.now = e.now.Add(2 * time.Second)
		if err := e.authenticate(forged(i)); !errors.Is(err, ErrAPIKeyInvalid) {
			t.Fatalf("forged key %d: %v", i, err)
		}
	}
	if err := e.authenticate(key); !errors.Is(err, ErrAPIKeyInvalid) {
		t.Fatalf("right key while locked: %v, want refused", err)
	}
	*e.now = e.now.Add(61 * time.Second)
	if err := e.authenticate(key); err != nil {
		t.Fatalf("right key after the wait: %v", err)
	}
	// The user's password login is not what was locked.
	r, _ := e.svc.Realm(context.Background(), "demo")
	if _, err := e.svc.AuthenticateUser(context.Background(), r.Realm, "alice", "pw-Alice-1", "192.0.2.1"); err != nil {
		t.Fatalf("password login: %v", err)
	}
}
