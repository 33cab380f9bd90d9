package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/term"
)

// bootstrapAdmin is `gatehouse bootstrap-admin --data DIR --username U`:
// offline recovery for admins locked out of a server (like Keycloak's
// `kc.sh bootstrap-admin user`). On a stopped server's data directory it
// creates, or re-enables, the master-realm user U with master's admin role
// and a new password. The store's file lock makes it refuse while a server
// runs on the directory.
func bootstrapAdmin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("bootstrap-admin", stderr)
	data, masterKey := stoppedServerFlags(fs, "data `directory` of the stopped server")
	username := fs.String("username", "", "master-realm `user` to create or restore")
	var password string
	fs.envString(&password, "GATEHOUSE_ADMIN_PASSWORD", "the new password (default: prompted twice, without echo, on a terminal)")
	if err := fs.parseNoArgs(args); err != nil {
		return err
	}
	if *username == "" {
		return usagef("--username is required")
	}
	dbPath := filepath.Join(*data, "gatehouse.db")
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("bootstrap-admin: no Gatehouse store at %s: %w", dbPath, err)
	}
	if password == "" {
		p, err := newAdminPassword(stdin, stderr)
		if err != nil {
			return err
		}
		password = p
	}
	a, err := openStopped("bootstrap-admin", *data, *masterKey)
	if err != nil {
		return err
	}
	defer a.store.Close()
	if a.readOnly() {
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

// newAdminPassword asks for the password twice on a terminal, without echo.
// Never from the command line, which other local users can read.
func newAdminPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(interface{ Fd() uintptr }); !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("bootstrap-admin: no password: set GATEHOUSE_ADMIN_PASSWORD or run from a terminal to be prompted")
	}
	fmt.Fprint(stderr, "Password: ")
	p, err := readPassword(stdin, stderr)
	if err != nil {
		return "", fmt.Errorf("bootstrap-admin: %w", err)
	}
	fmt.Fprint(stderr, "Password (again): ")
	again, err := readPassword(stdin, stderr)
	if err != nil {
		return "", fmt.Errorf("bootstrap-admin: %w", err)
	}
	if p != again {
		return "", errors.New("bootstrap-admin: the passwords differ")
	}
	if p == "" {
		return "", errors.New("bootstrap-admin: the password is empty")
	}
	return p, nil
}
