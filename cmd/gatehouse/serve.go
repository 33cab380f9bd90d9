package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/admin"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/bolt"
	"github.com/gatehouse/gatehouse/store/postgres"
)

// serveConfig is everything `gatehouse serve` can be told; each flag can also
// come from GATEHOUSE_<NAME> (dashes as underscores).
type serveConfig struct {
	Addr             string
	Data             string
	Store            string
	DBPoolMax        int
	HTTPRelativePath string
	Hostname         string
	TLSCert          string
	TLSKey           string
	LogFormat        string
	LogLevel         string
	AdminUser        string
	AdminPassword    string
	MasterKey        string
	JanitorInterval  time.Duration
	DebugAddr        string
	// PasswordInArgs: --store on the command line carries a password,
	// which other local users can read there.
	PasswordInArgs bool
}

func parseServeFlags(args []string, stderr io.Writer) (serveConfig, error) {
	var c serveConfig
	fs := newFlagSet("serve", stderr)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&c.Data, "data", "./data", "data directory: the bbolt store and the master key (with a postgres:// store, only the key)")
	fs.StringVar(&c.Store, "store", "", "where records live: bolt://DIR (embedded, one process; default: bbolt in --data) or\n"+
		"postgres://USER@HOST:PORT/DB (shared by any number of replicas; keep the password out of\n"+
		"the command line: GATEHOUSE_STORE, ~/.pgpass or PGPASSWORD)")
	fs.IntVar(&c.DBPoolMax, "db-pool-max", 0, "PostgreSQL connections per process (default: the larger of 4 and the CPU count)")
	fs.StringVar(&c.HTTPRelativePath, "http-relative-path", "", "serve everything under this path, e.g. /auth")
	fs.StringVar(&c.Hostname, "hostname", "", "public base URL, e.g. https://id.example.com (default: derived from each request)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "TLS certificate file (PEM); serves HTTPS with --tls-key")
	fs.StringVar(&c.TLSKey, "tls-key", "", "TLS private key file (PEM)")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.DurationVar(&c.JanitorInterval, "janitor-interval", time.Minute, "how often expired tokens and sessions are deleted")
	fs.StringVar(&c.DebugAddr, "debug-addr", "", "serve Go's pprof profiles on this separate address, e.g. 127.0.0.1:6060 (off by default; never expose it)")
	// Secrets come from the environment only, never the command line (which
	// other local users can read).
	fs.envString(&c.AdminUser, "GATEHOUSE_ADMIN_USER", "bootstrap admin user, first start only (default admin)")
	fs.envString(&c.AdminPassword, "GATEHOUSE_ADMIN_PASSWORD", "bootstrap admin password, first start only (default: generated and printed once)")
	fs.envString(&c.MasterKey, "GATEHOUSE_MASTER_KEY", "32-byte key, base64 or hex, sealing client secrets and signing keys at rest\n(default: <data>/master.key, created on first start). Replicas sharing a postgres://\nstore must all have the same key: one with another key refuses to start")
	if err := applyEnv(fs); err != nil {
		return c, err
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("serve: unexpected arguments %q", fs.Args())
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return c, errors.New("serve: --tls-cert and --tls-key must be given together")
	}
	if c.HTTPRelativePath != "" && !strings.HasPrefix(c.HTTPRelativePath, "/") {
		return c, errors.New("serve: --http-relative-path must start with /")
	}
	fs.Visit(func(f *flag.Flag) {
		if u, err := url.Parse(c.Store); f.Name == "store" && err == nil && u.User != nil {
			_, c.PasswordInArgs = u.User.Password()
		}
	})
	if c.DBPoolMax < 0 {
		return c, errors.New("serve: --db-pool-max must not be negative")
	}
	kind, dir, err := storeKind(c.Store)
	if err != nil {
		return c, err
	}
	if kind == "bolt" && dir != "" {
		if c.Data != "./data" && filepath.Clean(c.Data) != filepath.Clean(dir) {
			return c, fmt.Errorf("serve: --store bolt://%s and --data %s name different directories: give one", dir, c.Data)
		}
		c.Data = dir
	}
	return c, nil
}

