package realms

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/seeds"
)

func FuzzParseISODuration(f *testing.F) {
	seeds.Load(f, "duration")
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := ParseISODuration(s); err == nil && (d <= 0 || d > 10*365*24*time.Hour) {
			t.Fatalf("%q gave out-of-range %v", s, d)
		}
	})
}

// FuzzUserKeyInputs feeds what callers present with user-held keys: API
// keys, x-altus-auth headers, key expiry dates and Knox passcodes.
func FuzzUserKeyInputs(f *testing.F) {
	seeds.Load(f, "userkeys")
	f.Fuzz(func(t *testing.T, s string) {
		if id, ok := parseAPIKey(s); ok {
			body := s[:len(s)-apiKeyChecksumLen]
			if len(s) != apiKeyLen || !LooksLikeAPIKey(s) || apiKeyChecksum(body) != s[len(body):] || !strings.HasPrefix(s, APIKeyPrefix+id+"_") {
				t.Fatalf("%q accepted with ID %q", s, id)
			}
		}
		if meta, sig, ok := parseAltusAuth(s); ok && (meta.AccessKeyID == "" || len(sig) == 0) {
			t.Fatalf("%q accepted without a key ID or signature", s)
		}
		if exp, err := ParseKeyExpiry(s); err == nil && exp.Location() != time.UTC {
			t.Fatalf("%q gave a non-UTC expiry %v", s, exp)
		}
		if id, ok := passcodeTokenID(s); ok && (id == "" || len(s) > 512) {
			t.Fatalf("passcode %q accepted with token ID %q", s, id)
		}
	})
}
