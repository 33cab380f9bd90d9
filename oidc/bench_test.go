package oidc

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/bolt"
)

func benchProvider(b *testing.B, alg string) (*realmProvider, store.Client, store.User) {
	b.Helper()
	st, err := bolt.Open(filepath.Join(b.TempDir(), "g.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	sealer, _ := realms.NewSealer(make([]byte, 32))
	svc := realms.NewService(st, sealer, nil)
	ctx := context.Background()
	if _, err := svc.CreateRealm(ctx, store.Realm{Name: "bench", Enabled: true, DefaultSignatureAlgorithm: alg}); err != nil {
		b.Fatal(err)
	}
	c, _, err := svc.CreateClient(ctx, "bench", realms.NewClient{Client: store.Client{ClientID: "app", Enabled: true, ServiceAccountsEnabled: true}})
	if err != nil {
		b.Fatal(err)
	}
	rs, err := svc.Realm(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	u, err := svc.ServiceAccount(ctx, rs.Realm.ID, c)
	if err != nil {
		b.Fatal(err)
	}
	return newProviders(svc, realms.NewSessionService(svc), realms.NewKnoxService(svc)).newRealmProvider(rs), c, u
}

// Signing alone: the floor of every token.
func BenchmarkSignJSON(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		b.Run(alg, func(b *testing.B) {
			rp, _, _ := benchProvider(b, alg)
			payload := []byte(`{"exp":1,"iat":1,"jti":"x","iss":"http://x/realms/bench","sub":"s","typ":"Bearer","azp":"app","scope":"profile email"}`)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rp.signer.SignJSON(payload, "JWT"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Claims building and signing of a client_credentials token (roles
// resolved from the store), without HTTP.
func BenchmarkMintServiceAccountToken(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			rp, c, u := benchProvider(b, alg)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				g := grant{issuer: "http://x/realms/bench", client: c, user: u, scopes: []string{"profile", "email"}, jtiPrefix: "trrtcc:"}
				if err := rp.minter.mint(ctx, &g, fosite.NewAccessResponse(), time.Now(), false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Introspection's verification of one of our JWTs (signature, claims and the
// store checks), without HTTP: the first time a token is seen, and again
// (from the verified-token cache, with only the live state read).
func BenchmarkValidateAccessToken(b *testing.B) {
	rp, c, u := benchProvider(b, "ES256")
	ctx := context.Background()
	g := grant{issuer: "http://x/realms/bench", client: c, user: u, scopes: []string{"profile", "email"}}
	resp := fosite.NewAccessResponse()
	if err := rp.minter.mint(ctx, &g, resp, time.Now(), false); err != nil {
		b.Fatal(err)
	}
	tok := resp.GetAccessToken()
	for _, name := range []string{"first", "repeat"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if name == "first" {
					rp.verified = newVerifiedTokens(defaultVerifiedTokens, rp.svc.Now)
				}
				if _, err := rp.validateAccessToken(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
