package daemon

import (
	"slices"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/reconcile"
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

// TestBusyRetrySchedule: a commit found busy is tried again after 2 s,
// doubling up to 30 s, for one drift interval after it was first found
// busy; a drift check is not tried again.
func TestBusyRetrySchedule(t *testing.T) {
	tab := newClusterTable()
	j := job{cluster: "pg-a", source: "fleet", reason: "new commit", fresh: true}
	tab.request(j)
	at := time.Unix(0, 0)
	var waits []time.Duration
	for {
		wait, ok := tab.busy(j, at, 2*time.Minute)
		if !ok {
			break
		}
		if due := tab.due(at.Add(wait - time.Millisecond)); len(due) != 0 {
			t.Fatalf("retry due before its wait of %s", wait)
		}
		due := tab.due(at.Add(wait))
		if len(due) != 1 || !due[0].fresh || due[0].cluster != "pg-a" {
			t.Fatalf("after %s: due %+v, want the commit's job again", wait, due)
		}
		waits, at = append(waits, wait), at.Add(wait)
	}
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second}
	if !slices.Equal(waits, want) {
		t.Errorf("waits %v, want %v (2 s doubling to 30 s, within the 2 min drift interval)", waits, want)
	}
	if _, ok := tab.busy(job{cluster: "pg-a", source: "fleet", reason: "drift check"}, at, 2*time.Minute); ok {
		t.Error("a drift check found busy is tried again")
	}
	// A reconcile that got the lock ends the retries and their schedule.
	tab.record("pg-a", model.Provenance{}, reconcile.Outcome{}, at)
	if wait, ok := tab.busy(j, at, 2*time.Minute); !ok || wait != 2*time.Second {
		t.Errorf("after a reconcile that ran: wait %s, %v; want 2 s again", wait, ok)
	}
}
