package daemon

import (
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
)

// TestBusyCommitRetried: a commit whose reconcile finds the apply lock
// held (another reconciler applying) is applied once the lock is free,
// without waiting for a drift check (the drift interval here is an hour).
func TestBusyCommitRetried(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, daemonVars)
	p := startDaemon(t, "--repo", r.repo.Dir, "--allowed-signers", r.signers, "--drift-interval", "1h",
		"--poll-interval", "1h", "--state-dir", t.TempDir())
	converged(t, p, 60*time.Second)

	release := cluster.Primary.HoldAdvisoryLock(t, apply.LockKey)
	busy := p.metric("pgreconciler_reconcile_total", `result="busy"`)
	r.commit(withUsers(`{name: "dbuser_late", password: "Late.Secret.2026", roles: ["dbrole_readonly"]}`, ""), "add dbuser_late", true)
	waitFor(t, 30*time.Second, "the commit's reconcile to find the lock held", func() bool {
		return p.metric("pgreconciler_reconcile_total", `result="busy"`) > busy
	})
	if roleExists(t, "dbuser_late") {
		t.Fatal("dbuser_late created while another session held the apply lock")
	}
	release()
	took := waitFor(t, 30*time.Second, "the busy commit to be applied once the lock is free", func() bool { return roleExists(t, "dbuser_late") })
	t.Logf("applied %s after the lock was released", took)
}
