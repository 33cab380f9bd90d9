// Package prom implements metrics.Recorder with Prometheus, on a registry of
// its own (never the process-wide default), so two servers in one process,
// as in tests, keep separate counts.
package prom

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse/gatehouse/internal/metrics"
)

// DefaultMaxRealms is how many realms get a label of their own.
const DefaultMaxRealms = 50

// OtherRealm is the realm label of every realm beyond the first maxRealms;
// no realm name can start with an underscore, so it never mixes with one.
const OtherRealm = "_other"

// Metrics is a Prometheus metrics.Recorder.
type Metrics struct {
	reg    *prometheus.Registry
	realms *realmLabels

	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	tokens        *prometheus.CounterVec
	loginFailures *prometheus.CounterVec
	lockouts      *prometheus.CounterVec
	reuse         *prometheus.CounterVec
	commit        prometheus.Histogram
	batch         prometheus.Histogram
	cacheCounters map[string][2]prometheus.Counter // [miss, hit]
	cacheVec      *prometheus.CounterVec
}

var _ metrics.Recorder = (*Metrics)(nil)

// New registers Gatehouse's series and Go's runtime and process collectors
// on a fresh registry. maxRealms bounds the realm label (DefaultMaxRealms
// when not positive).
func New(maxRealms int) *Metrics {
	if maxRealms <= 0 {
		maxRealms = DefaultMaxRealms
	}
	m := &Metrics{reg: prometheus.NewRegistry(), realms: &realmLabels{max: int64(maxRealms)}}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_http_requests_total",
		Help: "HTTP requests by route template, realm, token grant type and status code.",
	}, []string{"route", "realm", "grant", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "gatehouse_http_request_duration_seconds",
		Help: "HTTP request latency by route template and token grant type.",
		// From a cached-token introspection (tens of microseconds) to a
		// password grant (an argon2 hash, tens of milliseconds) and slow
		// clients.
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route", "grant"})
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_tokens_issued_total",
		Help: "Successful token responses by realm and grant type.",
	}, []string{"realm", "grant"})
	m.loginFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_login_failures_total",
		Help: "Refused logins by realm and reason.",
	}, []string{"realm", "reason"})
	m.lockouts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_login_lockouts_total",
		Help: "Failed logins that locked a user or client out (brute-force detection).",
	}, []string{"realm"})
	m.reuse = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_refresh_token_reuse_total",
		Help: "Refresh tokens presented again beyond the realm's reuse allowance.",
	}, []string{"realm"})
	m.commit = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "gatehouse_store_commit_duration_seconds",
		Help:    "Durable store write transactions, from the first write to the end of the fsync'd commit.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	})
	m.batch = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "gatehouse_store_commit_writers",
		Help:    "Writers that shared one store commit (batched writes).",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64},
	})
	m.cacheVec = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_cache_lookups_total",
		Help: "Cache lookups by cache and result (hit or miss); the hit ratio is hit / (hit + miss).",
	}, []string{"cache", "result"})
	m.cacheCounters = map[string][2]prometheus.Counter{}
	for _, c := range metrics.Caches() {
		m.cacheCounters[c] = [2]prometheus.Counter{m.cacheVec.WithLabelValues(c, "miss"), m.cacheVec.WithLabelValues(c, "hit")}
	}
	m.reg.MustRegister(m.requests, m.duration, m.tokens, m.loginFailures, m.lockouts, m.reuse, m.commit, m.batch, m.cacheVec,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is the registry the series are on.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func (m *Metrics) Request(route, realm, grant string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, m.realms.label(realm), grant, statusText(status)).Inc()
	m.duration.WithLabelValues(route, grant).Observe(d.Seconds())
}

func (m *Metrics) TokenIssued(realm, grant string) {
	m.tokens.WithLabelValues(m.realms.label(realm), grant).Inc()
}

func (m *Metrics) LoginFailure(realm, reason string) {
	m.loginFailures.WithLabelValues(m.realms.label(realm), reason).Inc()
}

func (m *Metrics) Lockout(realm string) { m.lockouts.WithLabelValues(m.realms.label(realm)).Inc() }

func (m *Metrics) RefreshReuse(realm string) { m.reuse.WithLabelValues(m.realms.label(realm)).Inc() }

func (m *Metrics) StoreCommit(d time.Duration, writers int) {
	m.commit.Observe(d.Seconds())
	m.batch.Observe(float64(writers))
}

func (m *Metrics) CacheLookup(cache string, hit bool) {
	i := 0
	if hit {
		i = 1
	}
	if c, ok := m.cacheCounters[cache]; ok {
		c[i].Inc()
		return
	}
	m.cacheVec.WithLabelValues(cache, [2]string{"miss", "hit"}[i]).Inc()
}

// statusText avoids an allocation for the common codes.
func statusText(code int) string {
	switch code {
	case 200:
		return "200"
	case 201:
		return "201"
	case 204:
		return "204"
	case 400:
		return "400"
	case 401:
		return "401"
	case 403:
		return "403"
	case 404:
		return "404"
	case 500:
		return "500"
	case 503:
		return "503"
	}
	return strconv.Itoa(code)
}

// realmLabels bounds the realm label: the first max realms seen keep their
// name, every later one is OtherRealm. Realm names reach it only once the
// realm was found, so nobody can fill it with made-up names, and with
// ten thousand realms the series stay at max+1 realm values. First-seen
// rather than busiest keeps a realm's series stable for its whole life.
type realmLabels struct {
	max   int64
	n     atomic.Int64
	seen  sync.Map // name -> struct{}
	admit sync.Mutex
}

func (l *realmLabels) label(name string) string {
	if name == "" {
		return ""
	}
	if _, ok := l.seen.Load(name); ok {
		return name
	}
	if l.n.Load() >= l.max {
		return OtherRealm
	}
	l.admit.Lock()
	defer l.admit.Unlock()
	if _, ok := l.seen.Load(name); ok {
		return name
	}
	if l.n.Load() >= l.max {
		return OtherRealm
	}
	l.seen.Store(name, struct{}{})
	l.n.Add(1)
	return name
}
