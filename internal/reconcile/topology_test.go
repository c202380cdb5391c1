package reconcile

import (
	"errors"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// TestTwoPrimariesWriteNothing: without Patroni the leader is the one
// instance out of recovery. A replica promoted beside the primary (a
// split brain) leaves no leader: both are reported extra_primary, the
// plan is still made, and nothing is written to either. The promoted
// replica is rebuilt by the next test's reset.
func TestTwoPrimariesWriteNothing(t *testing.T) {
	cluster.ResetForReconciler(t)
	c := loadSpec(t, cluster.PigstySpec(pipelineVars))
	replica := cluster.Replicas[0]
	replica.MustLocal(t, "postgres", "SELECT pg_promote()")
	deadline := time.Now().Add(time.Minute)
	for replica.MustLocalValue(t, "postgres", "SELECT pg_is_in_recovery()") != "f" {
		if time.Now().After(deadline) {
			t.Fatal("the replica was not promoted")
		}
		time.Sleep(100 * time.Millisecond)
	}
	o := reconcileOf(t, c, Options{Mode: ModeApply, HBA: apply.NewLocalWriter(), Provenance: testProvenance})
	if !errors.Is(o.Err, errNoLeader) || o.Verdict != plan.VerdictFailure || o.Result != nil || o.CommitApplied() {
		t.Errorf("two primaries: %s %q err %v result %v", o.Verdict, o.Message, o.Err, o.Result)
	}
	if o.Topology == nil || o.Topology.Leader != "" || o.Topology.Source != model.SourceNone {
		t.Fatalf("topology %+v", o.Topology)
	}
	for _, in := range c.Instances {
		if !hasReportOn(o.Plan, plan.KindTopology, string(model.FindingExtraPrimary), in.Name()) {
			t.Errorf("%s not reported extra_primary: %v", in.Name(), reportsOf(o.Plan))
		}
	}
	if len(driftOf(o.Plan)) <= len(reportsOf(o.Plan)) {
		t.Error("the plan is empty: the test would prove nothing")
	}
	for _, s := range append(cluster.Replicas, cluster.Primary) {
		if s.MustLocalValue(t, "postgres", "SELECT count(*) FROM pg_roles WHERE rolname = 'dbuser_pipe'") != "0" {
			t.Errorf("a role was created on %s while two servers were primaries", s.Name())
		}
	}
}
