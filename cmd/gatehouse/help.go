package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
)

// flagSet is a command's flags. Help is printed from it, so a flag exists in
// help as soon as it is defined, with the variable that also sets it.
//
// Parse accepts flags before and after positional arguments, as kcadm.sh
// does (`get clients -r demo`); `--` ends the flags.
type flagSet struct {
	*flag.FlagSet
	env     map[string]string // flag name -> GATEHOUSE_* variable that sets it
	envOnly []envVar          // variables without a flag (secrets)
	pos     []string
}

// envVar is a variable a command reads without a flag.
type envVar struct{ name, usage string }

func newFlagSet(name string, stderr io.Writer) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), env: map[string]string{}}
	fs.SetOutput(stderr)
	// Only reached by code that calls the embedded FlagSet's Parse itself.
	fs.Usage = func() { writeCommandHelp(fs.Output(), fs) }
	return fs
}

// helpRequest is -h or --help: the caller prints help from fs and exits 0.
type helpRequest struct{ fs *flagSet }

func (h *helpRequest) Error() string { return "help requested" }
func (h *helpRequest) Is(target error) bool {
	return target == flag.ErrHelp
}

// usageError is a command line that does not parse or lacks something; run
// prints it with a pointer to help and exits 2.
type usageError struct{ err error }

func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

func (u *usageError) Error() string { return u.err.Error() }
func (u *usageError) Unwrap() error { return u.err }

// Parse parses flags interspersed with positional arguments (read them with
// Args). Help and parse errors are returned, not printed, so run prints them
// once, help to stdout.
func (fs *flagSet) Parse(args []string) error {
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	defer func() { fs.Usage = usage; fs.SetOutput(out) }()
	fs.pos = nil
	for {
		err := fs.FlagSet.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			return &helpRequest{fs: fs}
		}
		if err != nil {
			return &usageError{err: err}
		}
		rest := fs.FlagSet.Args()
		if len(rest) == 0 {
			return nil
		}
		if len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			fs.pos = append(fs.pos, rest...)
			return nil
		}
		fs.pos = append(fs.pos, rest[0])
		args = rest[1:]
	}
}

// Args are the positional arguments of the last Parse.
func (fs *flagSet) Args() []string { return fs.pos }

// NArg is len(Args()).
func (fs *flagSet) NArg() int { return len(fs.pos) }

// envName is the variable that sets flag name: GATEHOUSE_<NAME>, dashes as
// underscores.
func envName(flagName string) string {
	return "GATEHOUSE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// bindEnv lets variable set flag name; a flag on the command line, parsed
// afterwards, wins.
func (fs *flagSet) bindEnv(name, variable string) error {
	f := fs.Lookup(name)
	if f == nil {
		return fmt.Errorf("bindEnv: no flag %q", name)
	}
	fs.env[name] = variable
	if v, ok := os.LookupEnv(variable); ok {
		if err := f.Value.Set(v); err != nil {
			return fmt.Errorf("%s: %w", variable, err)
		}
	}
	return nil
}

// envString reads a variable that has no flag (a secret: command lines are
// readable by other local users) and documents it in help.
func (fs *flagSet) envString(dst *string, variable, usage string) {
	*dst = os.Getenv(variable)
	fs.envOnly = append(fs.envOnly, envVar{variable, usage})
}

// configFlag is --config, also set by GATEHOUSE_CONFIG.
func configFlag(fs *flagSet) *string {
	p := fs.String("config", "", "CLI config `file` holding the server URL and tokens (default ~/.config/gatehouse/config.json)")
	_ = fs.bindEnv("config", "GATEHOUSE_CONFIG") // a string flag accepts any value
	return p
}

// writeCommandHelp prints a command's synopsis, flags (with their variables),
// environment and examples.
func writeCommandHelp(w io.Writer, fs *flagSet) {
	cmd, _ := findCommand(strings.Fields(fs.Name()))
	if cmd.name == "" {
		cmd.name = fs.Name()
	}
	fmt.Fprintf(w, "Usage: gatehouse %s", cmd.name)
	if cmd.synopsis != "" {
		fmt.Fprintf(w, " %s", cmd.synopsis)
	}
	fmt.Fprintln(w)
	if cmd.about != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(cmd.about))
	}
	if groups := flagGroups(fs.FlagSet); len(groups) > 0 {
		fmt.Fprintln(w, "\nFlags:")
		for _, g := range groups {
			writeFlag(w, fs, g)
		}
	}
	if len(fs.envOnly) > 0 {
		fmt.Fprintln(w, "\nEnvironment (no flag; secrets stay off the command line):")
		for _, e := range fs.envOnly {
			fmt.Fprintf(w, "  %s\n        %s\n", e.name, indent(e.usage))
		}
	}
	if len(cmd.examples) > 0 {
		fmt.Fprintln(w, "\nExamples:")
		for _, ex := range cmd.examples {
			fmt.Fprintf(w, "  %s\n", ex)
		}
	}
}

