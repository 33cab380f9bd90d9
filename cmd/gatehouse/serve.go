package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/admin"
	"github.com/gatehouse/gatehouse/internal/metrics"
	"github.com/gatehouse/gatehouse/internal/metrics/prom"
	"github.com/gatehouse/gatehouse/knox"
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
	ManagementAddr   string
	ManagementPprof  bool
	IAMRealm         string
	ImportRealm      string
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
	fs.StringVar(&c.ManagementAddr, "management-addr", "127.0.0.1:9000", "management listener (/metrics, /health/*), as Keycloak's management port; \"off\" disables it")
	fs.BoolVar(&c.ManagementPprof, "management-pprof", false, "also serve Go's pprof profiles on the management listener (never expose it)")
	fs.StringVar(&c.DebugAddr, "debug-addr", "", "deprecated: use --management-pprof; serves pprof profiles on this separate address")
	fs.StringVar(&c.ImportRealm, "import-realm", "", "at start, import every *-realm.json of this directory whose realm does not exist yet (Keycloak's --import-realm)")
	fs.StringVar(&c.IAMRealm, "iam-realm", oidc.DefaultIAMRealm, "realm of the unprefixed CDP IAM path /api/v1/iam/generateWorkloadAuthToken")
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

// openApp opens (creating on first use) the data directory, the store
// (bbolt in the data directory, or PostgreSQL), the master key that must
// open what the store holds, and the realm service, reporting to m.
func openApp(ctx context.Context, cfg serveConfig, m metrics.Recorder) (*app, error) {
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	kind, _, err := storeKind(cfg.Store)
	if err != nil {
		return nil, err
	}
	var st store.Store
	var pg *postgres.Store
	if kind == "postgres" {
		if pg, err = postgres.Open(ctx, cfg.Store, postgres.Options{MaxConns: int32(min(cfg.DBPoolMax, math.MaxInt32))}); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		st = pg
	} else if st, err = bolt.Open(filepath.Join(cfg.Data, "gatehouse.db"), bolt.Options{Metrics: m}); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	// The key must open what the store holds, or every request would fail.
	sealer, err := realms.OpenSealer(ctx, st, cfg.Data, cfg.MasterKey)
	if err != nil {
		st.Close()
		return nil, err
	}
	// Replicas on one database must share the key: the database records a
	// keyed digest of it, which proves that and reveals nothing of it.
	if pg != nil {
		if err := pg.CheckMasterKey(ctx, sealer.Digest(masterKeyCheck)); err != nil {
			st.Close()
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	svc := realms.NewService(st, sealer, nil)
	svc.SetMetrics(m)
	return &app{store: st, svc: svc}, nil
}

// masterKeyCheck is what the master key's digest in a shared database is
// taken over.
const masterKeyCheck = "gatehouse master key check"

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
	// Every port is bound before the data directory is touched: a busy
	// port must not leave behind a bootstrapped admin whose generated
	// password was printed by a start that then failed.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w (is another server using it? choose another address with --addr or GATEHOUSE_ADDR)", err)
	}
	defer ln.Close()
	var tlsConfig *tls.Config
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, tlsConfig)
	}
	var rec metrics.Recorder
	var mgmt *management
	if !managementOff(cfg.ManagementAddr) {
		pm := prom.New(prom.DefaultMaxRealms)
		if mgmt, err = listenManagement(cfg.ManagementAddr, pm.Handler(), cfg.ManagementPprof); err != nil {
			return err
		}
		defer mgmt.close()
		rec = pm
	} else if cfg.ManagementPprof {
		return errors.New("serve: --management-pprof needs the management listener (--management-addr)")
	}
	var debug *management
	if cfg.DebugAddr != "" {
		if debug, err = listenManagement(cfg.DebugAddr, nil, true); err != nil {
			return err
		}
		defer debug.close()
	}
	a, err := openApp(ctx, cfg, rec)
	if err != nil {
		return err
	}
	defer func() {
		if err := a.store.Close(); err != nil {
			log.Error("close store", "err", err)
		}
	}()
	// Other replicas' announced writes drop this one's caches at once; the
	// per-request generation check (WithRequestScope below) is what
	// guarantees the next request sees them. Stopped before the store closes.
	followCtx, stopFollowing := context.WithCancel(ctx)
	defer stopFollowing()
	go func() {
		if err := a.svc.FollowReplicas(followCtx); err != nil && followCtx.Err() == nil {
			log.Error("stopped following other replicas' writes", "err", err)
		}
	}()
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
	if boot.PasswordIgnored {
		log.Warn("GATEHOUSE_ADMIN_PASSWORD is not the password of the stored admin user and was not applied: it only sets the password on first start; change it with the admin API or CLI",
			"user", boot.Username)
	}

	if cfg.ImportRealm != "" {
		// Existing realms are kept: a restart must not undo what was
		// changed since the first import.
		files, err := realmFiles(cfg.ImportRealm)
		if err != nil {
			return fmt.Errorf("import-realm: %w", err)
		}
		err = importFiles(ctx, a.svc, files, false, func(file string, res admin.RealmFileImport) {
			switch {
			case !res.Imported:
				log.Info("realm exists, import skipped", "realm", res.Realm, "file", file)
			case len(res.Ignored) > 0:
				log.Warn("imported realm; fields not supported by Gatehouse were not imported", "realm", res.Realm, "file", file,
					"not_imported", strings.Join(res.Ignored, ","))
			default:
				log.Info("imported realm", "realm", res.Realm, "file", file)
			}
		})
		if err != nil {
			return fmt.Errorf("import-realm: %w", err)
		}
	}

	// One session and one Knox service over the realm service, shared by
	// every surface that serves them.
	sessions, knoxSvc := realms.NewSessionService(a.svc), realms.NewKnoxService(a.svc)
	srv := oidc.NewServer(oidc.Config{
		Service: a.svc, Sessions: sessions, Knox: knoxSvc, Hostname: cfg.Hostname, RelativePath: cfg.HTTPRelativePath,
		Logger: log, TLS: cfg.TLSCert != "", IAMRealm: cfg.IAMRealm, Ready: a.ready,
	})
	admin.Mount(srv, admin.Services{Realms: a.svc, Sessions: sessions, Knox: knoxSvc}, log).SetVersion(version)
	knox.Mount(srv, knoxSvc, a.svc, log)
	var h http.Handler = srv
	if kind, _, _ := storeKind(cfg.Store); kind == "postgres" {
		h = requestScoped(h)
	}
	hs := oidc.NewHTTPServer(h)
	hs.TLSConfig = tlsConfig
	// The server's own messages (TLS handshake failures above all) join the
	// structured log instead of going to stderr unformatted.
	hs.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	log.Info("gatehouse listening", "addr", ln.Addr().String(), "url", scheme+"://"+ln.Addr().String()+cfg.HTTPRelativePath,
		"store", storeLabel(cfg), "startup", time.Since(start))

	if mgmt != nil {
		mgmt.serve(log)
		log.Info("management listening", "addr", mgmt.ln.Addr().String(), "pprof", cfg.ManagementPprof)
	}
	if debug != nil {
		debug.serve(log)
		log.Warn("--debug-addr is deprecated (use --management-pprof): serving pprof profiles; keep this address private", "debug_addr", debug.ln.Addr().String())
	}

	// Deferred after the store's Close, so it runs (and waits) before it.
	janitor := a.svc.StartJanitor(cfg.JanitorInterval, log)
	defer janitor.Close()

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	if mgmt != nil {
		mgmt.ready.Store(true)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if mgmt != nil {
		mgmt.ready.Store(false)
	}
	log.Info("shutting down: draining in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		log.Error("shutdown", "err", err)
	}
	janitor.Close()
	return nil
}

// defaultGCPercent is the server's GOGC unless the environment sets one.
// The live heap is small (a few MiB of realm snapshots and caches) and
// every token request allocates: at Go's default of 100, GC was a visible
// share of a cheap (ES256) token's CPU; 200 cut the CPU per token and per
// refresh for a little more peak RSS (figures in BENCHMARKS.md).
const defaultGCPercent = 200

// defaultMemoryLimit is the server's soft GOMEMLIMIT unless the environment
// sets one. Password hashing makes 7 MiB of garbage per argon2id hash; with
// GOGC at 200 that garbage let hundreds of concurrent logins push the peak
// RSS well past the target, and 64 MiB keeps it under with the same CPU per
// request (BENCHMARKS.md): the live heap is a few MiB, so the extra
// collections are cheap. The limit is soft: a larger live heap (say,
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

// requestScoped gives each request a realms.WithRequestScope context, so a
// shared store's realm generations are read once per realm per request
// (bbolt has none to read, and its requests go without the scope).
func requestScoped(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(realms.WithRequestScope(r.Context())))
	})
}
