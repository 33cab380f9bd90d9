package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat CPU times; Linux
// fixes it at 100 on every architecture Go supports.
const clockTicks = 100

// serverCPU returns the process's user+system CPU time.
func serverCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the parenthesised command name.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+2:])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// peakRSS returns VmHWM in KiB.
func peakRSS(pid int) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// resetPeakRSS starts a new VmHWM window (Linux clear_refs 5).
func resetPeakRSS(pid int) {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

type worker struct {
	t       *target
	hc      *http.Client
	refresh string // this worker's current refresh token
	access  string
	next    int // with several replicas, the index of this worker's next one
}

// base is the server of the worker's next request: with several replicas
// (t.bases) they take turns, each worker starting at its own, so a
// refresh token rotated on one replica is presented next on another.
func (w *worker) base() string {
	if len(w.t.bases) == 0 {
		return w.t.base
	}
	w.next++
	return w.t.bases[w.next%len(w.t.bases)]
}

func (w *worker) post(path string, form url.Values, basicUser, basicPass string) (map[string]any, error) {
	req, _ := http.NewRequest(http.MethodPost, w.base()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(url.QueryEscape(basicUser), url.QueryEscape(basicPass))
	}
	return w.do(req)
}

func (w *worker) do(req *http.Request) (map[string]any, error) {
	res, err := w.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %.200s", res.Status, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

func (w *worker) tokenPath() string { return "/realms/" + w.t.realm + "/protocol/openid-connect/token" }

func (w *worker) login() error {
	m, err := w.post(w.tokenPath(), url.Values{"grant_type": {"password"}, "username": {w.t.user}, "password": {w.t.password}}, w.t.client, w.t.secret)
	if err != nil {
		return err
	}
	w.refresh, _ = m["refresh_token"].(string)
	w.access, _ = m["access_token"].(string)
	return nil
}

// step runs one request of the workload.
func (w *worker) step(grant string) error {
	switch grant {
	case "client_credentials":
		_, err := w.post(w.tokenPath(), url.Values{"grant_type": {"client_credentials"}}, w.t.client, w.t.secret)
		return err
	case "password":
		_, err := w.post(w.tokenPath(), url.Values{"grant_type": {"password"}, "username": {w.t.loginUser()}, "password": {w.t.password}}, w.t.client, w.t.secret)
		return err
	case "refresh_token":
		m, err := w.post(w.tokenPath(), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {w.refresh}}, w.t.client, w.t.secret)
		if err != nil {
			_ = w.login() // follow on with a fresh chain; the error still counts
			return err
		}
		w.refresh, _ = m["refresh_token"].(string)
		return nil
	case "introspect":
		m, err := w.post(w.tokenPath()+"/introspect", url.Values{"token": {w.access}}, w.t.client, w.t.secret)
		if err == nil && m["active"] != true {
			return fmt.Errorf("token inactive")
		}
		return err
	case "knox":
		req, _ := http.NewRequest(http.MethodGet, w.base()+"/gateway/"+w.t.topology+"/knoxtoken/api/v1/token", nil)
		req.SetBasicAuth(w.t.user, w.t.password)
		_, err := w.do(req)
		return err
	}
	return fmt.Errorf("unknown workload %q", grant)
}

func runOne(c config, t *target, proc *exec.Cmd, grant string, n int) (result, error) {
	tr := &http.Transport{MaxIdleConns: n, MaxIdleConnsPerHost: n, MaxConnsPerHost: n, DisableCompression: true, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	workers := make([]*worker, n)
	for i := range workers {
		w := &worker{t: t, hc: hc, next: i}
		if grant == "refresh_token" {
			if err := w.login(); err != nil {
				return result{}, fmt.Errorf("setup login: %w", err)
			}
		}
		workers[i] = w
	}
	if grant == "introspect" {
		m, err := workers[0].post(workers[0].tokenPath(), url.Values{"grant_type": {"client_credentials"}}, t.client, t.secret)
		if err != nil {
			return result{}, fmt.Errorf("setup token: %w", err)
		}
		for _, w := range workers {
			w.access, _ = m["access_token"].(string)
		}
	}
	// Warm connections and caches outside the measurement.
	for _, w := range workers {
		if grant != "password" && grant != "knox" {
			_ = w.step(grant)
		}
	}
	r := result{grant: grant, conc: n}
	if t.meter != nil {
		if err := t.meter.begin(); err != nil {
			return r, err
		}
	}
	var cpu0 time.Duration
	if proc != nil {
		cpu0, _ = serverCPU(proc.Process.Pid)
		resetPeakRSS(proc.Process.Pid)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(c.duration)
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			var errs int
			var first string
			for time.Now().Before(deadline) {
				t0 := time.Now()
				err := w.step(grant)
				lat = append(lat, time.Since(t0))
				if err != nil {
					errs++
					if first == "" {
						first = err.Error()
					}
				}
			}
			mu.Lock()
			r.lat = append(r.lat, lat...)
			r.errs += errs
			if r.firstErr == "" {
				r.firstErr = first
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	r.n = len(r.lat)
	if t.meter != nil {
		cost, err := t.meter.end()
		if err != nil {
			return r, err
		}
		r.replicas = &cost
	}
	if proc != nil {
		cpu1, err := serverCPU(proc.Process.Pid)
		if err == nil && r.n > 0 {
			r.cpuPerReq = (cpu1 - cpu0) / time.Duration(r.n)
			r.peakRSSKiB = peakRSS(proc.Process.Pid)
			r.haveServerM = true
		}
	}
	return r, nil
}
