package demo

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
	"github.com/pgreconciler/pgreconciler/internal/testenv/sockdir"
)

// TestMakeDemo runs `DEMO_KEEP=1 make demo` the way a user does: on a
// terminal, from a copy of the checkout at a path too deep for a unix
// socket, with TMPDIR as deep. While the demo keeps running, its narration
// is checked against what it ran and the README's tour is replayed against
// it; then Ctrl-C must stop everything and make must exit 0.
func TestMakeDemo(t *testing.T) {
	checkout := filepath.Join(sockdir.DeepTempDir(t), "pgreconciler")
	copyCheckout(t, testenv.RepoRoot(t), checkout)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MAKE") && !strings.HasPrefix(kv, "MFLAGS=") && !strings.HasPrefix(kv, "TMPDIR=") {
			env = append(env, kv) // not the jobserver of a `make test` around us
		}
	}
	env = append(env, "TMPDIR="+sockdir.DeepTempDir(t), "DEMO_KEEP=1")
	term := startOnTerminal(t, checkout, env, "make", "--no-print-directory", "demo")
	out := term.waitFor("press Ctrl-C to stop everything", 10*time.Minute)
	d := parseNarration(t, out)

	for _, want := range []string{
		"valid: 1 cluster(s), 2 instance(s)", "Plan: ", "converged in", "picked up through fsnotify",
		"set it back to 128", "refused before the spec was even read", "pgreconciler_verification_failures_total{reason=\"unsigned\"",
		"$ reconciler validate --repo .demo/repo\n",
		"$ reconciler plan --repo .demo/repo --allowed-signers .demo/keys/allowed_signers --detailed-exitcode\n",
		"→ exit 2 (--detailed-exitcode",
		"$ reconciler run --repo .demo/repo --allowed-signers .demo/keys/allowed_signers --drift-interval 2s --poll-interval 1h --listen " + d.listen + " --state-dir .demo/state --pgbouncer apply >.demo/daemon.log 2>&1 &\n",
		"$ psql -X 'host=127.0.0.11 port=", "dbname=test user=dbuser_demo passfile=.demo/pgpass_dbuser_demo' -Atc 'SELECT current_user, current_database(), inet_server_port()'\n    dbuser_demo|test|",
		"$ git -C .demo/repo -c commit.gpgsign=false commit -q -a -m 'add a superuser (unsigned)'\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the narration lacks %q", want)
		}
	}
	pgpass, err := os.ReadFile(filepath.Join(checkout, ".demo", "pgpass"))
	if err != nil {
		t.Fatal(err)
	}
	password := strings.TrimSpace(string(pgpass[strings.LastIndexByte(strings.TrimSpace(string(pgpass)), ':')+1:]))
	for _, secret := range []string{"let-me-in", "App.Secret.2026", "Demo.Pooled.2026", "SCRAM-SHA-256$", password} {
		if strings.Contains(out, secret) {
			t.Errorf("a password reached the narration: %q", secret)
		}
	}
	if err := sockdir.Check(filepath.Join(d.servers, "pg-test-1", "socket", ".s.PGSQL.65535")); err != nil {
		t.Errorf("servers' directory: %v", err)
	}

	t.Run("narrated commands are the ones run", func(t *testing.T) { checkNarration(t, checkout, d, out) })
	t.Run("README tour", func(t *testing.T) { replayTour(t, checkout, d) })

	term.interrupt()
	if code := term.wait(2 * time.Minute); code != 0 {
		t.Errorf("make demo exited %d after Ctrl-C, want 0:\n%s", code, tail(term.output(), 20))
	}
	final := term.output()
	for _, want := range []string{"Stopped the daemon (exit 0).", "Stopped the servers and removed " + d.servers + "."} {
		if !strings.Contains(final, want) {
			t.Errorf("after Ctrl-C the demo did not say %q:\n%s", want, tail(final, 20))
		}
	}
	if strings.Contains(final, "make: ***") {
		t.Errorf("make reported the Ctrl-C:\n%s", tail(final, 20))
	}
	if _, err := os.Stat(d.servers); !os.IsNotExist(err) {
		t.Errorf("the servers' directory %s is still there: %v", d.servers, err)
	}
	if left := processesUsing(checkout, d.servers); len(left) > 0 {
		t.Errorf("processes left running: %v", left)
	}
}

