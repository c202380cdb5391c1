package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// newFlags makes a FlagSet that reports errors instead of exiting.
func newFlags(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: reconciler %s\n", synopsis)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintf(e.stderr, "\nflags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args, which must be flags only; it returns false with
// an exit code when the command should stop (help or a usage error). An
// argument that is not a flag is an error, never silently ignored:
// `validate examples/repo` would otherwise validate the current directory.
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	return parseFlagsArgs(fs, args, 0)
}

// parseFlagsArgs is parseFlags for a command taking up to maxArgs
// positional arguments.
func parseFlagsArgs(fs *flag.FlagSet, args []string, maxArgs int) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK, false
		}
		return exitUsage, false
	}
	if fs.NArg() > maxArgs {
		extra := fs.Arg(maxArgs)
		hint := ""
		if fs.Lookup("repo") != nil {
			hint = fmt.Sprintf(" (a repository is given with --repo %s)", extra)
		}
		fmt.Fprintf(fs.Output(), "reconciler %s: unexpected argument %q%s\n", fs.Name(), extra, hint)
		return exitUsage, false
	}
	return 0, true
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// oneOf checks an enumerated flag value.
func oneOf(w io.Writer, name, v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	fmt.Fprintf(w, "invalid value %q for -%s: want one of %s\n", v, name, strings.Join(allowed, ", "))
	return false
}

// fsFS is the file system a spec is read from: a directory, or a commit's
// tree.
type fsFS = fs.FS

// flagSet is what commands register flags on.
type flagSet = *flag.FlagSet