// storeKind parses --store: "bolt" with its directory ("" = --data), or
// "postgres".
func storeKind(spec string) (kind, dir string, err error) {
	switch {
	case spec == "":
		return "bolt", "", nil
	case strings.HasPrefix(spec, "bolt://"):
		dir = strings.TrimPrefix(spec, "bolt://")
		if dir == "" {
			return "", "", errors.New("serve: --store bolt://DIR needs a directory")
		}
		return "bolt", dir, nil
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		return "postgres", "", nil
	}
	// Only the scheme: the rest may hold a password.
	scheme, _, _ := strings.Cut(spec, ":")
	return "", "", fmt.Errorf("serve: --store %q: use bolt://DIR or postgres://USER@HOST/DB", scheme+"://...")
}

// applyEnv binds every flag to its GATEHOUSE_<NAME> variable; command-line
// flags parsed afterwards win.
func applyEnv(fs *flagSet) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if e := fs.bindEnv(f.Name, envName(f.Name)); e != nil && err == nil {
			err = e
		}
	})
	return err
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: use text or json", format)
}

// app is an opened store with its services.
type app struct {
	store store.Store
	svc   *realms.Service
}

// ready is the readiness check: a store that talks to a database answers
// only while the database does.
func (a *app) ready(ctx context.Context) error {
	if p, ok := a.store.(interface{ Ping(context.Context) error }); ok {
		return p.Ping(ctx)
	}
	return nil
}

// readOnly reports a store that serves reads only (bbolt on a read-only
// file system).
func (a *app) readOnly() bool {
	ro, ok := a.store.(interface{ ReadOnly() bool })
	return ok && ro.ReadOnly()
}

// openApp opens (creating on first use) the data directory's master key,
// the store (bbolt in the data directory, or PostgreSQL) and the realm
// service.
func openApp(ctx context.Context, cfg serveConfig) (*app, error) {
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	key, err := realms.LoadOrCreateMasterKey(cfg.Data, cfg.MasterKey)
	if err != nil {
		return nil, err
	}
	sealer, err := realms.NewSealer(key)
	if err != nil {
		return nil, err
	}
	kind, _, err := storeKind(cfg.Store)
	if err != nil {
		return nil, err
	}
	var st store.Store
	if kind == "postgres" {
		pg, err := postgres.Open(ctx, cfg.Store, postgres.Options{MaxConns: int32(min(cfg.DBPoolMax, math.MaxInt32))})
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		if err := pg.CheckMasterKey(ctx, masterKeyCheck(key)); err != nil {
			pg.Close()
			return nil, fmt.Errorf("open store: %w", err)
		}
		st = pg
	} else {
		if st, err = bolt.Open(filepath.Join(cfg.Data, "gatehouse.db"), bolt.Options{}); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	return &app{store: st, svc: realms.NewService(st, sealer, nil)}, nil
}

// masterKeyCheck is what a shared database records of the master key: an
// HMAC under it, which proves two replicas hold the same key and reveals
// nothing of it.
func masterKeyCheck(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("gatehouse master key check"))
	return m.Sum(nil)
}

