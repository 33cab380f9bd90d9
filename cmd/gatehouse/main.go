package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `Usage: gatehouse <command> [flags]

Commands:
  serve                 run the token service (see gatehouse serve -h)
  config credentials    log in to a server's admin API (kcadm.sh style)
  create|get|update|delete PATH -r REALM [-s key=value]... [-f FILE|-] [-q key=value] [--fields a,b] [--format json|csv] [-i]
                        call the admin REST API on a path relative to the realm
  set-password          set a user's password
  add-roles|remove-roles|get-roles
                        manage a user's role mappings
  backup --out FILE     consistent online copy of the running server's store
  bootstrap-admin --data DIR --username U
                        on a stopped server: create or restore a master admin
                        (password from GATEHOUSE_ADMIN_PASSWORD or a prompt)
  version               print the version
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// run dispatches a command line and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "config":
		if len(args) < 2 || args[1] != "credentials" {
			fmt.Fprintln(stderr, "usage: gatehouse config credentials --server URL --realm REALM (--user U [--password P] | --client C --secret S)")
			return 2
		}
		err = configCredentials(ctx, args[2:], stdin, stdout, stderr)
	case "create", "get", "update", "delete":
		err = crud(ctx, args[0], args[1:], stdin, stdout, stderr)
	case "backup":
		err = backup(ctx, args[1:], stdout, stderr)
	case "bootstrap-admin":
		err = bootstrapAdmin(ctx, args[1:], stdin, stdout, stderr)
	case "set-password":
		err = setPassword(ctx, args[1:], stdout, stderr)
	case "add-roles", "remove-roles", "get-roles":
		err = roles(ctx, args[0], args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "gatehouse", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "gatehouse: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "gatehouse:", err)
		return 1
	}
	return 0
}
