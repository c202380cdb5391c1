package demo

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// A command is what the demo runs and shows: argv exactly as the narration
// prints it, run in Options.Base with run.env. bin, if set, is the program
// that argv[0] names under the PATH the narration prints.
type command struct {
	argv []string
	bin  string
	// redirect is the shell redirection the narration shows after argv
	// (">.demo/daemon.log 2>&1 &" for the daemon, started by startDaemon).
	redirect string
}

// reconciler is a command running the reconciler binary.
func (r *run) reconcilerCmd(args ...string) command {
	return command{argv: append([]string{"reconciler"}, args...), bin: r.Bin}
}

// line is the command line as a user types it.
func (c command) line() string {
	q := make([]string, len(c.argv))
	for i, a := range c.argv {
		q[i] = shellQuote(a)
	}
	s := strings.Join(q, " ")
	if c.redirect != "" {
		s += " " + c.redirect
	}
	return s
}

func (c command) exec(r *run) *exec.Cmd {
	name := c.argv[0]
	if c.bin != "" {
		name = c.bin
	}
	cmd := exec.CommandContext(r.ctx, name, c.argv[1:]...)
	cmd.Dir, cmd.Env = r.Base, r.env
	return cmd
}

// sh prints the command line, runs it and returns its combined output and
// exit code. An error means the command could not run or exited non-zero.
func (r *run) sh(c command) (out string, code int, err error) {
	r.say("$ %s\n", c.line())
	b, err := c.exec(r).CombinedOutput()
	code = exitCode(err)
	if err != nil {
		err = fmt.Errorf("%s: %w\n%s", c.line(), err, b)
	}
	return string(b), code, err
}

// shQuiet is sh for commands whose output is not worth showing: it shows
// the output only when the command fails.
func (r *run) shQuiet(c command) error {
	_, _, err := r.sh(c)
	return err
}

// exitCode is the exit status in err (0 for nil, -1 if it did not run).
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var e *exec.ExitError
	if errors.As(err, &e) {
		return e.ExitCode()
	}
	return -1
}

// shellQuote quotes s for a POSIX shell when it needs quoting: in single
// quotes, or in double quotes when s holds single quotes (SQL) and nothing
// a shell expands inside double quotes.
func shellQuote(s string) string {
	switch {
	case s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == "":
		return s
	case !strings.Contains(s, "'"):
		return "'" + s + "'"
	case !strings.ContainsAny(s, "$`\\\"!"):
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// path shows p relative to Base when it is below it, absolute otherwise.
func (r *run) path(p string) string {
	if rel, err := filepath.Rel(r.Base, p); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
		return rel
	}
	return p
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}
