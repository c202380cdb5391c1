package daemon

import (
	"strings"
	"testing"
)

// TestApplyChecksChangeLogUnderLock: `reconciler apply --state-dir` whose
// check against a cluster's change log could not read it reads it again
// under the cluster's apply lock (the reconcile's Gate, as the daemon
// does), and applies nothing while it cannot be read.
func TestApplyChecksChangeLogUnderLock(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, withUsers(`{name: "dbuser_gated"}`, ""))
	// A change log that exists and cannot be read.
	cluster.Primary.MustLocal(t, "postgres", `CREATE SCHEMA pgreconciler;
		CREATE VIEW pgreconciler.change_log AS SELECT 1 AS id, (1/0)::text AS commit, now() AS at, 'applied' AS status`)
	out, code := runCLI(t, "apply", "--repo", r.repo.Dir, "--allowed-signers", r.signers, "--state-dir", t.TempDir())
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{
		"warning: commit not checked against the change log of cluster pg-e2e",
		"cluster pg-e2e: error: the change log must be read before the first apply of commit",
		"division by zero",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if roleExists(t, "dbuser_gated") {
		t.Fatal("applied although the change log could not be read")
	}
}

// TestPlanLogsInOncePerPrimary: `reconciler plan --state-dir` reads the
// change log of a one-instance cluster on the session its inspection then
// uses: one login through the cluster's relay, as without a state
// directory.
func TestPlanLogsInOncePerPrimary(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, daemonVars)
	rl, _ := relayFleet(t, r, 1)
	for _, args := range [][]string{nil, {"--state-dir", t.TempDir()}} {
		before := rl.count("pg-k0")
		out, code := runCLI(t, append([]string{"plan", "--repo", r.repo.Dir, "--allowed-signers", r.signers, "--cluster", "pg-k0"}, args...)...)
		if code != 0 && code != 2 {
			t.Fatalf("plan %v: exit %d:\n%s", args, code, out)
		}
		if n := rl.count("pg-k0") - before; n != 1 {
			t.Errorf("plan %v: %d sessions through pg-k0's relay, want 1:\n%s", args, n, out)
		}
	}
}
