package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store/bolt"
)

// crashWorld is what clients were told with a 2xx, to be checked after every
// crash.
type crashWorld struct {
	mu      sync.Mutex
	clients map[string]string // clientId -> secret (acknowledged creates and regenerations)
	ids     map[string]string // clientId -> client UUID
	users   []string          // acknowledged user creates
	// retired are secrets replaced by an acknowledged regeneration: they
	// must never work again.
	retired map[string]string
	// regenerating: a regeneration was sent and not answered; the server
	// may have committed it, so the client's current secret is unknown.
	regenerating map[string]bool
	chains       []*chain
	knox         []string // access tokens of acknowledged managed Knox tokens
	secrets      []string // everything that must never reach a log
	acked        int
	// app is client "app"'s secret, fixed before any load starts.
	app string
}

type chain struct {
	current, previous string
	// inflight: a refresh with current was sent and not answered; the server
	// may have rotated it, legitimately.
	inflight bool
	dead     bool
}

func (w *crashWorld) remember(s ...string) {
	w.mu.Lock()
	w.secrets = append(w.secrets, s...)
	w.mu.Unlock()
}

// gh is a tiny client for the crash test.
type gh struct {
	base string
	hc   *http.Client
}

func (g gh) form(path string, f url.Values, user, pass string) (int, map[string]any, error) {
	req, _ := http.NewRequest(http.MethodPost, g.base+path, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	return g.send(req)
}

func (g gh) json(method, path, token string, body any) (int, map[string]any, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, g.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	return g.send(req)
}

func (g gh) send(req *http.Request) (int, map[string]any, error) {
	res, err := g.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m, nil
}

const crashRealm = "/realms/crash/protocol/openid-connect/"

// The real binary under load (admin writes, password logins and refreshes,
// managed Knox tokens) is killed with SIGKILL at random moments and
// restarted; every acknowledged write must still be there, every
// acknowledged refresh token must work unless a later refresh with it was in
// flight, rotated-out tokens never work again, the store passes bbolt's
// consistency check, and no secret ever reaches the log.
// GATEHOUSE_CRASH_CYCLES sets the cycle count (make soak runs many).
func TestCrashSafety(t *testing.T) {
	cycles := 5
	if v, err := strconv.Atoi(os.Getenv("GATEHOUSE_CRASH_CYCLES")); err == nil && v > 0 {
		cycles = v
	}
	data := t.TempDir()
	env := []string{"GATEHOUSE_ADMIN_PASSWORD=crash-Admin-1", "GATEHOUSE_LOG_FORMAT=json", "GATEHOUSE_LOG_LEVEL=debug"}
	w := &crashWorld{clients: map[string]string{}, ids: map[string]string{}, retired: map[string]string{}, regenerating: map[string]bool{}}
	w.remember("crash-Admin-1", "alice-Pass-1")
	var logs []string

	p := startServe(t, data, env)
	g := gh{base: p.base, hc: &http.Client{Timeout: 10 * time.Second}}
	admin := adminToken(t, g)
	mustStatus(t, 201)(g.json("POST", "/admin/realms", admin, map[string]any{"realm": "crash", "enabled": true,
		"accessTokenLifespan": 3600}))
	appSecret := "app-secret-" + strconv.Itoa(rand.IntN(1e9))
	w.remember(appSecret)
	mustStatus(t, 201)(g.json("POST", "/admin/realms/crash/clients", admin, map[string]any{"clientId": "app", "secret": appSecret,
		"serviceAccountsEnabled": true, "directAccessGrantsEnabled": true}))
	w.clients["app"], w.app = appSecret, appSecret
	mustStatus(t, 201)(g.json("POST", "/admin/realms/crash/users", admin, map[string]any{"username": "alice", "enabled": true,
		"credentials": []map[string]any{{"value": "alice-Pass-1"}}}))
	mustStatus(t, 201)(g.json("PUT", "/admin/gateway/topologies/crash", admin, map[string]any{"realm": "crash",
		"authentication": "basic", "ttl": "PT1H", "managed": true, "limitPerUser": -1}))
	p.stop(t)
	logs = append(logs, p.logs())

	for cycle := range cycles {
		p := startServe(t, data, env)
		g := gh{base: p.base, hc: &http.Client{Timeout: 10 * time.Second}}
		w.verify(t, g, cycle)
		admin := adminToken(t, g)

		stop := make(chan struct{})
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.load(g, admin, i, cycle, stop)
			}()
		}
		time.Sleep(time.Duration(50+rand.IntN(350)) * time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = p.cmd.Wait()
		close(stop)
		wg.Wait()
		logs = append(logs, p.logs())

		// The file opens without repair and passes bbolt's check.
		st, err := bolt.Open(filepath.Join(data, "gatehouse.db"), bolt.Options{})
		if err != nil {
			t.Fatalf("cycle %d: store does not open after SIGKILL: %v", cycle, err)
		}
		if err := st.Check(); err != nil {
			t.Fatalf("cycle %d: consistency check: %v", cycle, err)
		}
		st.Close()
	}
	// Final verification, then: a rotated-out token never works again.
	p = startServe(t, data, env)
	g = gh{base: p.base, hc: &http.Client{Timeout: 10 * time.Second}}
	w.verify(t, g, cycles)
	reused := 0
	for _, c := range w.chains {
		if c.dead || c.previous == "" {
			continue
		}
		s, _, err := g.form(crashRealm+"token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {c.previous}}, "app", appSecret)
		if err != nil || s != 400 {
			t.Errorf("rotated-out refresh token answered %d %v", s, err)
		}
		reused++
	}
	p.stop(t)
	logs = append(logs, p.logs())
	all := strings.Join(logs, "\n")
	w.mu.Lock()
	for _, s := range w.secrets {
		if len(s) >= 8 && strings.Contains(all, s) {
			t.Errorf("a secret, password or token appears in the logs: %.12s…", s)
		}
	}
	t.Logf("%d SIGKILL cycles, %d acknowledged writes verified, %d rotated-out tokens refused, %d secrets absent from %d log bytes",
		cycles, w.acked, reused, len(w.secrets), len(all))
	w.mu.Unlock()
}

func adminToken(t *testing.T, g gh) string {
	t.Helper()
	s, m, err := g.form("/realms/master/protocol/openid-connect/token", url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"},
		"username": {"admin"}, "password": {"crash-Admin-1"}}, "", "")
	if err != nil || s != 200 {
		t.Fatalf("admin token: %d %v %v", s, m, err)
	}
	return m["access_token"].(string)
}

