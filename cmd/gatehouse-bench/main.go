package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/realms"
)

type config struct {
	url       string
	bin       string
	grants    []string
	algs      []string
	conc      []int
	duration  time.Duration
	markdown  bool
	clientID  string
	secret    string
	user      string
	password  string
	realmName string
}

func main() {
	var c config
	var grants, algs, conc string
	flag.StringVar(&c.url, "url", "", "target a running server (default: start one on a fresh data dir)")
	flag.StringVar(&c.bin, "bin", "bin/gatehouse", "gatehouse binary to start when --url is empty")
	flag.StringVar(&grants, "grants", "client_credentials,password,refresh_token,introspect,knox", "comma-separated workloads")
	flag.StringVar(&algs, "algs", "RS256,ES256", "realm signature algorithms (own server only)")
	flag.StringVar(&conc, "c", "1,8,32,128", "comma-separated concurrency levels")
	flag.DurationVar(&c.duration, "d", 5*time.Second, "duration of each run")
	flag.BoolVar(&c.markdown, "markdown", false, "print results as Markdown table rows")
	flag.StringVar(&c.realmName, "realm", "", "realm (with --url)")
	flag.StringVar(&c.clientID, "client", "bench", "confidential client (with --url)")
	flag.StringVar(&c.secret, "secret", "", "its secret (with --url)")
	flag.StringVar(&c.user, "user", "bench-user", "user for password/refresh/knox (with --url)")
	flag.StringVar(&c.password, "password", "", "its password (with --url)")
	startupRealms := flag.Int("startup", 0, "instead of the load matrix: seed this many realms, restart, and time the first served token")
	scale := flag.Bool("scale", false, "instead of the load matrix: the scale benchmark (many realms, one realm with many users, janitor bound)")
	scaleRealms := flag.Int("scale-realms", 10_000, "realms for -scale")
	scaleUsers := flag.Int("scale-users", 1_000_000, "users of the big realm for -scale")
	replicas := flag.String("replicas", "", "instead of the load matrix: these numbers of replicas (e.g. 1,2) on one PostgreSQL\ndatabase, with the database's own CPU and work per request (needs -store)")
	storeURL := flag.String("store", os.Getenv("GATEHOUSE_TEST_POSTGRES"), "PostgreSQL server for -replicas: each run creates a database of its own there and drops it")
	flag.Parse()
	if *startupRealms > 0 {
		if err := startupBench(c.bin, *startupRealms); err != nil {
			fatal(err)
		}
		return
	}
	if *scale {
		if *scaleRealms < 1 || *scaleUsers < 1 {
			fatal(errors.New("-scale-realms and -scale-users must be at least 1"))
		}
		if err := scaleBench(c, *scaleRealms, *scaleUsers); err != nil {
			fatal(err)
		}
		return
	}
	c.grants = strings.Split(grants, ",")
	c.algs = strings.Split(algs, ",")
	for _, s := range strings.Split(conc, ",") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 4096 {
			fatal(fmt.Errorf("-c %q: concurrency must be 1..4096", s))
		}
		c.conc = append(c.conc, n)
	}
	if *replicas != "" {
		if err := replicasBench(c, *storeURL, *replicas); err != nil {
			fatal(err)
		}
		return
	}
	if err := run(c); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "gatehouse-bench:", err)
	os.Exit(1)
}

// target is a server and the seeded identities to load it with.
type target struct {
	base, realm, client, secret, user, password, topology string
	proc                                                  *exec.Cmd
	alg                                                   string
	// userFormat, when set, makes each password login pick a random user
	// fmt.Sprintf(userFormat, 0…users-1) instead of user (the scale bench).
	userFormat string
	users      int
	// bases, when set, are replicas sharing one store: requests take turns
	// (see worker.base); meter measures their cost (replicas.go).
	bases []string
	meter *replicaMeter
}

// loginUser is the username of the next password login.
func (t *target) loginUser() string {
	if t.userFormat == "" {
		return t.user
	}
	return fmt.Sprintf(t.userFormat, mrand.IntN(t.users))
}

