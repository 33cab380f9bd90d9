package oidc

import (
	"strings"
	"testing"
	"time"
)

// Store keys of refresh tokens sort by issue time (that is what keeps a
// batch of rotations on a few pages), stay unique within one millisecond,
// and never reveal more than the public prefix.
func TestRefreshTokenKeysSortByIssueTime(t *testing.T) {
	base := time.UnixMilli(1_800_000_000_000)
	var prev string
	seen := map[string]bool{}
	for i := range 200 {
		tok, key, err := newOpaqueToken(base.Add(time.Duration(i/4) * time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if key != hashToken(tok) {
			t.Fatalf("key of %q: %q at issue, %q when presented", tok, key, hashToken(tok))
		}
		if seen[key] {
			t.Fatalf("duplicate key %q", key)
		}
		seen[key] = true
		if strings.Contains(key, tok[12:]) {
			t.Fatalf("key %q contains the token's secret part", key)
		}
		// The first 12 hex digits are the milliseconds.
		if ms := key[:12]; ms < prev || (i%4 == 0 && ms == prev) {
			t.Fatalf("key %d (%s…) is out of issue order after %s…", i, ms, prev)
		}
		prev = key[:12]
	}
}
