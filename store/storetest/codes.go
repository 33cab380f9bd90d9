package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// codeTests cover authorization and device codes.
var codeTests = []conformanceTest{
	{"AuthCodeSingleUseAcrossCallers", testAuthCodeSingleUse},
	{"AuthCodeExpiredAndUnknown", testAuthCodeExpired},
	{"DeviceCodesByUserCodeAndExpiry", testDeviceCodes},
}

func testAuthCodeSingleUse(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "codes")
	now := clock()
	c := store.AuthCode{Hash: "code-1", ClientID: "c1", UserID: "u1", SessionID: "s1", RedirectURI: "https://app/cb",
		Scope: "openid", Nonce: "n", CodeChallenge: "ch", IssuedAt: now, ExpiresAt: now.Add(time.Minute)}
	must(t, s.CreateAuthCode(ctx, r.ID, c))
	wantErr(t, s.CreateAuthCode(ctx, r.ID, c), store.ErrAlreadyExists)
	// Many concurrent redemptions (replicas racing): exactly one wins, the
	// others see the reuse with the record, so they can revoke.
	const n = 8
	var wins, reuses atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := s.ConsumeAuthCode(ctx, r.ID, "code-1", now)
			switch {
			case err == nil:
				wins.Add(1)
				if got.SessionID != "s1" || got.RedirectURI != c.RedirectURI || got.CodeChallenge != "ch" || got.Nonce != "n" {
					t.Errorf("consumed code = %+v", got)
				}
			case errors.Is(err, store.ErrTokenReused):
				reuses.Add(1)
				if got.SessionID != "s1" {
					t.Errorf("reused code record = %+v", got)
				}
			default:
				t.Errorf("ConsumeAuthCode: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || reuses.Load() != n-1 {
		t.Fatalf("wins %d reuses %d, want 1 and %d", wins.Load(), reuses.Load(), n-1)
	}
	// Another realm cannot see the code.
	r2 := mustRealm(t, s, "codes2")
	if _, err := s.ConsumeAuthCode(ctx, r2.ID, "code-1", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other realm: %v, want ErrNotFound", err)
	}
}

func testAuthCodeExpired(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "codes")
	now := clock()
	if _, err := s.ConsumeAuthCode(ctx, r.ID, "nope", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown code: %v, want ErrNotFound", err)
	}
	must(t, s.CreateAuthCode(ctx, r.ID, store.AuthCode{Hash: "old", ClientID: "c", IssuedAt: now, ExpiresAt: now.Add(time.Minute)}))
	if _, err := s.ConsumeAuthCode(ctx, r.ID, "old", now.Add(time.Minute)); !errors.Is(err, store.ErrTokenExpired) {
		t.Fatalf("expired code: %v, want ErrTokenExpired", err)
	}
	// Expiry wrote nothing: still expired, not reused.
	if _, err := s.ConsumeAuthCode(ctx, r.ID, "old", now.Add(2*time.Minute)); !errors.Is(err, store.ErrTokenExpired) {
		t.Fatalf("expired code again: %v, want ErrTokenExpired", err)
	}
	if _, err := s.DeleteExpired(ctx, now.Add(2*time.Minute), 100); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumeAuthCode(ctx, r.ID, "old", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("code after DeleteExpired: %v, want ErrNotFound", err)
	}
}

func testDeviceCodes(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "device")
	now := clock()
	d := store.DeviceCode{Hash: "dev-1", UserCode: "BCDFGHJK", ClientID: "c1", Scope: "openid", Status: store.DevicePending,
		IssuedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
	must(t, s.CreateDeviceCode(ctx, r.ID, d))
	wantErr(t, s.CreateDeviceCode(ctx, r.ID, store.DeviceCode{Hash: "dev-2", UserCode: "BCDFGHJK", ExpiresAt: now.Add(time.Minute)}), store.ErrAlreadyExists)
	wantErr(t, s.CreateDeviceCode(ctx, r.ID, store.DeviceCode{Hash: "dev-1", UserCode: "OTHER", ExpiresAt: now.Add(time.Minute)}), store.ErrAlreadyExists)
	got, err := s.GetDeviceCodeByUserCode(ctx, r.ID, "BCDFGHJK")
	must(t, err)
	if got.Hash != "dev-1" || got.ClientID != "c1" || got.Status != store.DevicePending || !got.ExpiresAt.Equal(d.ExpiresAt) {
		t.Fatalf("device code = %+v", got)
	}
	up, err := s.UpdateDeviceCode(ctx, r.ID, "dev-1", func(x *store.DeviceCode) error {
		x.Status, x.UserID, x.SessionID, x.UserCode = store.DeviceApproved, "u1", "s1", "CHANGED"
		return nil
	})
	must(t, err)
	if up.Status != store.DeviceApproved || up.UserID != "u1" || up.UserCode != "BCDFGHJK" {
		t.Fatalf("updated = %+v", up)
	}
	errStop := errors.New("stop")
	if _, err := s.UpdateDeviceCode(ctx, r.ID, "dev-1", func(x *store.DeviceCode) error { x.Status = "x"; return errStop }); !errors.Is(err, errStop) {
		t.Fatalf("aborted update: %v", err)
	}
	if got, _ := s.GetDeviceCodeByUserCode(ctx, r.ID, "BCDFGHJK"); got.Status != store.DeviceApproved {
		t.Fatalf("aborted update wrote: %+v", got)
	}
	if _, err := s.GetDeviceCodeByUserCode(ctx, mustRealm(t, s, "device2").ID, "BCDFGHJK"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other realm: %v", err)
	}
	if _, err := s.DeleteExpired(ctx, now.Add(11*time.Minute), 100); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetDeviceCodeByUserCode(ctx, r.ID, "BCDFGHJK"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after expiry: %v", err)
	}
	if _, err := s.UpdateDeviceCode(ctx, r.ID, "dev-1", func(*store.DeviceCode) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update after expiry: %v", err)
	}
	// The user code is free again.
	must(t, s.CreateDeviceCode(ctx, r.ID, store.DeviceCode{Hash: "dev-3", UserCode: "BCDFGHJK", ExpiresAt: now.Add(time.Hour)}))
}