// flagGroups lists the flags in order, aliases (flags bound to the same
// variable, like -r and --target-realm) together.
func flagGroups(fs *flag.FlagSet) [][]*flag.Flag {
	var groups [][]*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		for i, g := range groups {
			if sameVariable(g[0].Value, f.Value) {
				groups[i] = append(g, f)
				return
			}
		}
		groups = append(groups, []*flag.Flag{f})
	})
	return groups
}

func sameVariable(a, b flag.Value) bool {
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	return ta == tb && ta.Kind() == reflect.Pointer && a == b
}

func writeFlag(w io.Writer, fs *flagSet, g []*flag.Flag) {
	names := make([]string, len(g))
	usage, placeholder := "", ""
	var env []string
	for i, f := range g {
		names[i] = "--" + f.Name
		if len(f.Name) == 1 {
			names[i] = "-" + f.Name
		}
		if p, u := flag.UnquoteUsage(f); len(u) > len(usage) {
			placeholder, usage = p, u
		}
		if v := fs.env[f.Name]; v != "" {
			env = append(env, v)
		}
	}
	fmt.Fprintf(w, "  %s", strings.Join(names, ", "))
	if placeholder != "" {
		fmt.Fprintf(w, " %s", placeholder)
	}
	fmt.Fprintf(w, "\n        %s", indent(usage))
	if f := g[0]; !isZeroValue(f) {
		if t := reflect.TypeOf(f.Value); t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.String {
			fmt.Fprintf(w, " (default %q)", f.DefValue)
		} else {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
	}
	fmt.Fprintln(w)
	if len(env) > 0 {
		fmt.Fprintf(w, "        env %s\n", strings.Join(env, ", "))
	}
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n        ") }

// isZeroValue reports whether f's default is its type's zero value, which
// help does not print.
func isZeroValue(f *flag.Flag) bool {
	t := reflect.TypeOf(f.Value)
	var z reflect.Value
	if t.Kind() == reflect.Pointer {
		z = reflect.New(t.Elem())
	} else {
		z = reflect.Zero(t)
	}
	v, ok := z.Interface().(flag.Value)
	return ok && f.DefValue == v.String()
}

// writeOverview lists the commands.
func writeOverview(w io.Writer) {
	fmt.Fprint(w, "Usage: gatehouse <command> [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-20s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun `gatehouse help <command>` or `gatehouse <command> -h` for its flags, environment\n"+
		"variables and examples. Flags take one or two dashes: -r demo, --realm=demo.\n")
}

// parseNoArgs parses the command line and refuses positional arguments.
func (fs *flagSet) parseNoArgs(args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	return nil
}

// stoppedServerFlags declares what every offline command on a data
// directory takes: --data and the server's GATEHOUSE_MASTER_KEY.
func stoppedServerFlags(fs *flagSet, dataUsage string) (data, masterKey *string) {
	data = fs.String("data", "./data", dataUsage)
	masterKey = new(string)
	fs.envString(masterKey, "GATEHOUSE_MASTER_KEY", "the server's master key, when it is not in <data>/master.key")
	return data, masterKey
}
