package daemon

import (
	"slices"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/reconcile"
)

// TestClusterTableSchedules: a cluster is queued at most once; requests
// while it is queued merge (a fresh one wins); a request while it runs is
// kept and queued when the run ends, once; a failure backs off drift
// checks but not a new commit; a new generation gets what was asked for
// and not started.
func TestClusterTableSchedules(t *testing.T) {
	tb := newClusterTable()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	drift := job{cluster: "pg-a", source: "s", reason: "drift check"}
	commit := job{cluster: "pg-a", source: "s", reason: "commit 0123", fresh: true}

	if !tb.request(drift) {
		t.Fatal("a first request is not queued")
	}
	if tb.request(commit) {
		t.Fatal("a queued cluster was queued twice")
	}
	j, ok := tb.claim("pg-a", now)
	if !ok || !j.fresh || j.reason != "commit 0123" {
		t.Fatalf("claimed %+v %v, want the merged, fresh request", j, ok)
	}
	if tb.request(drift) || tb.request(drift) {
		t.Fatal("a running cluster was queued")
	}
	if !tb.finish("pg-a") {
		t.Fatal("a request during the run was not queued when it ended")
	}
	if j, ok := tb.claim("pg-a", now); !ok || j.fresh {
		t.Fatalf("second run: %+v %v", j, ok)
	}
	if tb.finish("pg-a") {
		t.Fatal("queued again with nothing asked")
	}
	if _, ok := tb.claim("pg-a", now); ok {
		t.Fatal("claimed with nothing asked")
	}

	// A failure: drift checks wait for the backoff, a new commit does not.
	tb.request(drift)
	tb.claim("pg-a", now)
	tb.record("pg-a", model.Provenance{Commit: "0123"}, reconcile.Outcome{Verdict: plan.VerdictFailure, Message: "down"}, now)
	tb.finish("pg-a")
	if !tb.request(drift) {
		t.Fatal("not queued after the run")
	}
	if _, ok := tb.claim("pg-a", now.Add(time.Second)); ok {
		t.Fatal("a drift check ran during the backoff")
	}
	tb.request(commit)
	if _, ok := tb.claim("pg-a", now.Add(time.Second)); !ok {
		t.Fatal("a new commit waited for the backoff")
	}
	tb.finish("pg-a")

	// A generation ends with a request queued in its (abandoned) queue.
	tb.request(job{cluster: "pg-b", source: "s"})
	tb.request(job{cluster: "pg-c", source: "s"})
	tb.claim("pg-c", now)
	tb.finish("pg-c")
	if got := tb.requeue(); !slices.Equal(got, []string{"pg-b"}) {
		t.Fatalf("requeue %v, want the cluster asked for and not started", got)
	}
	if tb.request(job{cluster: "pg-b", source: "s"}) {
		t.Fatal("queued twice in the new generation")
	}
	if st := tb.statuses(); len(st) != 3 || st[0].Cluster != "pg-a" || st[0].LastResult != plan.VerdictFailure ||
		st[0].LastError != "down" || st[0].Commit != "0123" || st[0].Source != "s" {
		t.Fatalf("statuses %+v", st)
	}
}
