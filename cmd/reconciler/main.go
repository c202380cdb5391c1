// Command reconciler is pgreconciler's command line: it validates spec
// repositories, renders HBA files, plans and applies changes to PostgreSQL
// fleets, verifies commit signatures and runs the GitOps daemon.
//
// main only parses flags and wires packages together; the work happens in
// internal/….
//
// What it must not import: internal/testenv and its subpackages (the test
// harness; its tests may). Nothing can import it (a main package), so logic
// another command or the daemon needs belongs in internal/.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// env is what a command may touch of the outside world, so that tests run
// commands in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

type command struct {
	summary string
	run     func(e *env, args []string) int
}

func commands() map[string]command {
	return map[string]command{
		"validate": {"check a spec repository against the schema and a policy profile", runValidate},
		"render":   {"render hba|pgbouncer: print the pg_hba.conf or PgBouncer files an instance must have", runRender},
		"passwd":   {"print the SCRAM-SHA-256 verifier of a password read on stdin", runPasswd},
		"version":  {"print the version", runVersion},
		"verify":   {"check the signatures of the commits a reconcile would accept", runVerify},
		"apply":    {"converge live clusters to the spec (guarded: no lockouts, no leaked secrets)", runApply},
		"run":      {"the GitOps daemon: apply signed commits, heal drift, export metrics", runRun},
		"plan":     {"show how live clusters differ from the spec, and the SQL that would converge them", runPlan},
		"audit":    {"judge the live fleet against MLPS Level 3 / SOC 2 controls; trace the change log to signed commits", runAudit},
	}
}

// Exit codes shared by all commands.
const (
	exitOK    = 0
	exitFail  = 1 // an error, an invalid spec, a refused commit, a failed change
	exitDrift = 2 // plan --detailed-exitcode: live state differs from the spec
	// exitImpact: plan --fail-on-impact: the plan would cut off live
	// clients and the commit does not accept it (Impact-Accepted: yes).
	exitImpact = 3
	exitUsage  = 64
)

func main() {
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	if len(os.Args) > 1 {
		setGCForCommand(os.Args[1], os.Getenv)
	}
	os.Exit(run(e, os.Args[1:]))
}

func run(e *env, args []string) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stdout, cmds)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "reconciler: unknown command %q\n\n", args[0])
		usage(e.stderr, cmds)
		return exitUsage
	}
	return c.run(e, args[1:])
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: reconciler <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'reconciler <command> -h' for a command's flags.")
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func runVersion(e *env, args []string) int {
	fs := newFlags(e, "version", "version")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	fmt.Fprintln(e.stdout, "reconciler", version)
	return exitOK
}

// errorf prints a one-line error for a command and returns exitFail.
func errorf(e *env, cmd, format string, args ...any) int {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(e.stderr, "reconciler %s: %s\n", cmd, strings.TrimSpace(msg))
	return exitFail
}

// usagef is errorf for a command used the wrong way: it returns exitUsage.
func usagef(e *env, cmd, format string, args ...any) int {
	errorf(e, cmd, format, args...)
	return exitUsage
}
