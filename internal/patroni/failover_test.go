package patroni_test

import (
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// A `patronictl switchover` is seen: the view and the topology follow the
// new leader on a new timeline, the old leader reports itself a replica,
// and pg_role is reported, not followed.
func TestSwitchoverSeen(t *testing.T) {
	c := cluster(t)
	cl := client(t, c)
	ctx := ctx(t)
	old, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before, err := cl.View(ctx, bases(c))
	if err != nil {
		t.Fatal(err)
	}
	leader, err := c.Switchover(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if leader == old {
		t.Fatalf("%s still leads after the switchover", old.Name())
	}
	view, err := cl.View(ctx, bases(c))
	if err != nil {
		t.Fatal(err)
	}
	if l := view.Leader(); l == nil || l.Name != leader.Name() || l.Timeline != before.Leader().Timeline+1 {
		t.Fatalf("view after the switchover: leader %+v, want %s on timeline %d", l, leader.Name(), before.Leader().Timeline+1)
	}
	if st := status(t, cl, old); st.Role != "replica" || st.Timeline != view.Leader().Timeline {
		t.Fatalf("old leader %s: %+v", old.Name(), st)
	}
	topo := liveTopology(ctx, c, cl)
	if topo.Leader != leader.Name() || topo.Source != model.SourcePatroni || len(topo.Running()) != 3 {
		t.Fatalf("topology after the switchover: %+v", topo)
	}
	assertRoleFindings(t, topo)
}

// A failover (the leader's postmaster killed) is seen: while it happens the
// topology never names a leader that is unreachable or in recovery; after
// it another member leads and the old one has rejoined as a replica.
func TestFailoverSeen(t *testing.T) {
	c := cluster(t)
	cl := client(t, c)
	ctx := ctx(t)
	old, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tl := status(t, cl, old).Timeline
	if err := old.KillPostmaster(); err != nil {
		t.Fatal(err)
	}
	var seen []string
	deadline := time.Now().Add(2 * time.Minute)
	for {
		topo := liveTopology(ctx, c, cl)
		if topo.Leader != "" {
			m := topo.Member(topo.Leader)
			if m.Catalog == nil || !m.Catalog.Reachable || m.Catalog.InRecovery {
				t.Fatalf("topology named %s leader with catalog %+v", topo.Leader, m.Catalog)
			}
		}
		state := topo.Leader
		if state == "" {
			state = "none"
			for _, f := range topo.Findings {
				state += " " + string(f.Kind)
			}
		}
		if len(seen) == 0 || seen[len(seen)-1] != state {
			seen = append(seen, state)
		}
		if topo.Leader != "" && topo.Leader != old.Name() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new leader; topologies seen: %v", seen)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("leaders seen during the failover: %v", seen)
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	leader, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if leader == old {
		t.Fatalf("%s leads again", old.Name())
	}
	if st := status(t, cl, leader); st.Role != "primary" || st.Timeline <= tl {
		t.Fatalf("new leader %s: %+v (old timeline %d)", leader.Name(), st, tl)
	}
	if st := status(t, cl, old); st.Role != "replica" || !st.State.Running() {
		t.Fatalf("old leader %s after the failover: %+v", old.Name(), st)
	}
	topo := liveTopology(ctx, c, cl)
	if topo.Leader != leader.Name() || len(topo.Running()) != 3 {
		t.Fatalf("topology after the failover: %+v", topo)
	}
	assertRoleFindings(t, topo)
}

// assertRoleFindings checks that the only findings of a settled cluster are
// the inventory_role ones that a moved leader implies.
func assertRoleFindings(t *testing.T, topo model.Topology) {
	t.Helper()
	want := map[string]bool{}
	if topo.Leader != topo.Members[0].Instance { // the inventory's primary is the first member
		want[topo.Leader], want[topo.Members[0].Instance] = true, true
	}
	if len(topo.Findings) != len(want) {
		t.Fatalf("findings %+v, want inventory_role for %v", topo.Findings, want)
	}
	for _, f := range topo.Findings {
		if f.Kind != model.FindingInventoryRole || !want[f.Instance] {
			t.Fatalf("finding %+v, want inventory_role for %v", f, want)
		}
	}
}
