package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// runCLI runs a command line in-process.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// flagsOf returns the flag set a command parses, as its -h sees it.
func flagsOf(t *testing.T, c command) *flagSet {
	t.Helper()
	err := c.run(context.Background(), []string{"-h"}, strings.NewReader(""), io.Discard, io.Discard)
	var h *helpRequest
	if !errors.As(err, &h) {
		t.Fatalf("%s -h: %v, want a help request", c.name, err)
	}
	return h.fs
}

// Every way of asking for a command's help prints its synopsis, every flag
// it parses (with the variable that sets it) and examples, to stdout.
func TestHelpShowsEveryFlagOfEveryCommand(t *testing.T) {
	for _, c := range commands() {
		fs := flagsOf(t, c)
		words := strings.Fields(c.name)
		for _, args := range [][]string{
			append([]string{"help"}, words...),
			append(slices.Clone(words), "-h"),
			append(slices.Clone(words), "--help"),
		} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				out, errs, code := runCLI(t, args...)
				if code != 0 || errs != "" {
					t.Fatalf("exit %d, stderr %q", code, errs)
				}
				if !strings.HasPrefix(out, "Usage: gatehouse "+c.name) {
					t.Errorf("no synopsis:\n%s", out)
				}
				fs.VisitAll(func(f *flag.Flag) {
					name := "--" + f.Name
					if len(f.Name) == 1 {
						name = "-" + f.Name
					}
					if !regexp.MustCompile(`(?m)^  (.*, )?` + regexp.QuoteMeta(name) + `\b`).MatchString(out) {
						t.Errorf("flag %s missing:\n%s", name, out)
					}
				})
				for _, v := range fs.env {
					if !strings.Contains(out, "env "+v) {
						t.Errorf("variable %s missing:\n%s", v, out)
					}
				}
				for _, e := range fs.envOnly {
					if !strings.Contains(out, "  "+e.name+"\n") {
						t.Errorf("variable %s missing:\n%s", e.name, out)
					}
				}
				if len(c.examples) > 0 && !strings.Contains(out, "Examples:\n  "+c.examples[0]) {
					t.Errorf("examples missing:\n%s", out)
				}
			})
		}
	}
}

// serve -h names every variable serve reads: one per flag, and the bootstrap
// and master-key secrets that have no flag.
func TestServeHelpListsEveryVariable(t *testing.T) {
	out, _, code := runCLI(t, "serve", "-h")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	c, _ := findCommand([]string{"serve"})
	fs := flagsOf(t, c)
	want := []string{"GATEHOUSE_ADMIN_USER", "GATEHOUSE_ADMIN_PASSWORD", "GATEHOUSE_MASTER_KEY"}
	fs.VisitAll(func(f *flag.Flag) { want = append(want, envName(f.Name)) })
	for _, v := range want {
		if !strings.Contains(out, v) {
			t.Errorf("serve -h does not list %s", v)
		}
	}
}

// A GATEHOUSE_* variable read anywhere in the binary's code is in some
// command's help: reading one without documenting it fails here.
func TestEveryVariableInTheCodeIsInHelp(t *testing.T) {
	var help strings.Builder
	for _, c := range commands() {
		out, _, _ := runCLI(t, append([]string{"help"}, strings.Fields(c.name)...)...)
		help.WriteString(out)
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	lit := regexp.MustCompile(`"(GATEHOUSE_[A-Z0-9_]+)"`)
	found := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range lit.FindAllStringSubmatch(string(src), -1) {
			found++
			if !strings.Contains(help.String(), m[1]) {
				t.Errorf("%s reads %s, which no help mentions", f, m[1])
			}
		}
	}
	if found == 0 {
		t.Fatal("no GATEHOUSE_ variable found in the sources: the scan is broken")
	}
}

// kcadm-style verbs take flags with one or two dashes, before or after the
// path; `--` ends the flags.
func TestCLIFlagsParseAsKcadm(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		realm     string
		pos       []string
		wantUsage bool
	}{
		{args: []string{"clients", "-r", "demo"}, realm: "demo", pos: []string{"clients"}},
		{args: []string{"--target-realm", "demo", "clients"}, realm: "demo", pos: []string{"clients"}},
		{args: []string{"clients", "--target-realm=demo", "-s", "a=1"}, realm: "demo", pos: []string{"clients"}},
		{args: []string{"-r=demo", "clients", "users"}, realm: "demo", pos: []string{"clients", "users"}},
		{args: []string{"-r", "demo", "--", "clients", "-r", "x"}, realm: "demo", pos: []string{"clients", "-r", "x"}},
		{args: []string{"clients", "--nope"}, wantUsage: true},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			fs := newFlagSet("get", io.Discard)
			realm := realmFlag(fs)
			var sets multiFlag
			fs.Var(&sets, "s", "")
			err := fs.Parse(tc.args)
			var ue *usageError
			if tc.wantUsage {
				if !errors.As(err, &ue) {
					t.Fatalf("err %v, want a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *realm != tc.realm || !slices.Equal(fs.Args(), tc.pos) {
				t.Errorf("realm %q args %q, want %q %q", *realm, fs.Args(), tc.realm, tc.pos)
			}
		})
	}
}

// A command line that does not parse says so once and points at help.
func TestCLIUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "clients", "--bogus"}, "gatehouse get: flag provided but not defined: -bogus\nRun `gatehouse help get` for usage.\n"},
		{[]string{"serve", "--addr"}, "gatehouse serve: flag needs an argument: -addr\nRun `gatehouse help serve` for usage.\n"},
		{[]string{"backup"}, "gatehouse backup: --out FILE is required\nRun `gatehouse help backup` for usage.\n"},
		{[]string{"get", "-r", "demo"}, "gatehouse get: exactly one PATH expected, got []\nRun `gatehouse help get` for usage.\n"},
		{[]string{"set-password", "--username", "alice"}, "gatehouse set-password: --new-password is required\nRun `gatehouse help set-password` for usage.\n"},
		{[]string{"config", "credentials", "--user", "admin"}, "gatehouse config credentials: --server is required\nRun `gatehouse help config credentials` for usage.\n"},
		{[]string{"config", "credentials", "extra"}, "gatehouse config credentials: unexpected arguments [\"extra\"]\nRun `gatehouse help config credentials` for usage.\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errs, code := runCLI(t, tc.args...)
			if code != 2 || out != "" || errs != tc.want {
				t.Errorf("exit %d stdout %q stderr %q, want 2 and %q", code, out, errs, tc.want)
			}
		})
	}
	if _, errs, code := runCLI(t, "frobnicate"); code != 2 || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d %q", code, errs)
	}
}
