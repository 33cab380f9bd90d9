package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/admin"
	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store/bolt"
	"golang.org/x/term"
)

// openStopped opens a stopped server's data directory for an offline
// command; the store's file lock makes it refuse while a server runs.
func openStopped(verb, data, masterKey string) (*app, error) {
	a, err := openApp(context.Background(), serveConfig{Data: data, MasterKey: masterKey}, nil)
	if errors.Is(err, bolt.ErrLocked) {
		return nil, fmt.Errorf("%s: %s is in use by a running server; stop it first: %w", verb, data, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", verb, err)
	}
	return a, nil
}

// exportRealm is `gatehouse export --data DIR --realm R --file F`: the
// realm as a Keycloak realm file, with its secrets and (unless --users
// skip) its users' password hashes, for `gatehouse import` or Keycloak.
func exportRealm(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", stderr)
	data, masterKey := stoppedServerFlags(fs, "data `directory` of the stopped server")
	realm := fs.String("realm", "", "`name` of the realm to export")
	file := fs.String("file", "", "`file` to write (mode 0600: it holds secrets and password hashes), or - for stdout")
	users := fs.String("users", "realm_file", "realm_file: users in the file; skip: no users")
	if err := fs.parseNoArgs(args); err != nil {
		return err
	}
	if *realm == "" || *file == "" {
		return usagef("--realm and --file are required")
	}
	if *users != "realm_file" && *users != "skip" {
		return usagef("--users must be realm_file or skip")
	}
	if _, err := os.Stat(filepath.Join(*data, "gatehouse.db")); err != nil {
		return fmt.Errorf("export: no Gatehouse store in %s: %w", *data, err)
	}
	a, err := openStopped("export", *data, *masterKey)
	if err != nil {
		return err
	}
	defer a.store.Close()
	b, err := admin.ExportRealmFile(ctx, a.svc, *realm, *users == "realm_file")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if *file == "-" {
		_, err = stdout.Write(b)
		return err
	}
	if err := os.WriteFile(*file, b, 0o600); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(stderr, "exported realm %q to %s\n", *realm, *file)
	return nil
}

// importRealms is `gatehouse import --data DIR (--file F | --dir D)`: creates
// the realms of Keycloak realm files on a stopped server's data directory.
func importRealms(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("import", stderr)
	data, masterKey := stoppedServerFlags(fs, "data `directory` of the stopped server (created if missing)")
	file := fs.String("file", "", "realm `file` to import")
	dir := fs.String("dir", "", "`directory` whose *-realm.json files are imported")
	override := fs.String("override", "true", "true: an existing realm of the same name is replaced; false: it is kept and the file skipped")
	if err := fs.parseNoArgs(args); err != nil {
		return err
	}
	if (*file == "") == (*dir == "") {
		return usagef("exactly one of --file and --dir is required")
	}
	over, err := strconv.ParseBool(*override)
	if err != nil {
		return usagef("--override must be true or false")
	}
	files := []string{*file}
	if *dir != "" {
		if files, err = realmFiles(*dir); err != nil {
			return fmt.Errorf("import: %w", err)
		}
	}
	a, err := openStopped("import", *data, *masterKey)
	if err != nil {
		return err
	}
	defer a.store.Close()
	err = importFiles(ctx, a.svc, files, over, progressLine(stderr), func(file string, res admin.RealmFileImport) {
		if !res.Imported {
			fmt.Fprintf(stdout, "realm %q exists; %s skipped (--override false)\n", res.Realm, file)
			return
		}
		fmt.Fprintf(stdout, "imported realm %q from %s\n", res.Realm, file)
		if len(res.NotSupported) > 0 {
			fmt.Fprintf(stdout, "  not imported (not supported by Gatehouse): %s\n", strings.Join(res.NotSupported, ", "))
		}
		if len(res.Unknown) > 0 {
			fmt.Fprintf(stdout, "  ignored (unknown to Keycloak too): %s\n", strings.Join(res.Unknown, ", "))
		}
	})
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	return nil
}

// realmFiles lists the *-realm.json files of dir, as Keycloak's import
// directory is read.
func realmFiles(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*-realm.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no *-realm.json file in %s", dir)
	}
	return files, nil
}

// usersFiles lists the <realm>-users-<n>.json files next to a
// <realm>-realm.json, by n, as `kc.sh export --dir` writes a realm's users
// (50 per file by default).
func usersFiles(realmFile string) ([]string, error) {
	prefix, ok := strings.CutSuffix(realmFile, "-realm.json")
	if !ok {
		return nil, nil
	}
	files, err := filepath.Glob(prefix + "-users-*.json")
	if err != nil {
		return nil, err
	}
	num := func(f string) int {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(f, prefix+"-users-"), ".json"))
		if err != nil {
			return -1
		}
		return n
	}
	files = slices.DeleteFunc(files, func(f string) bool { return num(f) < 0 })
	slices.SortFunc(files, func(a, b string) int { return num(a) - num(b) })
	return files, nil
}

// importFiles imports realm files one by one, each all or nothing, and
// stops at the first that fails. progress (nil: none) hears of users
// imported so far, per file.
func importFiles(ctx context.Context, svc *realms.Service, files []string, override bool,
	progress func(file string, done, total int), report func(file string, res admin.RealmFileImport)) error {
	opener := func(path string) admin.Opener { return func() (io.ReadCloser, error) { return os.Open(path) } }
	for _, f := range files {
		src := admin.RealmFileSource{Realm: opener(f)}
		users, err := usersFiles(f)
		if err != nil {
			return err
		}
		for _, u := range users {
			src.Users = append(src.Users, opener(u))
		}
		var p func(done, total int)
		if progress != nil {
			p = func(done, total int) { progress(f, done, total) }
		}
		res, err := admin.ImportRealmFile(ctx, svc, src, override, p)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		report(f, res)
	}
	return nil
}

// progressLine reports an import's users: one line rewritten in place on
// a terminal, else a plain line every progressEvery users and at the end.
func progressLine(w io.Writer) func(file string, done, total int) {
	tty := false
	if f, ok := w.(interface{ Fd() uintptr }); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return func(file string, done, total int) {
		switch {
		case tty:
			fmt.Fprintf(w, "\r%s: %d/%d users imported", file, done, total)
			if done == total {
				fmt.Fprintln(w)
			}
		case done == total || done/progressEvery != (done-realms.ImportBatch)/progressEvery:
			fmt.Fprintf(w, "%s: %d/%d users imported\n", file, done, total)
		}
	}
}

// progressEvery is how many users apart plain progress lines are.
const progressEvery = 10 * realms.ImportBatch
