package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store/bolt"
	"github.com/gatehouse/gatehouse/store/migrate"
	"github.com/gatehouse/gatehouse/store/postgres"
)

// migrateStore is `gatehouse migrate --from bolt://DIR --to postgres://...`:
// a stopped server's bbolt store copied into an empty PostgreSQL database,
// then verified by reading the database back. Sealed values are copied as
// stored; when DIR's master key is at hand (GATEHOUSE_MASTER_KEY or
// DIR/master.key) it is checked against the store and its digest recorded
// in the database, as the first replica would, so replicas with another
// key refuse to start.
func migrateStore(ctx context.Context, args []string, _ io.Reader, _, stderr io.Writer) error {
	fs := newFlagSet("migrate", stderr)
	from := fs.String("from", "", "the stopped server's store: bolt://DIR (its data directory)")
	to := fs.String("to", "", "the empty target database: postgres://USER@HOST:PORT/DB (keep the password out of the\n"+
		"command line: GATEHOUSE_STORE, ~/.pgpass or PGPASSWORD)")
	force := fs.Bool("force", false, "copy into a database that already holds realms (an interrupted migration run again:\nrecords already there are kept as they are)")
	var masterKey string
	fs.envString(&masterKey, "GATEHOUSE_MASTER_KEY", "DIR's master key, when it is not in DIR/master.key (optional: the copy\nneeds no key; with one, the database is tied to it as serve would)")
	if err := fs.bindEnv("to", "GATEHOUSE_STORE"); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	kind, dir, err := storeKind(*from)
	if err != nil || kind != "bolt" || dir == "" {
		return usagef("--from bolt://DIR is required")
	}
	if kind, _, err := storeKind(*to); err != nil || kind != "postgres" || *to == "" {
		return usagef("--to postgres://USER@HOST/DB (or GATEHOUSE_STORE) is required")
	}
	fs.Visit(func(f *flag.Flag) {
		if u, err := url.Parse(*to); f.Name == "to" && err == nil && u.User != nil {
			if _, ok := u.User.Password(); ok {
				fmt.Fprintln(stderr, "warning: the --to URL on the command line holds a password other local users can read: use GATEHOUSE_STORE, ~/.pgpass or PGPASSWORD")
			}
		}
	})
	dbPath := filepath.Join(dir, "gatehouse.db")
	// Opening would create an empty store where the operator mistyped.
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("migrate: no Gatehouse store at %s: %w", dbPath, err)
	}
	src, err := bolt.Open(dbPath, bolt.Options{})
	if errors.Is(err, bolt.ErrLocked) {
		return fmt.Errorf("migrate: %s is in use by a running server; stop it first (a running server would keep writing after the copy): %w", dbPath, err)
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer src.Close()

	// The key is only checked and recorded when it is at hand; loading it
	// never creates one.
	var sealer *realms.Sealer
	if _, err := os.Stat(filepath.Join(dir, realms.MasterKeyFile)); masterKey != "" || err == nil {
		if sealer, err = realms.OpenSealer(ctx, src, dir, masterKey); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	dst, err := postgres.Open(ctx, *to, postgres.Options{MaxConns: 4})
	if err != nil {
		return fmt.Errorf("migrate: open target: %w", err)
	}
	defer dst.Close()
	if sealer != nil {
		if err := dst.CheckMasterKey(ctx, sealer.Digest(masterKeyCheck)); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	start := time.Now()
	fmt.Fprintf(stderr, "copying bolt://%s to %s\n", dir, storeLabel(serveConfig{Store: *to}))
	rep, err := migrate.Copy(ctx, src, dst, migrate.Options{Force: *force, Progress: stderr})
	if errors.Is(err, migrate.ErrTargetNotEmpty) {
		return usagef("%v", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "verified (read back from the target):")
	for _, k := range migrate.Kinds {
		line := fmt.Sprintf("  %-20s %d", k, rep.Target[k])
		if _, counted := rep.Target[k]; !counted {
			line = fmt.Sprintf("  %-20s %d written (not readable without spending them)", k, rep.Copied[k])
		}
		if n := rep.Kept[k]; n > 0 {
			line += fmt.Sprintf(", %d already there", n)
		}
		if n := rep.Skipped[k]; n > 0 {
			line += fmt.Sprintf(", %d expired or ended, not copied", n)
		}
		fmt.Fprintln(stderr, line)
	}
	fmt.Fprintf(stderr, "done in %s. Start every replica with --store on this database and DIR's master key:\n"+
		"GATEHOUSE_MASTER_KEY=\"$(cat %s)\", or a copy of that file in each replica's --data.\n",
		time.Since(start).Round(time.Millisecond), filepath.Join(dir, realms.MasterKeyFile))
	if sealer == nil {
		fmt.Fprintln(stderr, "warning: no master key found (GATEHOUSE_MASTER_KEY or DIR/master.key): the data is sealed under one; "+
			"replicas start only with that key")
	}
	return nil
}
