package bolt

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bbolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/internal/seeds"
	"github.com/gatehouse/gatehouse/store"
)

var (
	codecNow      = time.Date(2026, 11, 23, 6, 40, 1, 123456789, time.UTC)
	codecSessions = []store.Session{
		{},
		{ID: "s1", ClientID: "c1", UserID: "u1", Scope: "openid profile", AuthTime: codecNow, LastRefresh: codecNow.Add(time.Minute), ExpiresAt: codecNow.Add(10 * time.Hour)},
		{ID: "ünïcødé-☃", Scope: string(make([]byte, 300)), AuthTime: time.Unix(0, 1).UTC()},
		{ID: "s2", ClientID: "c1", UserID: "u1", AuthTime: codecNow, IPAddress: "2001:db8::1"},
	}
	codecTokens = []store.RefreshToken{
		{},
		{Hash: "0195a1b2c3d4e5f6" + "ab", SessionID: "s1", ClientID: "c1", UserID: "u1", Scope: "email", IssuedAt: codecNow,
			ExpiresAt: codecNow.Add(30 * time.Minute), UsedAt: codecNow.Add(time.Second), UseCount: 3},
		{Hash: "h", IssuedAt: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), UseCount: 1 << 40},
	}
)

// Both hot rows survive the binary form exactly as they survive JSON, zero
// times included; every truncation of an encoding, a trailing byte and the
// other row's tag are errors.
func TestHotRowsRoundTrip(t *testing.T) {
	for _, s := range codecSessions {
		roundTrip(t, s, appendSession, parseSession)
	}
	for _, rt := range codecTokens {
		roundTrip(t, rt, appendRefreshToken, parseRefreshToken)
	}
	var s store.Session
	if parseSession(appendRefreshToken(nil, codecTokens[1]), &s) == nil {
		t.Fatal("a refresh token row parsed as a session")
	}
}

// A session row written before sessions kept their address (the first
// layout, without the trailing address) still reads, with no address.
func TestSessionRowOfTheFirstLayoutStillReads(t *testing.T) {
	want := codecSessions[1]
	old := []byte{tagSession}
	for _, f := range []string{want.ID, want.ClientID, want.UserID, want.Scope} {
		old = appendString(old, f)
	}
	for _, tm := range []time.Time{want.AuthTime, want.LastRefresh, want.ExpiresAt} {
		old = appendTime(old, tm)
	}
	var got store.Session
	if err := parseSession(old, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(viaJSON(t, want), got); diff != "" {
		t.Error(diff)
	}
	if parseSession(append(old, 0), &got) == nil {
		t.Error("a first-layout row with a trailing byte parsed")
	}
}

func roundTrip[T any](t *testing.T, v T, appendRow func([]byte, T) []byte, parse func([]byte, *T) error) {
	t.Helper()
	raw := appendRow(nil, v)
	var got T
	if err := parse(raw, &got); err != nil {
		t.Fatalf("%+v: %v", v, err)
	}
	if diff := cmp.Diff(viaJSON(t, v), got); diff != "" {
		t.Errorf("%T (-JSON round trip +binary):\n%s", v, diff)
	}
	for n := range len(raw) {
		if parse(raw[:n], &got) == nil {
			t.Fatalf("%T truncated to %d of %d bytes parsed", v, n, len(raw))
		}
	}
	if parse(append(raw, 0), &got) == nil {
		t.Fatalf("%T with a trailing byte parsed", v)
	}
}

func viaJSON[T any](t *testing.T, v T) T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// getRow reads each row in the form putRow wrote it (binary for the hot
// rows, JSON for the rest), and a row in any other form, a JSON session
// included, is a corrupt-row error rather than a wrong value.
func TestRowsReadInTheFormPutRowWrote(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "rows.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket([]byte("rows"))
		if err != nil {
			return err
		}
		realm := store.Realm{ID: "r1", Name: "demo", Enabled: true}
		for key, v := range map[string]any{"session": codecSessions[1], "token": codecTokens[1], "realm": realm} {
			if err := putRow(b, key, v); err != nil {
				return err
			}
		}
		if raw := b.Get([]byte("session")); raw[0] != tagSessionIP {
			t.Errorf("session row starts with %q, want the binary tag", raw[0])
		}
		var s store.Session
		var rt store.RefreshToken
		var r store.Realm
		for key, v := range map[string]any{"session": &s, "token": &rt, "realm": &r} {
			if err := getRow(b, key, v); err != nil {
				return err
			}
		}
		if diff := cmp.Diff(viaJSON(t, codecSessions[1]), s); diff != "" {
			t.Errorf("session row:\n%s", diff)
		}
		if diff := cmp.Diff(viaJSON(t, codecTokens[1]), rt); diff != "" {
			t.Errorf("token row:\n%s", diff)
		}
		if !cmp.Equal(realm, r) {
			t.Errorf("realm row = %+v, want %+v", r, realm)
		}

		raw, _ := json.Marshal(codecSessions[1])
		if err := b.Put([]byte("json-session"), raw); err != nil {
			return err
		}
		for key, v := range map[string]any{"json-session": &s, "token": &s, "session": &r} {
			if err := getRow(b, key, v); err == nil || errors.Is(err, store.ErrNotFound) {
				t.Errorf("row %q read as %T: %v, want a corrupt-row error", key, v, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// No input makes the parsers panic, and whatever parses encodes back to
// something that parses to the same row.
func FuzzHotRows(f *testing.F) {
	seeds.Load(f, "rows")
	for _, s := range codecSessions {
		f.Add(string(appendSession(nil, s)))
	}
	for _, rt := range codecTokens {
		f.Add(string(appendRefreshToken(nil, rt)))
	}
	f.Fuzz(func(t *testing.T, in string) {
		var s, s2 store.Session
		if parseSession([]byte(in), &s) == nil {
			if err := parseSession(appendSession(nil, s), &s2); err != nil || !cmp.Equal(s, s2) {
				t.Fatalf("session %+v re-encoded to %+v, %v", s, s2, err)
			}
		}
		var rt, rt2 store.RefreshToken
		if parseRefreshToken([]byte(in), &rt) == nil {
			if err := parseRefreshToken(appendRefreshToken(nil, rt), &rt2); err != nil || !cmp.Equal(rt, rt2) {
				t.Fatalf("token %+v re-encoded to %+v, %v", rt, rt2, err)
			}
		}
	})
}