// storeLabel names the store for the log, without a password.
func storeLabel(cfg serveConfig) string {
	if kind, _, _ := storeKind(cfg.Store); kind == "postgres" {
		if u, err := url.Parse(cfg.Store); err == nil {
			return u.Redacted()
		}
		return "postgres"
	}
	return "bolt://" + cfg.Data
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return err
	}
	start := time.Now()
	tuneGC()
	a, err := openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		if err := a.store.Close(); err != nil {
			log.Error("close store", "err", err)
		}
	}()
	if kind, _, _ := storeKind(cfg.Store); kind == "postgres" {
		// Until caches are invalidated across replicas, an operator running
		// several must know that admin changes need the others restarted.
		log.Warn("with several replicas on this database: realm, key, client, role and user caches are per process; " +
			"restart the other replicas after admin changes (disabling a client, a new secret, a role mapping, a key rotation)")
	}
	if cfg.PasswordInArgs {
		log.Warn("the --store URL on the command line holds a password other local users can read: use GATEHOUSE_STORE, ~/.pgpass or PGPASSWORD")
	}
	if a.readOnly() {
		log.Warn("data directory is read-only: serving reads and token verification; every write answers 503", "data", cfg.Data)
	}
	boot, err := a.svc.Bootstrap(ctx, cfg.AdminUser, cfg.AdminPassword)
	if errors.Is(err, store.ErrAlreadyExists) {
		// Another replica on the same database bootstrapped at the same
		// moment; the second look finds its master realm.
		boot, err = a.svc.Bootstrap(ctx, cfg.AdminUser, cfg.AdminPassword)
	}
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if boot.Created {
		log.Info("created realm master with client admin-cli and admin user", "user", boot.Username)
	}
	if boot.GeneratedPassword != "" {
		// Printed once, to the terminal, not the log stream.
		fmt.Fprintf(stdout, "\nGenerated password for admin user %q (shown once; set GATEHOUSE_ADMIN_PASSWORD to choose one):\n\n    %s\n\n",
			boot.Username, boot.GeneratedPassword)
	}

	srv := oidc.NewServer(oidc.Config{
		Service: a.svc, Hostname: cfg.Hostname, RelativePath: cfg.HTTPRelativePath,
		Logger: log, TLS: cfg.TLSCert != "", Ready: a.ready,
	})
	admin.Mount(srv, a.svc, log).SetVersion(version)
	hs := oidc.NewHTTPServer(srv)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("tls: %w", err)
		}
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, hs.TLSConfig)
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	log.Info("gatehouse listening", "addr", ln.Addr().String(), "url", scheme+"://"+ln.Addr().String()+cfg.HTTPRelativePath,
		"store", storeLabel(cfg), "startup", time.Since(start))

	if cfg.DebugAddr != "" {
		stopDebug, err := serveDebug(cfg.DebugAddr, log)
		if err != nil {
			ln.Close()
			return err
		}
		defer stopDebug()
	}

	janitorCtx, stopJanitor := context.WithCancel(ctx)
	defer stopJanitor()
	go runJanitor(janitorCtx, a, cfg.JanitorInterval, log)

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		log.Error("shutdown", "err", err)
	}
	stopJanitor()
	return nil
}

// defaultGCPercent is the server's GOGC unless the environment sets one.
// The live heap is small (a few MiB of realm snapshots and caches) and
// every token request allocates: at Go's default of 100, GC took about 11%
// of the CPU of an ES256 client_credentials token; at 200 its server CPU
// per token fell from 105 to 78 us and a refresh from 235 to 159 us, for
// 10-15 MB more peak RSS (BENCHMARKS.md).
const defaultGCPercent = 200

// defaultMemoryLimit is the server's soft GOMEMLIMIT unless the environment
// sets one. Password hashing makes 7 MiB of garbage per argon2id hash; with
// GOGC at 200 that garbage let 256 concurrent Knox logins peak at 145 MB
// RSS, and at 96 MiB still at 135 MB once the store's mapped pages had grown
// (the load generator's full matrix). At 64 MiB the same cells peak at 88-92
// MB with the same CPU per request: the live heap is a few MiB, so the
// extra collections are cheap. The limit is soft: a larger live heap (say,
// tens of thousands of busy realms) is never refused, it only makes
// collection more frequent, and GOMEMLIMIT raises it.
const defaultMemoryLimit = 64 << 20

func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

// knoxEvictionGrace is Knox's gateway.knox.token.eviction.grace.period.
const knoxEvictionGrace = 24 * time.Hour

// runJanitor deletes expired refresh tokens, sessions and revoked-jti rows
// in bounded batches so the file stays bounded under steady refresh load.
func runJanitor(ctx context.Context, a *app, every time.Duration, log *slog.Logger) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Expired managed Knox tokens stay listable for a day, as Knox's
		// eviction grace period.
		if _, err := a.store.DeleteExpiredKnoxTokens(ctx, time.Now().Add(-knoxEvictionGrace), 1000); err != nil {
			log.Warn("janitor: knox tokens", "err", err)
		}
		for {
			n, err := a.store.DeleteExpired(ctx, time.Now(), 1000)
			if err != nil {
				log.Warn("janitor", "err", err)
				break
			}
			if n > 0 {
				log.Debug("janitor deleted expired rows", "count", n)
			}
			if n < 1000 {
				break
			}
		}
	}
}
