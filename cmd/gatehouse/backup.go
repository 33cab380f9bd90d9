package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/gatehouse/gatehouse/store/bolt"
)

// backup is `gatehouse backup --out FILE`: a consistent online copy of the
// running server's store (GET /admin/backup, master admin), verified before
// it is kept. Restore by copying it to <data>/gatehouse.db next to the same
// master key and running `gatehouse serve --data <data>`.
func backup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup", stderr)
	out := fs.String("out", "", "`file` to write the backup to, or - for stdout")
	cfgFlag := configFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out FILE is required")
	}
	a, err := newAdminClient(ctx, *cfgFlag)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.cfg.Server+"/admin/backup", nil)
	if err != nil {
		return err
	}
	// Large stores take a while: no overall client timeout here.
	res, err := a.send(req, &http.Client{})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if *out == "-" {
		// A stream cannot be checked before it is used: the byte count
		// at least says whether it is whole.
		n, err := io.Copy(stdout, res.Body)
		if err != nil {
			return fmt.Errorf("download: %w", err)
		}
		return complete(n, res.Trailer)
	}
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".gatehouse-backup-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, res.Body)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if err := complete(n, res.Trailer); err != nil {
		return err
	}
	sum, err := bolt.Verify(tmp.Name())
	if err != nil {
		return fmt.Errorf("backup fails its consistency check: %w", err)
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Backup of %d bytes written to %s: consistent, %d realms, %d buckets (restore it next to the same master key)\n",
		n, *out, sum.Realms, sum.Buckets)
	return nil
}

// complete checks the received length against the server's X-Backup-Bytes
// trailer, which it sends only after the whole copy.
func complete(n int64, trailer http.Header) error {
	if want, err := strconv.ParseInt(trailer.Get("X-Backup-Bytes"), 10, 64); err != nil || want != n {
		return fmt.Errorf("backup incomplete: received %d bytes, server reported %q", n, trailer.Get("X-Backup-Bytes"))
	}
	return nil
}
