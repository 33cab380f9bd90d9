package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// command is one verb of the binary. Its flags are defined where it parses
// them and help prints them from there; this table holds only the words
// around them. A new command is one entry here.
type command struct {
	name     string // as typed: "serve", "config credentials"
	synopsis string // what follows the name in the usage line
	summary  string // one line for `gatehouse help`
	about    string
	examples []string
	run      func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

func commands() []command {
	cmds := []command{{
		name:     "serve",
		synopsis: "[flags]",
		summary:  "run the token service",
		about: `Runs the OpenID Connect token service and the admin REST API on an embedded
store in --data, or on a PostgreSQL database shared by several replicas
(--store postgres://..., schema created and migrated at start). Every flag can
also be set as GATEHOUSE_<NAME> (upper case, dashes as underscores); flags win
over the environment. On the first start with an empty store it creates realm
master, client admin-cli and an admin user. Go's GOGC and GOMEMLIMIT default
to 200 and 64MiB unless set.`,
		examples: []string{
			"GATEHOUSE_ADMIN_PASSWORD=change-me gatehouse serve",
			"gatehouse serve --addr 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem --hostname https://id.example.com",
			"GATEHOUSE_DATA=/var/lib/gatehouse gatehouse serve --http-relative-path /auth --log-format json",
			"GATEHOUSE_STORE=postgres://gatehouse:secret@db:5432/gatehouse GATEHOUSE_MASTER_KEY=... gatehouse serve --db-pool-max 16",
		},
		run: func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
			return serve(ctx, args, stdout, stderr)
		},
	}, {
		name:     "config credentials",
		synopsis: "--server URL [--realm REALM] (--user USER [--password PASSWORD] | --client ID --secret SECRET | --device [--client ID]) [flags]",
		summary:  "log in to a server's admin API (kcadm.sh style)",
		about: `Logs in and stores the server URL and tokens in the config file (mode 0600).
With --user it uses the password grant through the public client admin-cli (or
--client); without --password it prompts, without echo on a terminal. With
--client and --secret it uses client_credentials. With --device it prints a
code and a URL, the user approves the sign-in in a browser, and the tokens
are stored (device authorization grant through admin-cli or --client, which
needs the attribute oauth2.device.authorization.grant.enabled=true). Later
commands refresh the tokens as needed and write them back.`,
		examples: []string{
			"gatehouse config credentials --server http://127.0.0.1:8080 --realm master --user admin",
			"gatehouse config credentials --server https://id.example.com/auth --realm demo --client app --secret \"$SECRET\" --config app.json",
			"gatehouse config credentials --server https://id.example.com --realm demo --client cli --device",
		},
		run: configCredentials,
	}}
	crudAbout := `Calls the admin REST API: create is POST, get GET, update PUT, delete DELETE.
PATH is relative to the realm (clients, users/ID, roles); "realms", "realms/..."
and "gateway/..." are absolute, and get serverinfo reads /admin/serverinfo.
-s sets fields (JSON values are used as such; quote dotted keys:
'attributes."access.token.lifespan"=600'). update without -f reads the
resource, applies -s and writes it back. Errors print the server's message
and exit 1.`
	crudExamples := []string{
		"gatehouse create realms -s realm=demo -s enabled=true",
		"CID=$(gatehouse create clients -r demo -s clientId=app -s serviceAccountsEnabled=true -i)",
		"gatehouse get clients/$CID/client-secret -r demo --fields value --format csv",
		"gatehouse update clients/$CID -r demo -s 'attributes.\"access.token.lifespan\"=3600'",
		"gatehouse get users -r demo -q username=alice --fields id,username",
		"gatehouse delete clients/$CID -r demo",
		"gatehouse get serverinfo",
	}
	for _, v := range []struct{ verb, summary string }{
		{"create", "POST a new resource"},
		{"get", "GET a resource or a list"},
		{"update", "PUT a resource (read, apply -s, write back)"},
		{"delete", "DELETE a resource"},
	} {
		cmds = append(cmds, command{
			name: v.verb, synopsis: "PATH [-r REALM] [flags]", summary: v.summary,
			about: crudAbout, examples: crudExamples,
			run: func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
				return crud(ctx, v.verb, args, stdin, stdout, stderr)
			},
		})
	}
	cmds = append(cmds, command{
		name:     "set-password",
		synopsis: "[-r REALM] (--username NAME | --userid ID) --new-password PASSWORD [--temporary]",
		summary:  "set a user's password",
		examples: []string{"gatehouse set-password -r demo --username alice --new-password 'S3cret!'"},
		run: func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
			return setPassword(ctx, args, stdout, stderr)
		},
	})
	rolesExamples := []string{
		"gatehouse add-roles -r demo --uusername alice --rolename reader",
		"gatehouse add-roles -r demo --uusername service-account-app --cclientid realm-management --rolename manage-clients",
		"gatehouse get-roles -r demo --uusername alice",
		"gatehouse remove-roles -r demo --uusername alice --rolename reader",
		"gatehouse add-roles -r demo --gpath /staff/team --rolename reader",
		"gatehouse add-roles -r demo --rname editor --rolename reader",
	}
	for _, v := range []struct{ verb, summary string }{
		{"add-roles", "grant realm or client roles to a user or group, or add them to a composite"},
		{"remove-roles", "take realm or client roles from a user or group, or a composite"},
		{"get-roles", "list a user's or group's role mappings, a composite's roles, or the roles that exist"},
	} {
		cmds = append(cmds, command{
			name: v.verb, synopsis: "[-r REALM] (--uusername NAME | --uid ID | --gname NAME | --gpath PATH | --gid ID | --rname ROLE | --rid ID) [--cclientid CLIENT] [--rolename ROLE]...",
			summary: v.summary, examples: rolesExamples,
			about: "Without --cclientid or --cid the roles are realm roles; with them, that client's roles.\n" +
				"--gname/--gpath/--gid act on a group's role mappings, --rname/--rid on a role's composites.",
			run: func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
				return roles(ctx, v.verb, args, stdout, stderr)
			},
		})
	}
	return append(cmds, command{
		name:     "backup",
		synopsis: "--out FILE|- [flags]",
		summary:  "consistent online copy of the running server's store",
		about: `Downloads a consistent copy of the running server's store (GET /admin/backup,
master admin only). A file is verified before it is kept: the byte count the
server reports, and bbolt's consistency check on the copy opened read-only.
--out - writes the stream to stdout unverified. Restore by copying the file to
<data>/gatehouse.db next to the same master.key and starting serve.`,
		examples: []string{
			"gatehouse backup --out gatehouse-$(date +%F).db",
			"gatehouse backup --out - | gzip > backup.db.gz",
		},
		run: func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
			return backup(ctx, args, stdout, stderr)
		},
	}, command{
		name:     "bootstrap-admin",
		synopsis: "--data DIR --username USER",
		summary:  "on a stopped server: create or restore a master-realm admin",
		about: `Offline recovery for an operator locked out of the admin API (like Keycloak's
kc.sh bootstrap-admin). On a stopped server's data directory it creates the
master-realm user, or re-enables it, grants master's admin role, sets the
password and clears its login failures. It refuses while a server holds the
store.`,
		examples: []string{"GATEHOUSE_ADMIN_PASSWORD='n3w-pass' gatehouse bootstrap-admin --data ./data --username admin"},
		run:      bootstrapAdmin,
	}, command{
		name:     "migrate",
		synopsis: "--from bolt://DIR --to postgres://USER@HOST/DB [--force]",
		summary:  "on a stopped server: copy its bbolt store into an empty PostgreSQL database",
		about: `Copies everything in a stopped server's bbolt store (DIR is its --data) into an
empty PostgreSQL database: realms, keys, clients, users with their password
hashes, roles, groups, client scopes, identity providers, topologies, Knox
tokens, API and access keys, live sessions and refresh tokens, codes, login
failures, admin and login events. Progress goes to stderr; at the end every
kind is counted back from the database and compared with the source. Sealed
values (client secrets, signing keys) are copied as stored, so every replica
on the database needs DIR's master key: GATEHOUSE_MASTER_KEY set to the
content of DIR/master.key, or a copy of that file in its --data. When the key
is at hand, migrate checks it opens the store and records it in the database,
so a replica with another key refuses to start. A database that already holds
realms is refused unless --force (re-running an interrupted migration keeps
what is there).`,
		examples: []string{
			"GATEHOUSE_STORE=postgres://gatehouse@db:5432/gatehouse gatehouse migrate --from bolt:///var/lib/gatehouse",
		},
		run: migrateStore,
	}, command{
		name:     "export",
		synopsis: "--data DIR --realm REALM --file FILE [--users realm_file|skip]",
		summary:  "on a stopped server: write a realm as a Keycloak realm file",
		about: `Writes a realm of a stopped server's data directory as a Keycloak realm file
(kc.sh export style): settings, roles, groups, clients, client scopes, identity
providers and users, with clear client and provider secrets and the users'
password hashes in Keycloak's form, so that gatehouse import (or Keycloak)
recreates it. The file is written with mode 0600; keep it as secret as the
data directory.`,
		examples: []string{"gatehouse export --data ./data --realm demo --file demo-realm.json"},
		run:      exportRealm,
	}, command{
		name:     "import",
		synopsis: "--data DIR (--file FILE | --dir DIR) [--override true|false]",
		summary:  "on a stopped server: create realms from Keycloak realm files",
		about: `Creates the realms of Keycloak realm files (a gatehouse or Keycloak export) in a
stopped server's data directory (kc.sh import style). Users keep their IDs and
password hashes (pbkdf2, pbkdf2-sha256, pbkdf2-sha512, argon2, bcrypt), clients
their secrets. Each file is all or nothing. With --override true (the default)
an existing realm of the same name is deleted first; with false it is kept.`,
		examples: []string{
			"gatehouse import --data ./data --file demo-realm.json",
			"gatehouse import --data ./data --dir ./realms --override false",
		},
		run: importRealms,
	}, command{
		name:    "version",
		summary: "print the version",
		run: func(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
			if err := newFlagSet("version", stderr).Parse(args); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "gatehouse", version)
			return nil
		},
	})
}

