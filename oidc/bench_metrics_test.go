package oidc_test

import (
	"net/url"
	"testing"

	"github.com/gatehouse/gatehouse/internal/metrics/prom"
)

// What metrics cost on the hottest path: an ES256 client_credentials token
// through the router with and without a Prometheus recorder (request
// counter and histogram, token counter, cache lookups). cpu-ns/op is the
// process's CPU per token, background GC included.
func BenchmarkClientCredentials(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "metrics=off"
		var opts []envOption
		if on {
			name = "metrics=on"
			opts = append(opts, withMetrics(prom.New(0)))
		}
		b.Run(name, func(b *testing.B) {
			e := newEnv(&testing.T{}, append(opts, withAlgorithm("ES256"))...)
			h := e.srv.Config.Handler
			body := url.Values{"grant_type": {"client_credentials"}}.Encode()
			b.ReportAllocs()
			cpu0 := processCPU(b)
			for b.Loop() {
				serveClientCredentials(b, h, body, e.secret)
			}
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
