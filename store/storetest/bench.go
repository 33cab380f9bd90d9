package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// BenchRotateRefreshToken measures the refresh hot path of a backend: each
// goroutine rotates its own chain in realm realmID (whose client c1 and user
// u1 the caller seeded), so batching, not contention, decides throughput.
// Every backend runs this one loop, so their figures compare.
func BenchRotateRefreshToken(b *testing.B, s store.Store, realmID string) {
	ctx := context.Background()
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		// b.Fatal must not run off the benchmark goroutine: b.Error, return.
		prefix := fmt.Sprintf("g%d-", n.Add(1))
		sess := store.Session{ID: prefix + "s", ClientID: "c1", UserID: "u1", ExpiresAt: time.Now().Add(time.Hour)}
		cur := store.RefreshToken{Hash: prefix + "0", SessionID: sess.ID, ExpiresAt: sess.ExpiresAt}
		if err := s.CreateSession(ctx, realmID, sess, cur); err != nil {
			b.Error(err)
			return
		}
		for i := 1; pb.Next(); i++ {
			next := store.RefreshToken{Hash: fmt.Sprintf("%s%d", prefix, i), ExpiresAt: cur.ExpiresAt}
			if _, err := s.RotateRefreshToken(ctx, realmID, cur.Hash, next, store.RotationPolicy{}, time.Now()); err != nil {
				b.Error(err)
				return
			}
			cur = next
		}
	})
}

// BenchGetClientByClientID measures a backend's client lookup by clientId.
func BenchGetClientByClientID(b *testing.B, s store.Store, realmID, clientID string) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.GetClientByClientID(ctx, realmID, clientID); err != nil {
			b.Fatal(err)
		}
	}
}