func mustStatus(t *testing.T, want int) func(int, map[string]any, error) {
	return func(s int, m map[string]any, err error) {
		t.Helper()
		if err != nil || s != want {
			t.Fatalf("got %d %v %v, want %d", s, m, err, want)
		}
	}
}

// load runs one worker's share of the mixed load until stop or the server
// dies. Requests are bounded by the sleep before the kill.
func (w *crashWorld) load(g gh, admin string, worker, cycle int, stop <-chan struct{}) {
	var mine *chain
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		switch worker {
		case 0: // admin writes: clients, secret regenerations, users
			switch n % 3 {
			case 0:
				id := fmt.Sprintf("c%d-%d", cycle, n)
				secret := fmt.Sprintf("secret-%d-%d-%d", cycle, n, rand.IntN(1e9))
				w.remember(secret)
				req, _ := http.NewRequest(http.MethodPost, g.base+"/admin/realms/crash/clients",
					strings.NewReader(fmt.Sprintf(`{"clientId":%q,"secret":%q,"serviceAccountsEnabled":true}`, id, secret)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+admin)
				res, err := g.hc.Do(req)
				if err != nil {
					return
				}
				res.Body.Close()
				if res.StatusCode == 201 {
					loc := res.Header.Get("Location")
					w.mu.Lock()
					w.clients[id], w.ids[id], w.acked = secret, loc[strings.LastIndex(loc, "/")+1:], w.acked+1
					w.mu.Unlock()
				}
			case 1:
				w.mu.Lock()
				var id, uuid string
				for cid, u := range w.ids {
					id, uuid = cid, u
					break
				}
				w.mu.Unlock()
				if id == "" {
					continue
				}
				w.mu.Lock()
				w.regenerating[id] = true
				w.mu.Unlock()
				s, m, err := g.json("POST", "/admin/realms/crash/clients/"+uuid+"/client-secret", admin, nil)
				if err != nil {
					return
				}
				if s == 200 {
					w.mu.Lock()
					delete(w.regenerating, id)
					w.retired[id] = w.clients[id]
					w.clients[id] = m["value"].(string)
					w.secrets = append(w.secrets, w.clients[id])
					w.acked++
					w.mu.Unlock()
				}
			case 2:
				name := fmt.Sprintf("u%d-%d", cycle, n)
				s, _, err := g.json("POST", "/admin/realms/crash/users", admin, map[string]any{"username": name, "enabled": true})
				if err != nil {
					return
				}
				if s == 201 {
					w.mu.Lock()
					w.users, w.acked = append(w.users, name), w.acked+1
					w.mu.Unlock()
				}
			}
		case 1, 2: // password logins and refresh chains
			if mine == nil || n%5 == 0 {
				s, m, err := g.form(crashRealm+"token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alice-Pass-1"}},
					"app", w.app)
				if err != nil {
					return
				}
				if s == 200 {
					rt := m["refresh_token"].(string)
					w.remember(rt, m["access_token"].(string))
					mine = &chain{current: rt}
					w.mu.Lock()
					w.chains, w.acked = append(w.chains, mine), w.acked+1
					w.mu.Unlock()
				}
				continue
			}
			w.mu.Lock()
			mine.inflight = true
			cur := mine.current
			w.mu.Unlock()
			s, m, err := g.form(crashRealm+"token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {cur}}, "app", w.app)
			if err != nil {
				return
			}
			w.mu.Lock()
			if s == 200 {
				rt := m["refresh_token"].(string)
				w.secrets = append(w.secrets, rt, m["access_token"].(string))
				mine.previous, mine.current, mine.inflight = cur, rt, false
				w.acked++
			}
			w.mu.Unlock()
		case 3: // managed Knox tokens
			req, _ := http.NewRequest(http.MethodPost, g.base+"/gateway/crash/knoxtoken/api/v1/token", nil)
			req.SetBasicAuth("alice", "alice-Pass-1")
			s, m, err := g.send(req)
			if err != nil {
				return
			}
			if s == 200 {
				w.mu.Lock()
				w.knox = append(w.knox, m["access_token"].(string))
				w.secrets = append(w.secrets, m["access_token"].(string), m["passcode"].(string))
				w.acked++
				w.mu.Unlock()
			}
		}
	}
}

