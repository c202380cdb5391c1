package daemon

import (
	"strings"
	"testing"
	"time"
)

// TestCommitReplansOnlyChangedClusters: a commit that changes one
// cluster's file re-plans that cluster only; a cluster whose desired state
// is the same, and converged, is not reconciled for it (the drift timer is
// an hour here, so any reconcile of it would be the commit's). A commit
// that changes it then is applied.
func TestCommitReplansOnlyChangedClusters(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, daemonVars)
	shardedSpec(r, []string{"pg-s1"})
	p := startDaemon(t, "--repo", r.repo.Dir, "--allowed-signers", r.signers, "--drift-interval", "1h",
		"--poll-interval", "1h", "--state-dir", t.TempDir())
	converged(t, p, 60*time.Second)
	e2e := p.metric("pgreconciler_reconcile_total", `cluster="pg-e2e"`)
	s1 := p.metric("pgreconciler_reconcile_total", `cluster="pg-s1"`)

	// Only pg-s1's file changes (its port).
	r.repo.WriteFile("more.cue", "package fleet\n\nall: children: \"pg-s1\": {hosts: {\"127.0.9.1\": {pg_seq: 1, pg_role: \"primary\"}}, vars: {pg_cluster: \"pg-s1\", pg_port: 10}}\n")
	commit := r.commit(daemonVars, "move pg-s1", true)
	waitFor(t, 60*time.Second, "pg-s1 to be reconciled for the commit", func() bool {
		st := p.status(t)
		return st.Sources[0].Commit == commit && p.metric("pgreconciler_reconcile_total", `cluster="pg-s1"`) > s1
	})
	time.Sleep(time.Second) // a reconcile of pg-e2e queued with pg-s1's would have ended by now
	if got := p.metric("pgreconciler_reconcile_total", `cluster="pg-e2e"`); got != e2e {
		t.Errorf("pg-e2e reconciled %v times for a commit that does not change it", got-e2e)
	}
	if !strings.Contains(p.logs(), `"unchanged":1`) {
		t.Error(`the "new commit verified" line should count pg-e2e as unchanged`)
	}

	// A commit that changes pg-e2e is applied.
	r.commit(withUsers(`{name: "dbuser_changed", password: "Changed.Secret.2026", roles: ["dbrole_readonly"]}`, ""), "add dbuser_changed", true)
	waitFor(t, 60*time.Second, "the change to pg-e2e to be applied", func() bool { return roleExists(t, "dbuser_changed") })
}
