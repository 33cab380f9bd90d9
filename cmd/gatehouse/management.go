package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync/atomic"
	"time"
)

// managementOff reports whether a --management-addr value disables the
// management listener.
func managementOff(addr string) bool {
	return addr == "" || strings.EqualFold(addr, "off")
}

// management is the listener operators and orchestrators use, apart from
// the public port as Keycloak 26's management interface: /metrics,
// /health, /health/live, /health/ready and, when asked, Go's pprof
// profiles (which reveal memory contents, so never on the public port).
type management struct {
	ln    net.Listener
	hs    *http.Server
	ready atomic.Bool
}

// listenManagement binds addr; serving starts with serve, so a start-up
// that fails later has not answered anything yet.
func listenManagement(addr string, metrics http.Handler, withPprof bool) (*management, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("management listener: %w (choose another address with --management-addr or GATEHOUSE_MANAGEMENT_ADDR, or turn it off with \"off\")", err)
	}
	m := &management{ln: ln}
	mux := http.NewServeMux()
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	up := func(w http.ResponseWriter, _ *http.Request) { writeHealth(w, true) }
	mux.HandleFunc("GET /health", up)
	mux.HandleFunc("GET /health/live", up)
	mux.HandleFunc("GET /health/ready", func(w http.ResponseWriter, _ *http.Request) { writeHealth(w, m.ready.Load()) })
	if withPprof {
		handlePprof(mux)
	}
	m.hs = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return m, nil
}

// writeHealth answers in Keycloak's health shape; not ready is 503 so load
// balancers stop sending traffic.
func writeHealth(w http.ResponseWriter, up bool) {
	w.Header().Set("Content-Type", "application/json")
	if !up {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"DOWN","checks":[]}` + "\n"))
		return
	}
	_, _ = w.Write([]byte(`{"status":"UP","checks":[]}` + "\n"))
}

func (m *management) serve(log *slog.Logger) {
	go func() {
		if err := m.hs.Serve(m.ln); err != nil && err != http.ErrServerClosed {
			log.Warn("management listener", "err", err)
		}
	}()
}

func (m *management) close() { m.hs.Close() }

func handlePprof(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}
