package prom

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Ten thousand busy realms add at most DefaultMaxRealms+1 realm label
// values: the first ones seen keep their names, the rest share OtherRealm.
func TestRealmLabelCardinalityIsBounded(t *testing.T) {
	m := New(0)
	for i := range 10000 {
		realm := fmt.Sprintf("realm-%05d", i)
		m.Request("/realms/{realm}/protocol/openid-connect/token", realm, "client_credentials", 200, time.Millisecond)
		m.TokenIssued(realm, "client_credentials")
	}
	for name, want := range map[string]int{
		"gatehouse_http_requests_total": DefaultMaxRealms + 1,
		"gatehouse_tokens_issued_total": DefaultMaxRealms + 1,
	} {
		if got := testutil.CollectAndCount(m.Registry(), name); got != want {
			t.Errorf("%s: %d series, want %d", name, got, want)
		}
	}
	first := m.tokens.WithLabelValues("realm-00000", "client_credentials")
	if got := testutil.ToFloat64(first); got != 1 {
		t.Errorf("first realm keeps its own series: %v", got)
	}
	other := m.tokens.WithLabelValues(OtherRealm, "client_credentials")
	if got := testutil.ToFloat64(other); got != 10000-DefaultMaxRealms {
		t.Errorf("other = %v, want %d", got, 10000-DefaultMaxRealms)
	}
	// A realm admitted early keeps its label after the bound is reached.
	m.TokenIssued("realm-00001", "client_credentials")
	if got := testutil.ToFloat64(m.tokens.WithLabelValues("realm-00001", "client_credentials")); got != 2 {
		t.Errorf("realm-00001 = %v, want 2", got)
	}
}

// The handler exposes Gatehouse's series next to Go's runtime series.
func TestHandlerServesGatehouseAndRuntimeSeries(t *testing.T) {
	m := New(3)
	m.StoreCommit(2*time.Millisecond, 5)
	m.CacheLookup("verified_token", true)
	m.CacheLookup("verified_token", false)
	m.CacheLookup("verified_token", true)
	m.LoginFailure("acme", "bad_password")
	m.Lockout("acme")
	m.RefreshReuse("acme")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`gatehouse_store_commit_duration_seconds_count 1`,
		`gatehouse_store_commit_writers_sum 5`,
		`gatehouse_cache_lookups_total{cache="verified_token",result="hit"} 2`,
		`gatehouse_cache_lookups_total{cache="verified_token",result="miss"} 1`,
		`gatehouse_login_failures_total{realm="acme",reason="bad_password"} 1`,
		`gatehouse_login_lockouts_total{realm="acme"} 1`,
		`gatehouse_refresh_token_reuse_total{realm="acme"} 1`,
		`go_goroutines `,
		`go_memstats_heap_alloc_bytes `,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// What one steady-state client_credentials token records: the request and
// its latency, the token, one realm and three realm-data cache lookups
// (counted from /metrics around one token).
func BenchmarkRecordClientCredentialsToken(b *testing.B) {
	m := New(0)
	const route = "/realms/{realm}/protocol/openid-connect/token"
	b.ReportAllocs()
	for b.Loop() {
		m.CacheLookup("realm", true)
		m.CacheLookup("realm_data", true)
		m.CacheLookup("realm_data", true)
		m.CacheLookup("realm_data", true)
		m.Request(route, "demo", "client_credentials", 200, 90*time.Microsecond)
		m.TokenIssued("demo", "client_credentials")
	}
}
