package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/bolt"
)

// scaleBench is issue 5's scale benchmark: a store with many realms and one
// realm with many users, built in-process through realms.Service (realms
// and clients) and bulk loads (users, pre-hashed), then served by the real
// binary. It reports load time and file size, the password grant's user
// lookup in the big realm against a one-user realm, client_credentials in
// the many-realm store against a fresh single-realm server, and the store
// file's size under steady refresh load with the janitor running.
func scaleBench(c config, nRealms, nUsers int) error {
	dir, err := os.MkdirTemp("", "gatehouse-scale")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "data")
	fmt.Printf("# gatehouse-bench -scale %s, %d CPUs: %d realms, %d users\n\n", time.Now().UTC().Format(time.RFC3339), numCPU(), nRealms, nUsers)

	svc, st, err := openData(data)
	if err != nil {
		return err
	}
	ctx := context.Background()
	t0 := time.Now()
	if err := createRealms(ctx, svc, nRealms); err != nil {
		st.Close()
		return err
	}
	realmsTook := time.Since(t0)

	t0 = time.Now()
	big, one, err := loadUsers(ctx, svc, st, nUsers)
	if err != nil {
		st.Close()
		return err
	}
	usersTook := time.Since(t0)
	oneLookup, err := lookupCost(ctx, st, one, 1)
	if err != nil {
		st.Close()
		return err
	}
	bigCold, err := lookupCost(ctx, st, big, nUsers)
	if err != nil {
		st.Close()
		return err
	}
	// Warm: every user looked up once, as a long-running server would have.
	for i := range nUsers {
		if _, err := st.GetUserByUsername(ctx, big, fmt.Sprintf("user%07d", i)); err != nil {
			st.Close()
			return err
		}
	}
	bigWarm, err := lookupCost(ctx, st, big, nUsers)
	if err != nil {
		st.Close()
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	fi, err := os.Stat(filepath.Join(data, "gatehouse.db"))
	if err != nil {
		return err
	}

	rows := [][2]string{
		{"realms created through realms.Service (ES256 key, confidential client with service account each)", fmt.Sprintf("%d in %v", nRealms, realmsTook.Round(time.Second))},
		{"users bulk-loaded into one realm (pre-hashed argon2id, batches of 10,000)", fmt.Sprintf("%d in %v", nUsers, usersTook.Round(time.Second))},
		{"store file", fmt.Sprintf("%.0f MB", float64(fi.Size())/1e6)},
		{"user lookup by username (the password grant's store read), 1-user realm", oneLookup.String()},
		{fmt.Sprintf("the same, %d-user realm, random users, cold (first touch of most pages)", nUsers),
			fmt.Sprintf("%v (%.2f ×)", bigCold, float64(bigCold)/float64(oneLookup))},
		{fmt.Sprintf("the same, %d-user realm, random users, warm (every user read once before)", nUsers),
			fmt.Sprintf("%v (%.2f ×)", bigWarm, float64(bigWarm)/float64(oneLookup))},
	}

	// client_credentials: the many-realm store against a fresh server.
	srv, err := startAt(c.bin, data)
	if err != nil {
		return err
	}
	if err := checkLogin(srv.base, nUsers); err != nil {
		srv.stop()
		return err
	}
	pick := fmt.Sprintf("r%05d", rand.IntN(nRealms))
	many := &target{base: srv.base, realm: pick, client: "app", secret: scaleSecret, alg: "ES256", proc: srv.cmd}
	fresh, stopFresh, err := startServer(c, "ES256")
	if err != nil {
		srv.stop()
		return err
	}
	for _, n := range []int{1, 32} {
		a, err := runOne(c, fresh, fresh.proc, "client_credentials", n)
		var b result
		if err == nil {
			b, err = runOne(c, many, srv.cmd, "client_credentials", n)
		}
		if err == nil && a.errs+b.errs > 0 {
			err = fmt.Errorf("%d and %d errors: %s%s", a.errs, b.errs, a.firstErr, b.firstErr)
		}
		if err != nil {
			srv.stop()
			stopFresh()
			return fmt.Errorf("client_credentials at c=%d: %w", n, err)
		}
		rows = append(rows, [2]string{fmt.Sprintf("client_credentials server CPU/req at c=%d: single realm vs realm %s of %d", n, pick, nRealms),
			fmt.Sprintf("%v vs %v (%.2f ×)", a.cpuPerReq, b.cpuPerReq, float64(b.cpuPerReq)/float64(a.cpuPerReq))})
	}
	// The password grant end to end: random users of the big realm against
	// the one user of the small one, same credential, same server.
	bigUsers := &target{base: srv.base, realm: "scale-users", client: "app", secret: scaleSecret, password: scalePassword,
		alg: "ES256", proc: srv.cmd, userFormat: "user%07d", users: nUsers}
	oneUser := &target{base: srv.base, realm: "scale-one", client: "app", secret: scaleSecret, user: "user0000000",
		password: scalePassword, alg: "ES256", proc: srv.cmd}
	a, err := runOne(c, oneUser, srv.cmd, "password", 8)
	var b result
	if err == nil {
		b, err = runOne(c, bigUsers, srv.cmd, "password", 8)
	}
	if err == nil && a.errs+b.errs > 0 {
		err = fmt.Errorf("%d and %d errors: %s%s", a.errs, b.errs, a.firstErr, b.firstErr)
	}
	if err != nil {
		srv.stop()
		stopFresh()
		return fmt.Errorf("password grant: %w", err)
	}
	rows = append(rows, [2]string{fmt.Sprintf("password grant server CPU/req at c=8: 1-user realm vs random users of the %d-user realm", nUsers),
		fmt.Sprintf("%v vs %v (%.2f ×)", a.cpuPerReq.Round(time.Microsecond), b.cpuPerReq.Round(time.Microsecond), float64(b.cpuPerReq)/float64(a.cpuPerReq))})
	pid := srv.cmd.Process.Pid
	rows = append(rows, [2]string{fmt.Sprintf("server RSS after the runs, %d realms", nRealms), fmt.Sprintf("%.1f MB (heap and stacks %.1f MB, mapped binary and store pages %.1f MB)",
		float64(procStatus(pid, "VmRSS"))/1024, float64(procStatus(pid, "RssAnon"))/1024, float64(procStatus(pid, "RssFile"))/1024)})
	stopFresh()
	srv.stop()

	fmt.Println("| case | figure |")
	fmt.Println("|---|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %s |\n", r[0], r[1])
	}
	fmt.Println()
	return janitorBound(c, filepath.Join(dir, "janitor"))
}