func run(c config) error {
	fmt.Printf("# gatehouse-bench %s, %d CPUs\n", time.Now().UTC().Format(time.RFC3339), numCPU())
	if c.url != "" {
		if c.realmName == "" || c.secret == "" {
			return errors.New("--url needs --realm and --secret (and --password for user workloads)")
		}
		t := &target{base: strings.TrimRight(c.url, "/"), realm: c.realmName, client: c.clientID, secret: c.secret,
			user: c.user, password: c.password, topology: "bench"}
		return runMatrix(c, t, nil)
	}
	for _, alg := range c.algs {
		t, stop, err := startServer(c, alg)
		if err != nil {
			return err
		}
		err = runMatrix(c, t, t.proc)
		stop()
		if err != nil {
			return err
		}
	}
	return nil
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return max(strings.Count(string(b), "processor\t:"), 1)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startServer runs the gatehouse binary on a fresh data dir and seeds a
// realm with the algorithm, a confidential client, a user and a managed
// Knox topology.
func startServer(c config, alg string) (*target, func(), error) {
	dir, err := os.MkdirTemp("", "gatehouse-bench")
	if err != nil {
		return nil, nil, err
	}
	srv, err := startAt(c.bin, filepath.Join(dir, "data"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	stop := func() {
		srv.stop()
		os.RemoveAll(dir)
	}
	t := &target{base: srv.base, realm: "bench-" + strings.ToLower(alg), client: "bench", user: "bench-user",
		password: "bench-User-1", topology: "bench", proc: srv.cmd, alg: alg}
	if err := seed(t, benchAdminPassword, alg); err != nil {
		stop()
		return nil, nil, err
	}
	return t, stop, nil
}

func seed(t *target, adminPW, alg string) error {
	hc := &http.Client{Timeout: 30 * time.Second}
	res, err := hc.PostForm(t.base+"/realms/master/protocol/openid-connect/token", url.Values{"grant_type": {"password"},
		"client_id": {"admin-cli"}, "username": {"admin"}, "password": {adminPW}})
	if err != nil {
		return err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	call := func(method, path string, body any) error {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, t.base+path, strings.NewReader(string(b)))
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Content-Type", "application/json")
		res, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if res.StatusCode >= 300 {
			msg, _ := io.ReadAll(res.Body)
			return fmt.Errorf("seed %s %s: %s %s", method, path, res.Status, msg)
		}
		return nil
	}
	t.secret = "bench-secret-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	steps := []struct {
		method, path string
		body         any
	}{
		{"POST", "/admin/realms", map[string]any{"realm": t.realm, "enabled": true, "defaultSignatureAlgorithm": alg, "accessTokenLifespan": 3600}},
		{"POST", "/admin/realms/" + t.realm + "/clients", map[string]any{"clientId": t.client, "secret": t.secret,
			"serviceAccountsEnabled": true, "directAccessGrantsEnabled": true}},
		{"POST", "/admin/realms/" + t.realm + "/users", map[string]any{"username": t.user, "enabled": true, "email": "bench@example.com",
			"firstName": "Bench", "lastName": "User", "credentials": []map[string]any{{"value": t.password}}}},
		{"PUT", "/admin/gateway/topologies/" + t.topology + "-" + strings.ToLower(alg), map[string]any{"realm": t.realm,
			"authentication": "basic", "ttl": "PT1H", "managed": true, "limitPerUser": -1}},
	}
	for _, s := range steps {
		if err := call(s.method, s.path, s.body); err != nil {
			return err
		}
	}
	t.topology += "-" + strings.ToLower(alg)
	return nil
}

// result of one run.
type result struct {
	grant       string
	conc        int
	n, errs     int
	firstErr    string
	elapsed     time.Duration
	lat         []time.Duration
	cpuPerReq   time.Duration
	peakRSSKiB  int64
	unitCost    time.Duration
	unitName    string
	haveServerM bool
	replicas    *replicaCost
}

func runMatrix(c config, t *target, proc *exec.Cmd) error {
	sig := signatureCost(t.alg)
	hash := hashCost()
	if t.alg != "" {
		fmt.Printf("\n## realm %s (%s): one %s signature = %v, one argon2id hash = %v on this machine\n\n",
			t.realm, t.alg, t.alg, sig.Round(time.Microsecond), hash.Round(time.Microsecond))
	}
	if c.markdown {
		fmt.Println("| workload | alg | c | req/s | p50 | p90 | p99 | max | errors | server CPU/req | × unit | peak RSS |")
		fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	}
	for _, g := range c.grants {
		for _, n := range c.conc {
			r, err := runOne(c, t, proc, g, n)
			if err != nil {
				return err
			}
			r.unitCost, r.unitName = sig, "sig"
			if g == "password" || g == "knox" {
				r.unitCost, r.unitName = hash+sig, "hash+sig"
			}
			report(c, t, r)
		}
	}
	return nil
}

func report(c config, t *target, r result) {
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	pct := func(p float64) time.Duration {
		if len(r.lat) == 0 {
			return 0
		}
		return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*p))]
	}
	rps := float64(r.n) / r.elapsed.Seconds()
	cpu, mult, rss := "n/a", "n/a", "n/a"
	if r.haveServerM && r.n > 0 {
		cpu = r.cpuPerReq.Round(time.Microsecond).String()
		if r.unitCost > 0 {
			mult = fmt.Sprintf("%.2f× %s", float64(r.cpuPerReq)/float64(r.unitCost), r.unitName)
		}
		rss = fmt.Sprintf("%.1f MB", float64(r.peakRSSKiB)/1024)
	}
	errs := strconv.Itoa(r.errs)
	if r.errs > 0 {
		errs += " (" + r.firstErr + ")"
	}
	d := func(x time.Duration) string { return x.Round(10 * time.Microsecond).String() }
	if c.markdown {
		fmt.Printf("| %s | %s | %d | %.0f | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.grant, t.alg, r.conc, rps,
			d(pct(.5)), d(pct(.9)), d(pct(.99)), d(pct(1)), errs, cpu, mult, rss)
		return
	}
	fmt.Printf("%-18s c=%-4d %8.0f req/s  p50 %-9s p90 %-9s p99 %-9s max %-9s errors %s  server CPU/req %s (%s)  peak RSS %s\n",
		r.grant, r.conc, rps, d(pct(.5)), d(pct(.9)), d(pct(.99)), d(pct(1)), errs, cpu, mult, rss)
}

// signatureCost measures one signature with alg on this machine.
func signatureCost(alg string) time.Duration {
	var key any
	switch alg {
	case "ES256":
		key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "RS256", "":
		alg = "RS256"
		key, _ = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return 0
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key}, nil)
	if err != nil {
		return 0
	}
	payload := []byte(`{"sub":"x","exp":1,"iat":1,"scope":"profile email"}`)
	n := 0
	start := time.Now()
	for time.Since(start) < 500*time.Millisecond {
		_, _ = s.Sign(payload)
		n++
	}
	return time.Since(start) / time.Duration(n)
}

// hashCost measures one argon2id hash with Gatehouse's parameters.
func hashCost() time.Duration {
	start := time.Now()
	const n = 10
	for range n {
		_, _ = realms.HashPassword("bench-password", time.Now())
	}
	return time.Since(start) / n
}
