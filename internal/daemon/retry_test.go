package daemon

import (
	"fmt"
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
// doubling up to 30 s, each wait jittered between half of it and all of
// it, for one drift interval after it was first found busy; a drift check
// is not tried again.
func TestBusyRetrySchedule(t *testing.T) {
	tab := newClusterTable()
	j := job{cluster: "pg-a", source: "fleet", reason: "new commit", fresh: true}
	tab.request(j)
	start := time.Unix(0, 0)
	at := start
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
	full := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second}
	if len(waits) < len(full) {
		t.Fatalf("waits %v: fewer tries than 2, 4, 8, 16, 30 s within the 2 min drift interval", waits)
	}
	for i, w := range waits {
		want := full[min(i, len(full)-1)]
		if w < want/2 || w > want {
			t.Errorf("wait %d is %s, want between %s and %s", i+1, w, want/2, want)
		}
	}
	if end := at.Sub(start); end > 2*time.Minute {
		t.Errorf("tried again %s after the first busy reconcile, past the 2 min drift interval", end)
	}
	if _, ok := tab.busy(job{cluster: "pg-a", source: "fleet", reason: "drift check"}, at, 2*time.Minute); ok {
		t.Error("a drift check found busy is tried again")
	}
	// A reconcile that got the lock ends the retries and their schedule.
	tab.record("pg-a", model.Provenance{}, reconcile.Outcome{}, at)
	if wait, ok := tab.busy(j, at, 2*time.Minute); !ok || wait > 2*time.Second {
		t.Errorf("after a reconcile that ran: wait %s, %v; want at most 2 s again", wait, ok)
	}
}

// TestBusyRetriesSpread: clusters found busy at one moment are not all
// tried again at one moment.
func TestBusyRetriesSpread(t *testing.T) {
	tab := newClusterTable()
	at := time.Unix(0, 0)
	seen := map[time.Duration]bool{}
	for i := range 50 {
		j := job{cluster: fmt.Sprintf("pg-%d", i), source: "fleet", fresh: true}
		tab.request(j)
		tab.busy(j, at, time.Hour) // 2 s
		wait, _ := tab.busy(j, at, time.Hour)
		seen[wait.Round(100*time.Millisecond)] = true
	}
	if len(seen) < 10 {
		t.Errorf("50 clusters busy at one moment come back at %d distinct times (to 0.1 s), want them spread over 2–4 s", len(seen))
	}
}
