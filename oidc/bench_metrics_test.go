package oidc_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/gatehouse/gatehouse/internal/metrics/prom"
	"github.com/gatehouse/gatehouse/store"
)

// What metrics and login events cost on the hottest path: an ES256
// client_credentials token through the router with and without a
// Prometheus recorder (request counter and histogram, token counter, cache
// lookups), and with the realm recording login events (a CLIENT_LOGIN per
// token, written in batches). cpu-ns/op is the process's CPU per token,
// background GC and event writes included.
func BenchmarkClientCredentials(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts []envOption
	}{
		{"metrics=off", nil},
		{"metrics=on", []envOption{withMetrics(prom.New(0))}},
		{"events=on", []envOption{withRealm(func(r *store.Realm) { r.Events.Enabled = true })}},
	} {
		opts := tc.opts
		b.Run(tc.name, func(b *testing.B) {
			e := newEnv(b, append(opts, withAlgorithm("ES256"))...)
			h := e.srv.Config.Handler
			body := url.Values{"grant_type": {"client_credentials"}}.Encode()
			b.ReportAllocs()
			cpu0 := processCPU(b)
			for b.Loop() {
				serveClientCredentials(b, h, body, e.secret)
			}
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
			if tc.name == "events=on" {
				st, _ := e.svc.Realm(context.Background(), "demo")
				if got, err := e.svc.LoginEvents(context.Background(), st.Realm, store.LoginEventQuery{}); err != nil || len(got) == 0 {
					b.Fatalf("no events recorded: %v", err)
				}
			}
		})
	}
}
