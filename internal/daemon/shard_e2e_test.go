package daemon

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// shardedSpec is the test cluster plus clusters nobody can reach (port 9
// of 127.0.9.x refuses): the shards own them all the same.
func shardedSpec(r *signedRepo, extra []string) string {
	var b strings.Builder
	b.WriteString("package fleet\n\n")
	for i, n := range extra {
		fmt.Fprintf(&b, "all: children: %q: {hosts: {\"127.0.9.%d\": {pg_seq: 1, pg_role: \"primary\"}}, vars: {pg_cluster: %q, pg_port: 9}}\n", n, i+1, n)
	}
	r.repo.WriteFile("more.cue", b.String())
	return r.commit(daemonVars, "more clusters", true)
}

// owned is the sorted list of clusters a daemon's /status says it owns,
// once its source is fetched.
func owned(t *testing.T, p *proc) []string {
	t.Helper()
	var st Status
	waitFor(t, 60*time.Second, "the daemon to own its shard", func() bool {
		st = p.status(t)
		return st.Ready && len(st.Sources) == 1 && st.Sources[0].Commit != ""
	})
	out := append([]string(nil), st.Shard.Owned...)
	sort.Strings(out)
	return out
}

// TestShardedReplicas: three daemons with --shard i/3 over one source own
// disjoint sets whose union is every cluster, each the clusters ShardOf
// gives it; only the owner of pg-e2e reconciles it and exports its
// metrics. With --shard i/4 the clusters that move are exactly those
// whose owner is now shard 3.
func TestShardedReplicas(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, daemonVars)
	extra := []string{"pg-s1", "pg-s2", "pg-s3", "pg-s4", "pg-s5", "pg-s6", "pg-s7", "pg-s8"}
	shardedSpec(r, extra)
	all := append([]string{"pg-e2e"}, extra...)
	sort.Strings(all)

	run := func(n int) map[string]int {
		owner := map[string]int{}
		var procs []*proc
		for i := 0; i < n; i++ {
			procs = append(procs, startDaemon(t, "--repo", r.repo.Dir, "--allowed-signers", r.signers, "--drift-interval", "1s",
				"--poll-interval", "1h", "--state-dir", t.TempDir(), "--shard", fmt.Sprintf("%d/%d", i, n)))
		}
		for i, p := range procs {
			st := p.status(t)
			if st.Shard.Index != i || st.Shard.Count != n {
				t.Errorf("daemon %d/%d: /status says shard %d/%d", i, n, st.Shard.Index, st.Shard.Count)
			}
			got := owned(t, p)
			for _, c := range got {
				if prev, dup := owner[c]; dup {
					t.Errorf("%s owned by shards %d and %d of %d", c, prev, i, n)
				}
				owner[c] = i
				if ShardOf(c, n) != i {
					t.Errorf("shard %d/%d owns %s, which hashes to %d", i, n, c, ShardOf(c, n))
				}
			}
			if s := p.status(t).Shard.Skipped; s != len(all)-len(got) {
				t.Errorf("shard %d/%d: skipped %d, want %d", i, n, s, len(all)-len(got))
			}
		}
		if len(owner) != len(all) {
			t.Errorf("%d shards own %d clusters, want all %d: %v", n, len(owner), len(all), owner)
		}
		// Only pg-e2e's owner reconciles it and has its series.
		e2e := procs[ShardOf("pg-e2e", n)]
		converged(t, e2e, 60*time.Second)
		for i, p := range procs {
			if p != e2e && p.metric("pgreconciler_reconcile_total", `cluster="pg-e2e"`) > 0 {
				t.Errorf("shard %d/%d reconciled pg-e2e, owned by shard %d", i, n, ShardOf("pg-e2e", n))
			}
			if strings.Contains(string(p.get(t, "/metrics")), `cluster="pg-s`) {
				for _, c := range extra {
					if owner[c] != i && strings.Contains(string(p.get(t, "/metrics")), `cluster="`+c+`"`) {
						t.Errorf("shard %d/%d exports metrics of %s, owned by shard %d", i, n, c, owner[c])
					}
				}
			}
		}
		for _, p := range procs {
			p.stop()
		}
		return owner
	}
	three := run(3)
	four := run(4)
	for _, c := range all {
		if three[c] != four[c] && four[c] != 3 {
			t.Errorf("%s moved from shard %d/3 to %d/4: only moves to the new shard 3 are expected", c, three[c], four[c])
		}
	}
}

