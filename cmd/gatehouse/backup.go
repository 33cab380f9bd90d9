package main

import (
	"context"
	"errors"
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
		return errors.New("--out FILE is required")
	}
	a, err := newAdminClient(*cfgFlag)
	if err != nil {
		return err
	}
	tok, err := a.cfg.freshToken(ctx, a.path)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.cfg.Server+"/admin/backup", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	// Large stores take a while: no overall client timeout here.
	res, err := (&http.Client{}).Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return &apiError{status: res.StatusCode, msg: string(b)}
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
	if want, perr := strconv.ParseInt(res.Trailer.Get("X-Backup-Bytes"), 10, 64); perr != nil || want != n {
		return fmt.Errorf("backup incomplete: received %d bytes, server reported %q", n, res.Trailer.Get("X-Backup-Bytes"))
	}
	st, err := bolt.Open(tmp.Name(), bolt.Options{})
	if err != nil {
		return fmt.Errorf("backup does not open: %w", err)
	}
	err = st.Check()
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup fails its consistency check: %w", err)
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Backup of %d bytes written to %s (restore it next to the same master key)\n", n, *out)
	return nil
}
