package daemon

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/config"
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

// TestDriftChecksSpread: the drift timer queues a fleet's clusters over the
// interval, not all at its start. The real drift loop runs on a fleet of
// 60 clusters; when each arrives in the queue is recorded for one interval.
func TestDriftChecksSpread(t *testing.T) {
	const n, interval = 60, 600 * time.Millisecond
	names := fleetNames(n)
	d := &Daemon{log: slog.New(slog.DiscardHandler), now: time.Now, clusters: newClusterTable(), sources: map[string]*sourceState{}}
	st := &sourceState{name: "fleet", good: &revision{desired: desiredOf(names)}}
	d.sources["fleet"] = st
	g := &generation{cfg: &config.Config{DriftInterval: config.Duration(interval)}, queue: make(chan string, queueSize)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	begin := time.Now()
	go d.driftLoop(ctx, g)
	var at []time.Duration
	for len(at) < n {
		select {
		case <-g.queue:
			at = append(at, time.Since(begin))
		case <-time.After(3 * interval):
			t.Fatalf("%d of %d clusters queued within three intervals", len(at), n)
		}
	}
	first, last := at[0], at[len(at)-1]
	if first < interval {
		t.Errorf("first drift check after %s, before the first interval (%s) ended", first, interval)
	}
	if spread := last - first; spread < interval/2 {
		t.Errorf("the %d drift checks were queued within %s of each other, want them spread over the %s interval", n, spread, interval)
	}
	// No tenth of the interval holds more than a quarter of the fleet.
	buckets := map[int]int{}
	for _, a := range at {
		buckets[int((a-interval)*10/interval)]++
	}
	for b, k := range buckets {
		if k > n/4 {
			t.Errorf("%d of %d drift checks in the same tenth (#%d) of the interval: a burst", k, n, b)
		}
	}
}