// TestShardStandbyTakesOver: two daemons of the same shard are active and
// standby through the cluster's apply lock. The active one is held inside
// an apply (another session has an uncommitted CREATE ROLE of the role it
// creates); the standby reports busy and writes nothing. The active one is
// killed (SIGKILL): its session ends (the server notices the dead client
// during the wait: the daemon's sessions set client_connection_check_interval,
// dbconn), its lock goes with it, and the standby applies within a drift
// interval.
func TestShardStandbyTakesOver(t *testing.T) {
	cluster.ResetForReconciler(t)
	ctx := context.Background()
	if v := cluster.Primary.MustLocalValue(t, "postgres", "SHOW server_version_num"); v < "140000" {
		t.Skip("client_connection_check_interval is PostgreSQL 14+: on 13 a session blocked in a wait outlives its dead client until the wait ends")
	}
	r := newSignedRepo(t, daemonVars)
	shard := fmt.Sprintf("%d/2", ShardOf("pg-e2e", 2))
	args := []string{"--repo", r.repo.Dir, "--allowed-signers", r.signers, "--drift-interval", "2s",
		"--poll-interval", "1h", "--shard", shard}
	a := startDaemon(t, append(args, "--state-dir", t.TempDir())...)
	converged(t, a, 60*time.Second)

	blocker, err := cluster.Primary.Admin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close(ctx)
	if _, err := blocker.Exec(ctx, `BEGIN; CREATE ROLE dbuser_standby`); err != nil {
		t.Fatal(err)
	}
	r.commit(withUsers(`{name: "dbuser_standby", password: "Standby.Secret.2026", roles: ["dbrole_readonly"]}`, ""), "add dbuser_standby", true)
	waitFor(t, 30*time.Second, "the active daemon to wait inside its apply", func() bool {
		v, _ := cluster.Primary.LocalValue(ctx, "postgres",
			`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%CREATE ROLE%dbuser_standby%'`)
		return v == "1"
	})

	b := startDaemon(t, append(args, "--state-dir", t.TempDir())...)
	waitFor(t, 30*time.Second, "the standby to report busy", func() bool {
		return b.metric("pgreconciler_reconcile_total", `cluster="pg-e2e"`, `result="busy"`) >= 2
	})
	if n := b.metric("pgreconciler_reconcile_total", `cluster="pg-e2e"`, `result="success"`); n > 0 {
		t.Fatalf("the standby reconciled pg-e2e %v times while the active one held the lock", n)
	}
	if b.metric("pgreconciler_applied_changes_total") > 0 {
		t.Fatal("the standby applied changes while the active one held the lock")
	}

	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-a.done
	// The dead daemon's backend goes, and its lock with it.
	waitFor(t, 30*time.Second, "the killed daemon's lock session to end", func() bool {
		v, _ := cluster.Primary.LocalValue(ctx, "postgres",
			`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%CREATE ROLE%dbuser_standby%'`)
		return v == "0"
	})
	if _, err := blocker.Exec(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	took := waitFor(t, 30*time.Second, "the standby to apply", func() bool {
		return roleExists(t, "dbuser_standby") && b.metric("pgreconciler_reconcile_total", `cluster="pg-e2e"`, `result="success"`) > 0
	})
	t.Logf("the standby applied %s after the active one's session ended", took.Round(time.Millisecond))
	if took > 15*time.Second { // a drift interval (2s) and a reconcile, on a busy machine
		t.Errorf("took over after %s, want within about a drift interval (2s)", took)
	}
	n, err := cluster.Primary.LocalValue(ctx, "postgres",
		`SELECT count(*) FROM pgreconciler.change_log WHERE object = 'dbuser_standby' AND statement LIKE 'CREATE ROLE%' AND status = 'applied'`)
	if err != nil || n != "1" {
		t.Errorf("dbuser_standby created %s times (%v), want once, by the standby", n, err)
	}
}
