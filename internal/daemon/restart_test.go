package daemon

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"

	"github.com/pgreconciler/pgreconciler/internal/config"
	"github.com/pgreconciler/pgreconciler/internal/source"
)

// What survives a restart of the daemon: the change-log floor, refused
// commits, the commit it died evaluating, and the memory limit it runs
// with.

// status reads /status.
func (p *proc) status(t *testing.T) Status {
	t.Helper()
	var st Status
	if err := json.Unmarshal(p.get(t, "/status"), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// sourceError is the last error /status shows for the source.
func (p *proc) sourceError(t *testing.T) string {
	t.Helper()
	for _, s := range p.status(t).Sources {
		return s.LastError
	}
	return ""
}

// evaluated reports whether the daemon read and validated commit.
func (p *proc) evaluated(commit string) bool {
	for _, l := range strings.Split(p.logs(), "\n") {
		if strings.Contains(l, `"msg":"evaluating commit"`) && strings.Contains(l, commit) {
			return true
		}
	}
	return false
}

func stateCommit(t *testing.T, dir, name string) string {
	t.Helper()
	st, err := source.LoadState(dir, name)
	if err != nil {
		t.Fatal(err)
	}
	return st.Commit
}

// runCLI runs the reconciler binary and returns its combined output and
// exit code.
func runCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(reconcilerBin(t), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), 0
}

// TestDaemonLostStateRefusesRewind: the state directory is lost and the
// branch is force-pushed back to an older signed commit. Without the state
// that would be a first contact; the cluster's change log records the
// newer commit, so the daemon (and `plan` with a state directory) refuses
// it as a rewind, naming that commit. A change log naming a commit the
// repository does not have is a refusal too.
func TestDaemonLostStateRefusesRewind(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, daemonVars)
	c1 := strings.TrimSpace(r.repo.Run("rev-parse", "HEAD"))
	stateDir := t.TempDir()
	args := []string{"--repo", r.repo.Dir, "--allowed-signers", r.signers, "--drift-interval", "1s", "--poll-interval", "1h", "--state-dir", stateDir}
	p := startDaemon(t, args...)
	converged(t, p, 60*time.Second)
	c2 := r.commit(strings.Replace(daemonVars, "connlimit: 20", "connlimit: 30", 1), "connection limit 30", true)
	waitFor(t, 30*time.Second, "the second commit to be applied and recorded", func() bool {
		return connlimit(t, "dbuser_app") == "30" && stateCommit(t, stateDir, "default") == c2
	})
	p.stop()

	if err := os.RemoveAll(stateDir); err != nil {
		t.Fatal(err)
	}
	r.repo.UpdateRef("refs/heads/main", c1) // force push back to the older signed commit
	p = startDaemon(t, args...)
	waitFor(t, 30*time.Second, "the rewind to be refused", func() bool {
		return p.metric("pgreconciler_verification_failures_total", `reason="rewind"`) == 1
	})
	// The change log was read on a session carrying the commit, kept for
	// its reconcile: a refused commit's is closed.
	refusedApp := "pgreconciler@" + model.ShortHash(c1)
	waitFor(t, 5*time.Second, "the refused commit's sessions to be closed", func() bool { return keptOnServer(t)[refusedApp] == 0 })
	why := p.sourceError(t)
	for _, want := range []string{"refuse commit " + c1, "not a descendant of the last applied commit " + c2, "the change_log of cluster pg-e2e on pg-e2e-1"} {
		if !strings.Contains(why, want) {
			t.Errorf("/status last_error %q does not say %q", why, want)
		}
	}
	cluster.Primary.MustLocal(t, "postgres", `ALTER ROLE dbuser_app CONNECTION LIMIT 31`)
	time.Sleep(2 * time.Second) // two drift intervals
	if got := connlimit(t, "dbuser_app"); got != "31" {
		t.Fatalf("connection limit %s: the rewound commit was applied", got)
	}
	p.stop()

	// The primary is down when the daemon starts: the commit is accepted
	// for now, and the change log is read before anything is applied.
	if err := os.RemoveAll(stateDir); err != nil {
		t.Fatal(err)
	}
	if err := cluster.Primary.Kill(); err != nil {
		t.Fatal(err)
	}
	p = startDaemon(t, args...)
	waitFor(t, 60*time.Second, "the daemon to find the change log unreadable", func() bool {
		return strings.Contains(p.logs(), "cannot read the cluster's change log")
	})
	if err := cluster.Primary.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 120*time.Second, "the rewind to be refused before the first apply", func() bool {
		return p.metric("pgreconciler_verification_failures_total", `reason="rewind"`) == 1
	})
	// The source counts the refusal a moment before the cluster logs it.
	waitFor(t, 10*time.Second, "the refusal to come from the check before the apply", func() bool {
		return strings.Contains(p.logs(), "nothing applied: checked against the cluster's change log")
	})
	time.Sleep(2 * time.Second)
	if got := connlimit(t, "dbuser_app"); got != "31" {
		t.Fatalf("connection limit %s: the rewound commit was applied once the primary was back", got)
	}
	p.stop()

	// The CLI with a state directory judges the same way.
	planArgs := []string{"plan", "--repo", r.repo.Dir, "--rev", "main", "--allowed-signers", r.signers, "--state-dir", t.TempDir()}
	out, code := runCLI(t, planArgs...)
	if code != 1 || !strings.Contains(out, "refused") || !strings.Contains(out, c2) {
		t.Errorf("plan --state-dir of the rewind: exit %d\n%s", code, out)
	}
	if out, code := runCLI(t, append(planArgs, "--allow-rewind")...); code != 0 || !strings.Contains(out, "dbuser_app") {
		t.Errorf("plan --allow-rewind: exit %d\n%s", code, out)
	}

	// A commit the repository does not know (history rewritten, or applied
	// from another clone) is newest in the change log.
	ghost := strings.Repeat("5a", 20)
	cluster.Primary.MustLocal(t, "postgres", fmt.Sprintf(`INSERT INTO pgreconciler.change_log (cluster, kind, action, object, commit, status)
		VALUES ('pg-e2e', 'role', 'change', 'dbuser_app', '%s', 'applied')`, ghost))
	out, code = runCLI(t, planArgs...)
	if code != 1 || !strings.Contains(out, "the last applied commit "+ghost) || !strings.Contains(out, "is not in the repository") {
		t.Errorf("plan with an unknown commit in the change log: exit %d\n%s", code, out)
	}
}

