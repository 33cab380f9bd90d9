package oidc

import (
	"fmt"
	"testing"
	"time"
)

// The verified-token cache stays within its bound however many distinct
// tokens arrive, and makes room by dropping expired entries first.
func TestVerifiedTokensStayBounded(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := newVerifiedTokens(64)
	live := &verifiedAccess{claims: accessClaims{Exp: now.Add(time.Hour).Unix()}}
	expired := &verifiedAccess{claims: accessClaims{Exp: now.Add(-time.Second).Unix()}}
	for i := range 63 {
		c.put(fmt.Sprint("expired-", i), expired, now)
	}
	c.put("keep", live, now)
	c.put("new", live, now) // full: the 63 expired entries make room
	if len(c.m) != 2 || c.get("keep") != live || c.get("new") != live {
		t.Fatalf("after dropping expired entries: %d entries, keep=%v new=%v", len(c.m), c.get("keep") != nil, c.get("new") != nil)
	}
	for i := range 10_000 {
		c.put(fmt.Sprint("live-", i), live, now)
		if len(c.m) > 64 {
			t.Fatalf("%d entries after %d puts, bound 64", len(c.m), i+1)
		}
	}
	if c.get("live-9999") != live {
		t.Fatal("the latest entry was dropped")
	}
}
