package oidc_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// The whole client_credentials request through the router, minus the
// network: what the server spends per token besides TCP and TLS.
func BenchmarkTokenEndpointClientCredentials(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			e := newEnv(&testing.T{}, withAlgorithm(alg))
			h := e.srv.Config.Handler
			body := url.Values{"grant_type": {"client_credentials"}}.Encode()
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/realms/demo/protocol/openid-connect/token", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth("app", e.secret)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