// TestDaemonRemembersRefusedCommit: a commit whose spec is invalid is
// refused once, and the refusal is kept in the state directory: after a
// restart the daemon does not read that commit again (no "evaluating
// commit" line for it), reconciles towards the last applied commit
// instead, and a reload judges the commit again. The daemon runs with the
// configured memory limit.
func TestDaemonRemembersRefusedCommit(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, daemonVars)
	stateDir := t.TempDir()
	cfgFile := filepath.Join(t.TempDir(), "reconciler.yml")
	cfg := fmt.Sprintf("state_dir: %s\ndrift_interval: 1s\nmemory_limit: 300MiB\nsources: [{name: fleet, url: %s, poll_interval: 1h}]\ntrust: {allowed_signers: %s}\n",
		stateDir, r.repo.Dir, r.signers)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startDaemon(t, "--config", cfgFile)
	converged(t, p, 60*time.Second)
	if got := p.metric("go_gc_gomemlimit_bytes"); got != 300<<20 {
		t.Errorf("go_gc_gomemlimit_bytes = %v, want memory_limit 300MiB", got)
	}
	bad := r.commit(withUsers(`{name: "dbuser_bad", connlimit: "lots"}`, ""), "a signed commit with an invalid spec", true)
	waitFor(t, 30*time.Second, "the invalid commit to be refused", func() bool {
		return p.metric("pgreconciler_verification_failures_total", `reason="invalid"`) == 1
	})
	if !p.evaluated(bad) {
		t.Fatal("no 'evaluating commit' line for the invalid commit: the check below would prove nothing")
	}
	p.stop()
	refused, err := source.LoadRefused(stateDir, "fleet")
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := refused.Find(bad); !ok || c.Kind != "invalid" || refused.Evaluating != nil {
		t.Fatalf("state directory: %+v", refused)
	}

	cluster.Primary.MustLocal(t, "postgres", `ALTER ROLE dbuser_app CONNECTION LIMIT 3`) // drift while it is down
	p = startDaemonEnv(t, []string{"GOMEMLIMIT=200MiB"}, "--config", cfgFile)
	waitFor(t, 60*time.Second, "the drift to be healed towards the last applied commit", func() bool { return connlimit(t, "dbuser_app") == "20" })
	if p.evaluated(bad) {
		t.Error("the restarted daemon read the refused commit again")
	}
	if why := p.sourceError(t); !strings.Contains(why, "refuse commit "+bad) {
		t.Errorf("/status last_error %q does not show the refusal", why)
	}
	if st := p.status(t); len(st.Sources) != 1 || !strings.Contains(strings.Join(st.Sources[0].Refused, " "), bad) {
		t.Errorf("/status does not list the refused commit: %+v", st.Sources)
	}
	if got := p.metric("go_gc_gomemlimit_bytes"); got != 200<<20 {
		t.Errorf("go_gc_gomemlimit_bytes = %v, want GOMEMLIMIT's 200MiB over memory_limit", got)
	}

	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the reload to judge the commit again", func() bool {
		return p.evaluated(bad) && p.metric("pgreconciler_verification_failures_total", `reason="invalid"`) == 1
	})
}