// narration is what the demo printed that the checks need.
type narration struct {
	exports string // the "export …" line
	psql    string // the psql command line of the keep block
	listen  string // the daemon's listen address
	servers string // the servers' directory
	out     string // all of it
}

func parseNarration(t *testing.T, out string) narration {
	t.Helper()
	find := func(re string) string {
		m := regexp.MustCompile(re).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("the narration has no line matching %s:\n%s", re, out)
		}
		return m[1]
	}
	return narration{
		exports: find(`(?m)^  env:     (export .*)$`),
		psql:    find(`(?m)^  psql:    (psql '[^']*')   \(with that env\)$`),
		listen:  find(`(?m)^  metrics: http://(\S+)/metrics$`),
		servers: find(`(?m)^  servers: (\S+) \(data directories, postgres.log\)$`),
		out:     out,
	}
}

// checkNarration runs narrated commands again and compares: validate prints
// what the narration shows, the psql line logs in, and the daemon runs with
// exactly the arguments of its narrated command line.
func checkNarration(t *testing.T, checkout string, d narration, out string) {
	m := regexp.MustCompile(`(?s)\n\$ (reconciler validate [^\n]*)\n(.*?)→ exit (\d+)\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no validate in the narration")
	}
	got, code := shell(t, checkout, d.exports, m[1])
	if want, _ := strconv.Atoi(m[3]); code != want || indent(got) != m[2] {
		t.Errorf("%s now prints (exit %d):\n%s\nthe narration showed (exit %s):\n%s", m[1], code, got, m[3], m[2])
	}
	if got, code := shell(t, checkout, d.exports, d.psql+" -XAtc 'SELECT current_user'"); code != 0 || strings.TrimSpace(got) != "dbuser_dba" {
		t.Errorf("the narrated psql line does not log in (exit %d): %s", code, got)
	}

	line := regexp.MustCompile(`(?m)^\$ (reconciler run .*) >\S+ 2>&1 &$`).FindStringSubmatch(out)
	if line == nil {
		t.Fatal("no daemon command line in the narration")
	}
	words, _ := shell(t, checkout, "", `printf '%s\n' `+line[1])
	want := strings.Split(strings.TrimSuffix(words, "\n"), "\n")[1:]
	for _, p := range processesUsing(checkout) {
		cmdline, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p), "cmdline"))
		args := strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")
		if len(args) > 1 && args[1] == "run" && filepath.Base(args[0]) == "reconciler" {
			if strings.Join(args[1:], " ") != strings.Join(want, " ") {
				t.Errorf("the daemon runs with\n  %q\nthe narration says\n  %q", args[1:], want)
			}
			return
		}
	}
	t.Error("no running daemon found")
}

// shell runs script with sh in dir after the exports line and returns its
// combined output and exit code.
func shell(t *testing.T, dir, exports, script string) (string, int) {
	t.Helper()
	cmd := exec.Command("sh", "-c", exports+"\n"+script)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), exitCode(err)
}

// processesUsing lists the processes (other than this one) whose command
// line names one of dirs or whose working directory is below one.
func processesUsing(dirs ...string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		cwd, _ := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		for _, d := range dirs {
			if strings.Contains(string(cmdline), d) || cwd == d || strings.HasPrefix(cwd, d+"/") {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// copyCheckout copies the files git knows of (tracked, or new and not
// ignored) from root to dst, keeping their modes.
func copyCheckout(t *testing.T, root, dst string) {
	t.Helper()
	list, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, f := range strings.Split(strings.TrimSuffix(string(list), "\x00"), "\x00") {
		st, err := os.Lstat(filepath.Join(root, f))
		if err != nil || !st.Mode().IsRegular() {
			continue // deleted in the work tree, or a symlink
		}
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, st.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// TestShellQuote: what the narration prints is read back by a real shell
// as the argument the demo passed.
func TestShellQuote(t *testing.T) {
	for _, s := range []string{"plain", "", "two words", "it's", "SELECT kind || ' ' || object", `a "b" $c`, "--format=%h %s", "x'$y"} {
		out, err := exec.Command("sh", "-c", "printf %s "+shellQuote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("shellQuote(%q) = %s reads back as %q (%v)", s, shellQuote(s), out, err)
		}
	}
}
