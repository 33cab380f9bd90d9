package oidc

import (
	"encoding/base64"
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
		if got, ok := hashToken(tok); !ok || got != key {
			t.Fatalf("key of %q: %q at issue, %q (%v) when presented", tok, key, got, ok)
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

// Only the shape newOpaqueToken makes has a store key: a bare 32-byte token,
// a truncated or padded one, or one that is not base64url is no token.
func TestRefreshTokenOfAnotherShapeHasNoKey(t *testing.T) {
	tok, _, err := newOpaqueToken(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for name, presented := range map[string]string{
		"empty":                "",
		"bare 32 bytes":        base64.RawURLEncoding.EncodeToString(make([]byte, 32)),
		"truncated":            tok[:len(tok)-1],
		"one character longer": tok + "A",
		"padded":               base64.URLEncoding.EncodeToString(make([]byte, refreshTokenBytes)),
		"not base64url":        "+" + tok[1:],
	} {
		if key, ok := hashToken(presented); ok || key != "" {
			t.Errorf("%s: key %q, %v", name, key, ok)
		}
	}
}
