package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/gatehouse/gatehouse/store/bolt"
)

// bootstrapAdmin is `gatehouse bootstrap-admin --data DIR --username U`:
// offline recovery for admins locked out of a server (like Keycloak's
// `kc.sh bootstrap-admin user`). On a stopped server's data directory it
// creates, or re-enables, the master-realm user U with master's admin role
// and a new password. The store's file lock makes it refuse while a server
// runs on the directory.
func bootstrapAdmin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bootstrap-admin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./data", "data directory of the stopped server")
	username := fs.String("username", "", "master-realm user to create or restore")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bootstrap-admin: unexpected arguments %q", fs.Args())
	}
	if *username == "" {
		return errors.New("bootstrap-admin: --username is required")
	}
	dbPath := filepath.Join(*data, "gatehouse.db")
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("bootstrap-admin: no Gatehouse store at %s: %w", dbPath, err)
	}
	password, err := newAdminPassword(stdin, stderr)
	if err != nil {
		return err
	}
	a, err := openApp(*data, os.Getenv("GATEHOUSE_MASTER_KEY"))
	if errors.Is(err, bolt.ErrLocked) {
		return fmt.Errorf("bootstrap-admin: %s is in use by a running server; stop it first: %w", dbPath, err)
	}
	if err != nil {
		return err
	}
	defer a.store.Close()
	if a.store.ReadOnly() {
		return fmt.Errorf("bootstrap-admin: %s is read-only", dbPath)
	}
	res, err := a.svc.BootstrapAdmin(ctx, *username, password)
	if err != nil {
		return fmt.Errorf("bootstrap-admin: %w", err)
	}
	what := "restored"
	if res.Created {
		what = "created"
	}
	fmt.Fprintf(stdout, "%s master-realm user %q with the admin role; start the server and sign in through admin-cli\n", what, *username)
	return nil
}

// newAdminPassword reads the password from GATEHOUSE_ADMIN_PASSWORD, else
// from a prompt that does not echo (entered twice) when stdin is a
// terminal. Never from the command line, which other local users can read.
func newAdminPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if p := os.Getenv("GATEHOUSE_ADMIN_PASSWORD"); p != "" {
		return p, nil
	}
	f, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("bootstrap-admin: no password: set GATEHOUSE_ADMIN_PASSWORD or run from a terminal to be prompted")
	}
	read := func(prompt string) (string, error) {
		fmt.Fprint(stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		return strings.TrimRight(string(b), "\r\n"), err
	}
	p, err := read("Password: ")
	if err != nil {
		return "", fmt.Errorf("bootstrap-admin: read password: %w", err)
	}
	again, err := read("Password (again): ")
	if err != nil {
		return "", fmt.Errorf("bootstrap-admin: read password: %w", err)
	}
	if p != again {
		return "", errors.New("bootstrap-admin: the passwords differ")
	}
	if p == "" {
		return "", errors.New("bootstrap-admin: the password is empty")
	}
	return p, nil
}
