package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The replicas benchmark (-replicas 1,2 -store postgres://…): for each
// number of replicas, a fresh database on the given PostgreSQL server, that
// many gatehouse processes on it (one master key), one realm seeded through
// the first, and the load matrix with requests taking turns across the
// replicas. Besides throughput and latency it reports, per request, the CPU
// of every replica process and of the PostgreSQL backends serving them
// (their /proc/<pid>/stat, found in pg_stat_activity by database), and the
// database work: transactions (every statement outside a transaction
// block is one), rows written and rows fetched, from pg_stat_database, and
// the machine's load average (other work on the same cores). The
// database's shared processes (WAL writer, checkpointer) are not counted:
// other databases of the server share them.

// replicaCost is what one cell cost per request.
type replicaCost struct {
	gatehouseCPU, dbCPU        time.Duration
	xacts, written, fetched    float64
	backends, replicaProcesses int
}

// replicaMeter snapshots the replicas' and the database's counters.
type replicaMeter struct {
	admin *pgx.Conn
	db    string
	pids  []int // the replica processes

	gh0    time.Duration
	db0    map[int]time.Duration
	stats0 dbStats
	n      func() int
}

type dbStats struct{ xacts, written, fetched int64 }

// statsSettle is how long backends are left idle before pg_stat_database
// is read: a busy backend holds its counters back until it has been idle
// for PostgreSQL's idle stats interval (10 s since PostgreSQL 15).
const statsSettle = 11 * time.Second

func (m *replicaMeter) stats(ctx context.Context) (dbStats, error) {
	var s dbStats
	err := m.admin.QueryRow(ctx, `SELECT xact_commit + xact_rollback, tup_inserted + tup_updated + tup_deleted, tup_fetched
		FROM pg_stat_database WHERE datname = $1`, m.db).Scan(&s.xacts, &s.written, &s.fetched)
	return s, err
}

// backendCPU is the CPU of every backend connected to the database now.
func (m *replicaMeter) backendCPU(ctx context.Context) (map[int]time.Duration, error) {
	rows, err := m.admin.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, m.db)
	if err != nil {
		return nil, err
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, err
	}
	out := map[int]time.Duration{}
	for _, pid := range pids {
		if cpu, err := serverCPU(int(pid)); err == nil {
			out[int(pid)] = cpu
		}
	}
	return out, nil
}

func (m *replicaMeter) gatehouseCPU() (time.Duration, error) {
	var sum time.Duration
	for _, pid := range m.pids {
		cpu, err := serverCPU(pid)
		if err != nil {
			return 0, err
		}
		sum += cpu
	}
	return sum, nil
}

func (m *replicaMeter) begin() error {
	ctx := context.Background()
	time.Sleep(statsSettle) // the warm-up's counters land before the snapshot
	var err error
	if m.stats0, err = m.stats(ctx); err != nil {
		return err
	}
	if m.db0, err = m.backendCPU(ctx); err != nil {
		return err
	}
	m.gh0, err = m.gatehouseCPU()
	return err
}

func (m *replicaMeter) end() (replicaCost, error) {
	ctx := context.Background()
	gh1, err := m.gatehouseCPU()
	if err != nil {
		return replicaCost{}, err
	}
	db1, err := m.backendCPU(ctx)
	if err != nil {
		return replicaCost{}, err
	}
	time.Sleep(statsSettle)
	s1, err := m.stats(ctx)
	if err != nil {
		return replicaCost{}, err
	}
	var dbCPU time.Duration
	for pid, cpu := range db1 {
		dbCPU += cpu - m.db0[pid] // a backend started meanwhile counts from zero
	}
	return replicaCost{gatehouseCPU: gh1 - m.gh0, dbCPU: dbCPU, backends: len(db1), replicaProcesses: len(m.pids),
		xacts: float64(s1.xacts - m.stats0.xacts), written: float64(s1.written - m.stats0.written),
		fetched: float64(s1.fetched - m.stats0.fetched)}, nil
}