// verify checks every acknowledged write after a restart.
func (w *crashWorld) verify(t *testing.T, g gh, cycle int) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for id := range w.regenerating {
		// Unknown outcome: stop tracking this client's secret.
		delete(w.clients, id)
		delete(w.ids, id)
		delete(w.regenerating, id)
	}
	for id, secret := range w.clients {
		s, m, err := g.form(crashRealm+"token", url.Values{"grant_type": {"client_credentials"}}, id, secret)
		if err != nil || s != 200 {
			t.Errorf("cycle %d: acknowledged client %s lost: %d %v %v", cycle, id, s, m, err)
		}
	}
	for id, old := range w.retired {
		if old == w.clients[id] {
			continue
		}
		if s, _, err := g.form(crashRealm+"token", url.Values{"grant_type": {"client_credentials"}}, id, old); err != nil || s != 401 {
			t.Errorf("cycle %d: secret replaced by an acknowledged regeneration still works for %s: %d %v", cycle, id, s, err)
		}
	}
	if len(w.users) > 0 {
		admin := adminToken(t, g)
		for _, name := range w.users {
			req, _ := http.NewRequest(http.MethodGet, g.base+"/admin/realms/crash/users?exact=true&username="+url.QueryEscape(name), nil)
			req.Header.Set("Authorization", "Bearer "+admin)
			res, err := g.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var list []map[string]any
			_ = json.NewDecoder(res.Body).Decode(&list)
			res.Body.Close()
			if len(list) != 1 {
				t.Errorf("cycle %d: acknowledged user %s lost", cycle, name)
			}
		}
	}
	for _, c := range w.chains {
		if c.dead {
			continue
		}
		s, m, err := g.form(crashRealm+"token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {c.current}}, "app", w.app)
		switch {
		case err != nil:
			t.Fatalf("cycle %d: %v", cycle, err)
		case s == 200:
			rt := m["refresh_token"].(string)
			w.secrets = append(w.secrets, rt, m["access_token"].(string))
			c.previous, c.current, c.inflight = c.current, rt, false
		case c.inflight:
			// Rotated by a refresh whose answer the crash swallowed.
			c.dead = true
		default:
			t.Errorf("cycle %d: acknowledged refresh token refused: %d %v", cycle, s, m)
			c.dead = true
		}
	}
	for _, tok := range w.knox {
		s, m, err := g.form(crashRealm+"token/introspect", url.Values{"token": {tok}}, "app", w.app)
		if err != nil || s != 200 || m["active"] != true {
			t.Errorf("cycle %d: acknowledged managed Knox token inactive: %d %v %v", cycle, s, m, err)
		}
	}
}