const (
	scaleSecret   = "scale-secret-0123456789"
	scalePassword = "scale-User-1"
)

// openData opens a data directory as `gatehouse serve` does, so the binary
// can serve it afterwards.
func openData(data string) (*realms.Service, *bolt.Store, error) {
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, nil, err
	}
	key, err := realms.LoadOrCreateMasterKey(data, "")
	if err != nil {
		return nil, nil, err
	}
	sealer, err := realms.NewSealer(key)
	if err != nil {
		return nil, nil, err
	}
	st, err := bolt.Open(filepath.Join(data, "gatehouse.db"), bolt.Options{})
	if err != nil {
		return nil, nil, err
	}
	return realms.NewService(st, sealer, nil), st, nil
}

// createRealms creates r00000… with a confidential client each, a few at a
// time so their commits share fsyncs where the store batches.
func createRealms(ctx context.Context, svc *realms.Service, n int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				name := fmt.Sprintf("r%05d", i)
				if _, err := svc.CreateRealm(ctx, store.Realm{Name: name, Enabled: true, DefaultSignatureAlgorithm: "ES256", AccessTokenLifespan: 3600}); err != nil {
					errs <- fmt.Errorf("realm %s: %w", name, err)
					return
				}
				if _, _, err := svc.CreateClient(ctx, name, realms.NewClient{Client: store.Client{ClientID: "app", Enabled: true,
					ServiceAccountsEnabled: true, DirectAccessGrantsEnabled: true}, Secret: scaleSecret}); err != nil {
					errs <- fmt.Errorf("client of %s: %w", name, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// loadUsers creates realm "scale-users" with n users and "scale-one" with
// one, every user with the same pre-computed argon2id credential (hashing
// a million passwords would take hours and measure nothing new).
func loadUsers(ctx context.Context, svc *realms.Service, st *bolt.Store, n int) (big, one string, err error) {
	cred, err := realms.HashPassword(scalePassword, time.Now())
	if err != nil {
		return "", "", err
	}
	ids := make([]string, 2)
	for i, name := range []string{"scale-users", "scale-one"} {
		r, err := svc.CreateRealm(ctx, store.Realm{Name: name, Enabled: true, DefaultSignatureAlgorithm: "ES256"})
		if err != nil {
			return "", "", err
		}
		if _, _, err := svc.CreateClient(ctx, name, realms.NewClient{Client: store.Client{ClientID: "app", Enabled: true,
			DirectAccessGrantsEnabled: true}, Secret: scaleSecret}); err != nil {
			return "", "", err
		}
		ids[i] = r.ID
	}
	user := func(i int) store.User {
		name := fmt.Sprintf("user%07d", i)
		return store.User{ID: realms.NewID(), Username: name, Email: name + "@example.com", Enabled: true,
			Credentials: []store.Credential{cred}, CreatedAt: cred.CreatedAt}
	}
	if err := st.CreateUsers(ctx, ids[1], []store.User{user(0)}); err != nil {
		return "", "", err
	}
	const batch = 10_000
	for lo := 0; lo < n; lo += batch {
		us := make([]store.User, 0, batch)
		for i := lo; i < min(lo+batch, n); i++ {
			us = append(us, user(i))
		}
		// Sorted keys keep each batch's page writes local.
		slices.SortFunc(us, func(a, b store.User) int { return strings.Compare(a.ID, b.ID) })
		if err := st.CreateUsers(ctx, ids[0], us); err != nil {
			return "", "", fmt.Errorf("users %d…: %w", lo, err)
		}
	}
	return ids[0], ids[1], nil
}

// lookupCost is the mean time of the password grant's user lookup (by
// username) for random users of a realm with n users, after a warm-up.
func lookupCost(ctx context.Context, st *bolt.Store, realmID string, n int) (time.Duration, error) {
	const warm, measured = 20_000, 200_000
	var took time.Duration
	for i := range warm + measured {
		name := fmt.Sprintf("user%07d", rand.IntN(n))
		t0 := time.Now()
		u, err := st.GetUserByUsername(ctx, realmID, name)
		if i >= warm {
			took += time.Since(t0)
		}
		if err != nil || u.Username != name {
			return 0, fmt.Errorf("lookup %s: %v", name, err)
		}
	}
	return took / measured, nil
}

// checkLogin proves a bulk-loaded user logs in over HTTP with the
// pre-hashed credential.
func checkLogin(base string, n int) error {
	form := url.Values{"grant_type": {"password"}, "username": {fmt.Sprintf("user%07d", n-1)}, "password": {scalePassword}}
	req, _ := http.NewRequest(http.MethodPost, base+"/realms/scale-users/protocol/openid-connect/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app", scaleSecret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("password grant for a bulk-loaded user: %s", res.Status)
	}
	return nil
}

// janitorBound runs the refresh workload against a realm whose refresh
// tokens expire after 2 s idle, with the janitor every second, and prints
// the store file's size after each round: rotations keep writing rows, the
// janitor deletes expired ones, and the file must stop growing.
func janitorBound(c config, data string) error {
	svc, st, err := openData(data)
	if err != nil {
		return err
	}
	ctx := context.Background()
	_, err = svc.CreateRealm(ctx, store.Realm{Name: "janitor", Enabled: true, DefaultSignatureAlgorithm: "ES256", SSOSessionIdleTimeout: 2})
	if err == nil {
		_, _, err = svc.CreateClient(ctx, "janitor", realms.NewClient{Client: store.Client{ClientID: "app", Enabled: true,
			DirectAccessGrantsEnabled: true}, Secret: scaleSecret})
	}
	if err == nil {
		_, err = svc.CreateUser(ctx, "janitor", realms.NewUser{User: store.User{Username: "jan", Enabled: true}, Password: scalePassword})
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	srv, err := startAt(c.bin, data, "--janitor-interval", "1s")
	if err != nil {
		return err
	}
	defer srv.stop()
	t := &target{base: srv.base, realm: "janitor", client: "app", secret: scaleSecret, user: "jan", password: scalePassword, alg: "ES256", proc: srv.cmd}
	round := c
	round.duration = 10 * time.Second
	fmt.Println("| janitor round (refresh_token at c=8 for 10 s, refresh tokens idle-expire after 2 s, janitor every 1 s) | rotations so far | store file |")
	fmt.Println("|---|---|---|")
	total := 0
	for i := 1; i <= 6; i++ {
		r, err := runOne(round, t, srv.cmd, "refresh_token", 8)
		if err != nil {
			return err
		}
		if r.errs > 0 {
			return fmt.Errorf("refresh round %d: %d errors, first: %s", i, r.errs, r.firstErr)
		}
		total += r.n
		time.Sleep(3 * time.Second) // let the last tokens expire and the janitor pass
		fi, err := os.Stat(filepath.Join(data, "gatehouse.db"))
		if err != nil {
			return err
		}
		fmt.Printf("| %d | %d | %.1f MB |\n", i, total, float64(fi.Size())/1e6)
	}
	return nil
}

// server is a gatehouse binary serving a data directory.
type server struct {
	cmd  *exec.Cmd
	base string
	stop func()
}

// startAt runs bin on an existing data directory and waits until it is ready.
func startAt(bin, data string, args ...string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr, "--data", data, "--log-level", "warn"}, args...)...)
	cmd.Env = append(os.Environ(), "GATEHOUSE_ADMIN_PASSWORD=bench-Admin-1")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (run make build first): %w", bin, err)
	}
	s := &server{cmd: cmd, base: "http://" + addr, stop: func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}}
	waitReady(s.base)
	return s, nil
}
