package oidc_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The whole client_credentials request through the router, minus the
// network: what the server spends per token besides TCP and TLS.
func BenchmarkTokenEndpointClientCredentials(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			e := newEnv(b, withAlgorithm(alg))
			h := e.srv.Config.Handler
			body := url.Values{"grant_type": {"client_credentials"}}.Encode()
			b.ReportAllocs()
			for b.Loop() {
				serveClientCredentials(b, h, body, e.secret)
			}
		})
	}
}

// The refresh grant under concurrent rotations (16 x GOMAXPROCS goroutines
// sharing batched commits: 32 on two cores, as the load generator's c=32),
// minus the network: a signature, the token and session reads and a share
// of one durable commit.
func BenchmarkTokenEndpointRefresh(b *testing.B) {
	e := newEnv(b, withAlgorithm("ES256"))
	h := e.srv.Config.Handler
	post := func(form url.Values) (*httptest.ResponseRecorder, map[string]any) {
		req := httptest.NewRequest(http.MethodPost, "/realms/demo/protocol/openid-connect/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("app", e.secret)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var m map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &m)
		return rec, m
	}
	// Log in first (argon2id), so the timed part is only rotations. The
	// chains are a pool: each rotation borrows one and gives back its
	// successor, so any number of goroutines (16 x GOMAXPROCS) shares them
	// and none waits for a chain that another goroutine holds for good.
	const chains = 64
	tokens := make(chan string, chains)
	for range chains {
		rec, m := post(url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {alicePassword}})
		if rec.Code != 200 {
			b.Fatalf("login: %d %s", rec.Code, rec.Body)
		}
		tokens <- m["refresh_token"].(string)
	}
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	cpu0 := processCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rt := <-tokens
			rec, m := post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
			next, _ := m["refresh_token"].(string)
			if rec.Code != 200 || next == "" {
				b.Errorf("refresh: %d %s", rec.Code, rec.Body)
				next = rt // give the chain back: a waiting goroutine must not block
			}
			tokens <- next
		}
	})
	// Wall time per op hides how much CPU the two cores spent on it.
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// processCPU is this process's user and system CPU time so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serveClientCredentials runs one client_credentials grant of client app
// (form body) through h in process; it must succeed.
func serveClientCredentials(b *testing.B, h http.Handler, body, secret string) {
	req := httptest.NewRequest(http.MethodPost, "/realms/demo/protocol/openid-connect/token", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app", secret)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		b.Fatalf("%d %s", rec.Code, rec.Body)
	}
}