// TestDaemonDiesWhileEvaluating: a daemon killed while it evaluates a
// commit (as the kernel kills one out of memory) refuses that commit after
// its restart, saying so, and does not evaluate it again; it reconciles
// towards the last applied commit meanwhile. --memory-limit reaches the
// runtime.
func TestDaemonDiesWhileEvaluating(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, daemonVars)
	stateDir := t.TempDir()
	args := []string{"--repo", r.repo.Dir, "--allowed-signers", r.signers, "--drift-interval", "1s", "--poll-interval", "1h",
		"--state-dir", stateDir, "--memory-limit", "256MiB"}
	p := startDaemon(t, args...)
	converged(t, p, 60*time.Second)
	if got := p.metric("go_gc_gomemlimit_bytes"); got != 256<<20 {
		t.Errorf("go_gc_gomemlimit_bytes = %v, want --memory-limit 256MiB", got)
	}
	p.stop()

	// A comprehension the CUE evaluator needs a couple of seconds for.
	r.repo.WriteFile("slow.cue", `package fleet
import "list"
_n: [for i in list.Range(0, 200, 1) {i}]
_big: {for i in _n for j in _n {"k\(i)_\(j)": i * j}}
all: vars: _big
`)
	slow := r.commit(daemonVars, "an expensive commit", true)
	p = startDaemon(t, args...)
	waitFor(t, 30*time.Second, "the daemon to record the commit it evaluates", func() bool {
		rf, err := source.LoadRefused(stateDir, "default")
		return err == nil && rf.Evaluating != nil && rf.Evaluating.Commit == slow
	})
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
	rf, err := source.LoadRefused(stateDir, "default")
	if err != nil || rf.Evaluating == nil || rf.Evaluating.Commit != slow {
		t.Fatalf("after the kill: %+v, %v; the evaluation ended before the kill, make the commit slower", rf, err)
	}

	cluster.Primary.MustLocal(t, "postgres", `ALTER ROLE dbuser_app CONNECTION LIMIT 3`)
	p = startDaemon(t, args...)
	waitFor(t, 60*time.Second, "the drift to be healed towards the last applied commit", func() bool { return connlimit(t, "dbuser_app") == "20" })
	if why := p.sourceError(t); !strings.Contains(why, "refuse commit "+slow+": the daemon died while evaluating this commit") {
		t.Errorf("/status last_error %q", why)
	}
	if p.evaluated(slow) {
		t.Error("the restarted daemon evaluated the commit it died on")
	}
	if p.metric("pgreconciler_verification_failures_total", `reason="invalid"`) != 1 {
		t.Error("the refusal is not counted")
	}
}

// TestApplyMemoryLimit: memory_limit reaches the runtime, GOMEMLIMIT wins.
func TestApplyMemoryLimit(t *testing.T) {
	orig := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(orig) })
	noEnv := func(string) string { return "" }
	if got, from := applyMemoryLimit(300<<20, noEnv); got != 300<<20 || from != "memory_limit" || debug.SetMemoryLimit(-1) != 300<<20 {
		t.Errorf("memory_limit 300MiB: %d from %s, runtime %d", got, from, debug.SetMemoryLimit(-1))
	}
	if applyMemoryLimit(config.NoLimit, noEnv); debug.SetMemoryLimit(-1) != 1<<63-1 {
		t.Errorf("off: runtime %d", debug.SetMemoryLimit(-1))
	}
	debug.SetMemoryLimit(200 << 20) // as the runtime does for GOMEMLIMIT=200MiB
	env := func(k string) string {
		if k == "GOMEMLIMIT" {
			return "200MiB"
		}
		return ""
	}
	if got, from := applyMemoryLimit(300<<20, env); got != 200<<20 || from != "GOMEMLIMIT" || debug.SetMemoryLimit(-1) != 200<<20 {
		t.Errorf("GOMEMLIMIT set: %d from %s, runtime %d", got, from, debug.SetMemoryLimit(-1))
	}
}
