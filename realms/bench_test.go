package realms

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/bolt"
	"github.com/gatehouse/gatehouse/store/memory"
)

// openTestStore is an empty in-memory store: tests of the service need no
// file.
func openTestStore(testing.TB) store.Store { return memory.New() }

// openBoltStore is a bolt store in the test's temporary directory, closed
// when the test ends: benchmarks measure the store a server runs on.
func openBoltStore(tb testing.TB) *bolt.Store {
	tb.Helper()
	st, err := bolt.Open(filepath.Join(tb.TempDir(), "g.db"), bolt.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// zeroSealer seals with an all-zero master key.
func zeroSealer() *Sealer {
	sealer, _ := NewSealer(make([]byte, 32))
	return sealer
}

func benchService(b testing.TB) (*Service, store.Realm, string) {
	b.Helper()
	st := openBoltStore(b)
	svc := NewService(st, zeroSealer(), nil)
	ctx := context.Background()
	r, err := svc.CreateRealm(ctx, store.Realm{Name: "bench", Enabled: true, DefaultSignatureAlgorithm: "ES256"})
	if err != nil {
		b.Fatal(err)
	}
	_, secret, err := svc.CreateClient(ctx, "bench", NewClient{Client: store.Client{ClientID: "app", Enabled: true, ServiceAccountsEnabled: true}})
	if err != nil {
		b.Fatal(err)
	}
	return svc, r, secret
}

// Client authentication is one indexed read and one HMAC: no stretching.
func BenchmarkAuthenticateClient(b *testing.B) {
	svc, r, secret := benchService(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.AuthenticateClient(ctx, r, "app", secret, "127.0.0.1"); err != nil {
			b.Fatal(err)
		}
	}
}

// Role resolution of a service account (default roles and composites).
func BenchmarkResolveRoles(b *testing.B) {
	svc, r, _ := benchService(b)
	ctx := context.Background()
	c, _ := svc.Store().GetClientByClientID(ctx, r.ID, "app")
	u, err := svc.ServiceAccount(ctx, r.ID, c)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.ResolveRoles(ctx, r.ID, u); err != nil {
			b.Fatal(err)
		}
	}
}

// The one password hash every password login pays.
func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword("bench-password", time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
