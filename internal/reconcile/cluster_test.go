package reconcile

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// The pipeline's own contract: the lock, the guard, the gate, the
// re-plan, and the Outcome that the CLI and the daemon read.

const pipelineVars = `
pg_users: [{name: "dbuser_pipe", password: "Pipe.Secret.2026", connlimit: 7}]
pg_default_privileges: []
`

func reconcileOf(t *testing.T, c *model.Cluster, opts Options) Outcome {
	t.Helper()
	o, err := Cluster(context.Background(), Target{Cluster: c, Dialer: dialer()}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func roleExists(t *testing.T, name string) bool {
	t.Helper()
	return cluster.Primary.MustLocalValue(t, "postgres", "SELECT count(*) FROM pg_roles WHERE rolname = '"+name+"'") == "1"
}

// lockGranted reports whether some session holds the apply lock.
func lockGranted(t *testing.T) bool {
	t.Helper()
	return cluster.Primary.MustLocalValue(t, "postgres",
		"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 4151175698 AND objid = 1034307952 AND granted") == "1"
}

// TestClusterBusy: while another session holds the apply lock, a
// reconcile in ModeApply is busy: it inspects nothing, applies nothing and
// does not count the commit as applied; a plan and a dry run take no lock
// and go on.
func TestClusterBusy(t *testing.T) {
	cluster.ResetForReconciler(t)
	c := loadSpec(t, cluster.PigstySpec(pipelineVars))
	cluster.Primary.HoldAdvisoryLock(t, apply.LockKey)
	o := reconcileOf(t, c, Options{Mode: ModeApply, HBA: apply.NewLocalWriter(), Provenance: testProvenance})
	if o.Verdict != plan.VerdictBusy || o.Locked || o.CommitApplied() || o.Live != nil || o.Result != nil {
		t.Errorf("busy reconcile: %s locked=%v live=%v result=%v", o.Verdict, o.Locked, o.Live != nil, o.Result)
	}
	if len(o.Plan.Errors) != 1 || !strings.Contains(o.Plan.Errors[0], "another reconciler is applying") || o.Message != o.Plan.Errors[0] {
		t.Errorf("busy plan errors %q, message %q", o.Plan.Errors, o.Message)
	}
	for _, m := range []Mode{ModePlan, ModeDryRun} {
		o := reconcileOf(t, c, Options{Mode: m, HBA: apply.NewLocalWriter()})
		if o.Verdict != plan.VerdictSuccess || o.Locked || o.CommitApplied() || len(driftOf(o.Plan)) == 0 || o.Result == nil != (m == ModePlan) {
			t.Errorf("mode %d while the lock is held: %s %s locked=%v drift=%d result=%v", m, o.Verdict, o.Message, o.Locked, len(driftOf(o.Plan)), o.Result)
		}
	}
	if roleExists(t, "dbuser_pipe") {
		t.Fatal("a reconcile applied while another session held the apply lock")
	}
}

// TestClusterGateAndReplan: the gate is asked under the lock, also when
// nothing is to be applied; a Refusal is a refused verdict, another error
// a failure, and nothing is applied either way. A gate that admits lets
// the plan be applied; Left, read again after the apply, shows nothing
// left, and the commit counts as applied.
func TestClusterGateAndReplan(t *testing.T) {
	cluster.ResetForReconciler(t)
	c := loadSpec(t, cluster.PigstySpec(pipelineVars))
	var asked, locked bool
	gate := func(err error) func(context.Context) error {
		return func(context.Context) error {
			asked, locked = true, lockGranted(t)
			return err
		}
	}
	opts := Options{Mode: ModeApply, HBA: apply.NewLocalWriter(), Provenance: testProvenance}
	rewind := &Refusal{Err: errors.New("refuse commit 0123: a rewind")}
	unread := errors.New("read change log of cluster pg-e2e: timeout")
	for _, tc := range []struct {
		err  error
		want plan.Verdict
	}{{rewind, plan.VerdictRefused}, {unread, plan.VerdictFailure}} {
		asked, locked = false, false
		opts.Gate = gate(tc.err)
		o := reconcileOf(t, c, opts)
		if !asked || !locked {
			t.Errorf("gate %v: asked %v, under the lock %v", tc.err, asked, locked)
		}
		if o.Verdict != tc.want || o.Message != tc.err.Error() || !errors.Is(o.Err, tc.err) || o.Result != nil || o.CommitApplied() {
			t.Errorf("gate %v: %s %q err=%v result=%v", tc.err, o.Verdict, o.Message, o.Err, o.Result)
		}
	}
	if roleExists(t, "dbuser_pipe") {
		t.Fatal("applied although the gate said no")
	}

	opts.Gate = gate(nil)
	o := reconcileOf(t, c, opts)
	if o.Verdict != plan.VerdictSuccess || !o.CommitApplied() || o.Result == nil || !appliedAny(o.Result) {
		t.Fatalf("admitted: %s %q result=%v", o.Verdict, o.Message, o.Result)
	}
	if len(driftOf(o.Plan)) == 0 || len(driftOf(o.Left)) != 0 || o.Stale != nil || !roleExists(t, "dbuser_pipe") {
		t.Errorf("plan drift %d, left%s, stale %v", len(driftOf(o.Plan)), describe(driftOf(o.Left)), o.Stale)
	}
	if err := cluster.WaitReplay(context.Background()); err != nil {
		t.Fatal(err)
	}
	asked = false
	o = reconcileOf(t, c, opts)
	if !asked || o.Verdict != plan.VerdictSuccess || !o.CommitApplied() || o.Result != nil {
		t.Errorf("converged: gate asked %v, %s %q result=%v", asked, o.Verdict, o.Message, o.Result)
	}
}

// TestClusterHold: changes held back (observe mode) are not executed; a
// reconcile that holds every change runs no apply at all and succeeds.
func TestClusterHold(t *testing.T) {
	cluster.ResetForReconciler(t)
	c := loadSpec(t, cluster.PigstySpec(pipelineVars))
	o := reconcileOf(t, c, Options{Mode: ModeApply, HBA: apply.NewLocalWriter(), Provenance: testProvenance,
		Hold: func(plan.Change) string { return "observe mode" }})
	if o.Verdict != plan.VerdictSuccess || o.Result != nil || len(driftOf(o.Left)) == 0 || roleExists(t, "dbuser_pipe") {
		t.Errorf("all held: %s %q result=%v drift left %d", o.Verdict, o.Message, o.Result, len(driftOf(o.Left)))
	}
}

// TestClusterPrimaryDown: a primary that does not answer fails the lock
// and its inspection alike, and the error is reported once, in the plan;
// the replica is still inspected; nothing is applied and the commit does
// not count as applied, in every mode.
func TestClusterPrimaryDown(t *testing.T) {
	cluster.ResetForReconciler(t)
	c := loadSpec(t, cluster.PigstySpec(pipelineVars))
	down := *c
	down.Instances = nil
	for _, in := range c.Instances {
		cp := *in
		if cp.Role == model.RolePrimary {
			cp.Port = closedPort(t, cp.IP)
		}
		down.Instances = append(down.Instances, &cp)
	}
	replica := cluster.Replicas[0].Name()
	for _, m := range []Mode{ModePlan, ModeDryRun, ModeApply} {
		o := reconcileOf(t, &down, Options{Mode: m, HBA: apply.NewLocalWriter(), Provenance: testProvenance})
		if o.Verdict != plan.VerdictFailure || o.Result != nil || o.CommitApplied() || o.LockErr != nil || o.Err != nil {
			t.Errorf("mode %d: %s result=%v lockErr=%v err=%v", m, o.Verdict, o.Result, o.LockErr, o.Err)
		}
		if len(o.Plan.Errors) != 1 || o.Message != o.Plan.Errors[0] || len(o.Instances) != 1 {
			t.Errorf("mode %d: errors %q, message %q", m, o.Plan.Errors, o.Message)
		}
		if o.Live[replica] == nil {
			t.Errorf("mode %d: the replica was not inspected", m)
		}
	}
	if roleExists(t, "dbuser_pipe") {
		t.Fatal("applied without a primary")
	}
}

// closedPort is a port nothing listens on at addr.
func closedPort(t *testing.T, addr string) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}