// findCommand matches the leading words of args to a command and returns the
// rest.
func findCommand(args []string) (command, []string) {
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && slices.Equal(args[:len(words)], words) {
			return c, args[len(words):]
		}
	}
	return command{}, nil
}

// run dispatches a command line and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		writeOverview(stderr)
		return 2
	}
	switch args[0] {
	case "help", "-h", "--help":
		if len(args) == 1 {
			writeOverview(stdout)
			return 0
		}
		// Help for a command is its own -h: printed from its flags.
		args = append(slices.Clone(args[1:]), "-h")
	case "--version":
		args = []string{"version"}
	}
	if args[0] == "config" && (len(args) == 1 || strings.HasPrefix(args[1], "-")) {
		// `gatehouse config -h`: the only config command.
		args = append([]string{"config", "credentials"}, args[1:]...)
	}
	cmd, rest := findCommand(args)
	if cmd.run == nil {
		fmt.Fprintf(stderr, "gatehouse: unknown command %q\n\n", strings.Join(args[:min(len(args), 2)], " "))
		writeOverview(stderr)
		return 2
	}
	err := cmd.run(ctx, rest, stdin, stdout, stderr)
	var help *helpRequest
	var usage *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &help):
		writeCommandHelp(stdout, help.fs)
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0 // printed by the flag set itself
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "gatehouse %s: %v\nRun `gatehouse help %s` for usage.\n", cmd.name, usage.err, cmd.name)
		return 2
	}
	fmt.Fprintln(stderr, "gatehouse:", err)
	return 1
}