func replicasBench(c config, storeURL, counts string) error {
	if storeURL == "" {
		return errors.New("-replicas needs -store postgres://… (or GATEHOUSE_TEST_POSTGRES)")
	}
	var ns []int
	for _, s := range strings.Split(counts, ",") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 16 {
			return fmt.Errorf("-replicas %q: 1..16 replicas", s)
		}
		ns = append(ns, n)
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, storeURL)
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	var version string
	if err := admin.QueryRow(ctx, `SHOW server_version`).Scan(&version); err != nil {
		return err
	}
	// Every replica must seal with the same master key.
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return err
	}
	if err := os.Setenv("GATEHOUSE_MASTER_KEY", hex.EncodeToString(key[:])); err != nil {
		return err
	}
	fmt.Printf("# gatehouse-bench -replicas %s, %s, %d CPUs, PostgreSQL %s on the same machine\n",
		counts, time.Now().UTC().Format(time.RFC3339), numCPU(), version)
	fmt.Println("\n| replicas | workload | alg | c | req/s | p50 | p99 | errors | Gatehouse CPU/req | DB CPU/req | total CPU/req | DB xacts/req | rows written/req | rows fetched/req | load avg |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, alg := range c.algs {
		for _, n := range ns {
			if err := replicaCells(ctx, c, admin, storeURL, alg, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// replicaCells runs the matrix on n fresh replicas of a fresh database.
func replicaCells(ctx context.Context, c config, admin *pgx.Conn, storeURL, alg string, n int) error {
	db := fmt.Sprintf("gatehouse_bench_%d_%d", os.Getpid(), n)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		return err
	}
	defer func() {
		if _, err := admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
			fmt.Fprintln(os.Stderr, "gatehouse-bench: drop database", db, err)
		}
	}()
	u, err := url.Parse(storeURL)
	if err != nil {
		return err
	}
	u.Path = "/" + db
	q := u.Query()
	q.Set("application_name", "gatehouse-bench")
	u.RawQuery = q.Encode()
	dir, err := os.MkdirTemp("", "gatehouse-bench-replicas")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var servers []*server
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	m := &replicaMeter{admin: admin, db: db}
	var bases []string
	for i := range n {
		s, err := startAt(c.bin, filepath.Join(dir, fmt.Sprint("data", i)), "--store", u.String())
		if err != nil {
			return err
		}
		servers = append(servers, s)
		bases = append(bases, s.base)
		m.pids = append(m.pids, s.cmd.Process.Pid)
	}
	t := &target{base: bases[0], realm: "bench-" + strings.ToLower(alg), client: "bench", user: "bench-user",
		password: "bench-User-1", topology: "bench", alg: alg}
	if err := seed(t, benchAdminPassword, alg); err != nil {
		return err
	}
	t.bases, t.meter = bases, m
	for _, g := range c.grants {
		for _, conc := range c.conc {
			r, err := runOne(c, t, nil, g, conc)
			if err != nil {
				return err
			}
			reportReplicas(n, t, r)
		}
	}
	return nil
}

func reportReplicas(n int, t *target, r result) {
	rc := r.replicas
	if rc == nil || r.n == 0 {
		return
	}
	per := func(d time.Duration) string { return (d / time.Duration(r.n)).Round(time.Microsecond).String() }
	perN := func(x float64) string { return strconv.FormatFloat(x/float64(r.n), 'f', 2, 64) }
	lat := slices.Sorted(slices.Values(r.lat))
	pct := func(p float64) time.Duration {
		return lat[min(len(lat)-1, int(float64(len(lat))*p))].Round(10 * time.Microsecond)
	}
	errs := strconv.Itoa(r.errs)
	if r.errs > 0 {
		errs += " (" + r.firstErr + ")"
	}
	fmt.Printf("| %d | %s | %s | %d | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", n, r.grant, t.alg, r.conc,
		float64(r.n)/r.elapsed.Seconds(), pct(.5), pct(.99), errs, per(rc.gatehouseCPU), per(rc.dbCPU),
		per(rc.gatehouseCPU+rc.dbCPU), perN(rc.xacts), perN(rc.written), perN(rc.fetched), loadAvg())
}

// loadAvg is the machine's one-minute load average: on a shared machine
// it says how much of the two cores the cell really had.
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "n/a"
	}
	return f[0]
}
