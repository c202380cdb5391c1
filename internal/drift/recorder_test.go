package drift

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// compare checks the named metric families of reg against an exposition.
func compare(t *testing.T, reg prometheus.Gatherer, want string, names ...string) {
	t.Helper()
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}

const driftHeader = `
# HELP pgreconciler_drift_items Objects whose live state differs from the spec, by drift class (user, hba, parameter, database, privilege, pgbouncer), at the last observation.
# TYPE pgreconciler_drift_items gauge
`

func TestObserveDrift(t *testing.T) {
	r, reg := newRecorder(t)
	r.SetInstanceUp("pg-test", "pg-test-2", true)
	r.SetPendingRestart("pg-test", "pg-test-2", 1)
	r.ObserveDrift("pg-test", []string{"pg-test-1", "pg-test-2"}, plan.ClusterPlan{Name: "pg-test", Changes: []plan.Change{
		{Kind: plan.KindRole, Action: plan.ActionCreate, Instance: "pg-test-1"},
		{Kind: plan.KindMembership, Action: plan.ActionChange, Instance: "pg-test-1"},
		{Kind: plan.KindUnmanaged, Action: plan.ActionNote, Instance: "pg-test-1"}, // not drift
		{Kind: plan.KindSchema, Action: plan.ActionRemove, Instance: "pg-test-1"},
		{Kind: plan.KindDefaultPrivilege, Action: plan.ActionCreate, Instance: "pg-test-1"},
		{Kind: plan.KindParameter, Action: plan.ActionChange, Instance: "pg-test-2"},
		{Kind: plan.KindHBA, Action: plan.ActionReport, Instance: "pg-test-2"}, // reports are drift
		{Kind: plan.KindHBA, Action: plan.ActionChange, Instance: "pg-test-3"}, // not listed: counted
	}})
	compare(t, reg, driftHeader+`
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-1",kind="database"} 1
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-1",kind="hba"} 0
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-1",kind="parameter"} 0
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-1",kind="pgbouncer"} 0
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-1",kind="privilege"} 1
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-1",kind="user"} 2
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-2",kind="database"} 0
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-2",kind="hba"} 1
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-2",kind="parameter"} 1
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-2",kind="pgbouncer"} 0
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-2",kind="privilege"} 0
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-2",kind="user"} 0
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-3",kind="hba"} 1
`, "pgreconciler_drift_items")

	// pg-test-1 cannot be reached: its drift is unknown, so its series keep
	// their values; pg-test-2 was inspected and is clean.
	r.ObserveDrift("pg-test", []string{"pg-test-1", "pg-test-2"}, plan.ClusterPlan{Name: "pg-test"}, "pg-test-1")
	compare(t, reg, driftHeader+`
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-1",kind="database"} 1
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-1",kind="hba"} 0
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-1",kind="parameter"} 0
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-1",kind="pgbouncer"} 0
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-1",kind="privilege"} 1
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-1",kind="user"} 2
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-2",kind="database"} 0
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-2",kind="hba"} 0
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-2",kind="parameter"} 0
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-2",kind="pgbouncer"} 0
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-2",kind="privilege"} 0
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-2",kind="user"} 0
`, "pgreconciler_drift_items")

	// pg-test-2 leaves the cluster and the drift is gone: zeros for the
	// instance that remains, nothing for the others.
	r.ObserveDrift("pg-test", []string{"pg-test-1"}, plan.ClusterPlan{Name: "pg-test"})
	compare(t, reg, driftHeader+`
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-1",kind="database"} 0
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-1",kind="hba"} 0
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-1",kind="parameter"} 0
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-1",kind="pgbouncer"} 0
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-1",kind="privilege"} 0
pgreconciler_drift_items{cluster="pg-test",instance="pg-test-1",kind="user"} 0
`, "pgreconciler_drift_items", "pgreconciler_instance_up", "pgreconciler_pending_restart")
}

// Every kind a plan can hold falls into one of the zero-filled classes, so
// no drift series appears and disappears with its changes.
func TestDriftClassesCoverKinds(t *testing.T) {
	for _, k := range plan.Kinds {
		if !slices.Contains(model.DriftClasses(), k.DriftClass()) {
			t.Errorf("kind %s: drift class %q is not zero-filled", k, k.DriftClass())
		}
	}
}

func TestObserveReconcile(t *testing.T) {
	r, reg := newRecorder(t)
	at := time.Unix(1700000000, 500_000_000)
	r.ObserveReconcile("pg-test", plan.VerdictSuccess, 1500*time.Millisecond, at)
	r.ObserveReconcile("pg-test", plan.VerdictBusy, 5*time.Millisecond, at.Add(time.Minute))
	r.ObserveReconcile("pg-test", "exploded", 400*time.Second, at.Add(2*time.Minute)) // unknown: failure
	r.ObserveReconcile("pg-meta", plan.VerdictRefused, 20*time.Millisecond, at)
	compare(t, reg, `
# HELP pgreconciler_reconcile_total Reconciles of a cluster by result (success, failure, busy, refused).
# TYPE pgreconciler_reconcile_total counter
pgreconciler_reconcile_total{cluster="pg-meta",result="busy"} 0
pgreconciler_reconcile_total{cluster="pg-meta",result="failure"} 0
pgreconciler_reconcile_total{cluster="pg-meta",result="refused"} 1
pgreconciler_reconcile_total{cluster="pg-meta",result="success"} 0
pgreconciler_reconcile_total{cluster="pg-test",result="busy"} 1
pgreconciler_reconcile_total{cluster="pg-test",result="failure"} 1
pgreconciler_reconcile_total{cluster="pg-test",result="refused"} 0
pgreconciler_reconcile_total{cluster="pg-test",result="success"} 1
# HELP pgreconciler_last_success_timestamp_seconds Unix time at which the last successful reconcile of a cluster finished.
# TYPE pgreconciler_last_success_timestamp_seconds gauge
pgreconciler_last_success_timestamp_seconds{cluster="pg-test"} 1.7000000005e+09
# HELP pgreconciler_reconcile_duration_seconds Wall time of one reconcile of a cluster: inspect, plan and apply.
# TYPE pgreconciler_reconcile_duration_seconds histogram
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-meta",le="0.01"} 0
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-meta",le="0.025"} 1
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-meta",le="0.05"} 1
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-meta",le="0.1"} 1
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-meta",le="0.25"} 1
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-meta",le="0.5"} 1
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-meta",le="1"} 1
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-meta",le="2.5"} 1
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-meta",le="5"} 1
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-meta",le="10"} 1
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-meta",le="30"} 1
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-meta",le="60"} 1
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-meta",le="120"} 1
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-meta",le="300"} 1
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-meta",le="+Inf"} 1
pgreconciler_reconcile_duration_seconds_sum{cluster="pg-meta"} 0.02
pgreconciler_reconcile_duration_seconds_count{cluster="pg-meta"} 1
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-test",le="0.01"} 1
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-test",le="0.025"} 1
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-test",le="0.05"} 1
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-test",le="0.1"} 1
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-test",le="0.25"} 1
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-test",le="0.5"} 1
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-test",le="1"} 1
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-test",le="2.5"} 2
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-test",le="5"} 2
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-test",le="10"} 2
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-test",le="30"} 2
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-test",le="60"} 2
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-test",le="120"} 2
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-test",le="300"} 2
pgreconciler_reconcile_duration_seconds_bucket{cluster="pg-test",le="+Inf"} 3
pgreconciler_reconcile_duration_seconds_sum{cluster="pg-test"} 401.505
pgreconciler_reconcile_duration_seconds_count{cluster="pg-test"} 3
`, "pgreconciler_reconcile_total", "pgreconciler_last_success_timestamp_seconds", "pgreconciler_reconcile_duration_seconds")
}

func TestObserveApplied(t *testing.T) {
	r, reg := newRecorder(t)
	change := func(k plan.Kind, a plan.Action) plan.Change {
		return plan.Change{Kind: k, Action: a, Object: "dbuser_secret_name"}
	}
	r.ObserveApplied(&plan.Result{Cluster: "pg-test", Outcomes: []plan.Outcome{
		{Change: change(plan.KindRole, plan.ActionCreate), Status: plan.StatusApplied},
		{Change: change(plan.KindRole, plan.ActionCreate), Status: plan.StatusApplied},
		{Change: change(plan.KindParameter, plan.ActionChange), Status: plan.StatusApplied, Pending: true},
		{Change: change(plan.KindRole, plan.ActionRemove), Status: plan.StatusFailed},
		{Change: change(plan.KindHBA, plan.ActionChange), Status: plan.StatusSkipped},
		{Change: change(plan.KindRole, plan.ActionReport), Status: plan.StatusRefused},
	}})
	compare(t, reg, `
# HELP pgreconciler_applied_changes_total Changes applied to a cluster, by object kind and action.
# TYPE pgreconciler_applied_changes_total counter
pgreconciler_applied_changes_total{action="change",cluster="pg-test",kind="parameter"} 1
pgreconciler_applied_changes_total{action="create",cluster="pg-test",kind="role"} 2
`, "pgreconciler_applied_changes_total")
}

func TestInstanceGauges(t *testing.T) {
	r, reg := newRecorder(t)
	r.SetInstanceUp("pg-test", "pg-test-1", true)
	r.SetInstanceUp("pg-test", "pg-test-2", true)
	r.SetInstanceUp("pg-test", "pg-test-2", false)
	r.SetPendingRestart("pg-test", "pg-test-1", 3)
	r.SetPendingRestart("pg-test", "pg-test-1", 2)
	compare(t, reg, `
# HELP pgreconciler_instance_up Whether the last connection to an instance succeeded (1) or not (0).
# TYPE pgreconciler_instance_up gauge
pgreconciler_instance_up{cluster="pg-test",instance="pg-test-1"} 1
pgreconciler_instance_up{cluster="pg-test",instance="pg-test-2"} 0
# HELP pgreconciler_pending_restart Parameters of an instance that are set but wait for a restart.
# TYPE pgreconciler_pending_restart gauge
pgreconciler_pending_restart{cluster="pg-test",instance="pg-test-1"} 2
`, "pgreconciler_instance_up", "pgreconciler_pending_restart")
}

func TestForgetCluster(t *testing.T) {
	r, reg := newRecorder(t)
	at := time.Unix(1700000000, 0)
	for _, c := range []string{"pg-test", "pg-meta"} {
		r.ObserveDrift(c, []string{c + "-1"}, plan.ClusterPlan{})
		r.ObserveReconcile(c, plan.VerdictSuccess, time.Second, at)
		r.ObserveApplied(&plan.Result{Cluster: c, Outcomes: []plan.Outcome{
			{Change: plan.Change{Kind: plan.KindRole, Action: plan.ActionCreate}, Status: plan.StatusApplied}}})
		r.SetInstanceUp(c, c+"-1", true)
		r.SetPendingRestart(c, c+"-1", 0)
	}
	r.ForgetCluster("pg-test")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "cluster" && l.GetValue() != "pg-meta" {
					t.Errorf("%s: series of cluster %q left after ForgetCluster", mf.GetName(), l.GetValue())
				}
			}
		}
	}
	if n, _ := testutil.GatherAndCount(reg, "pgreconciler_drift_items"); n != 6 {
		t.Errorf("drift series of pg-meta: got %d, want 6", n)
	}

	// A forgotten cluster that comes back starts from zero again.
	r.ObserveReconcile("pg-test", plan.VerdictFailure, time.Second, at)
	if n, _ := testutil.GatherAndCount(reg, "pgreconciler_reconcile_total"); n != 8 {
		t.Errorf("reconcile series after pg-test is back: got %d, want 8", n)
	}
}

const sourceInfoHeader = `
# HELP pgreconciler_source_info The verified revision of a source and who signed it; one series per source, value 1.
# TYPE pgreconciler_source_info gauge
`

func TestSetSource(t *testing.T) {
	r, reg := newRecorder(t)
	r.SetSource("fleet", "1111111111111111111111111111111111111111", "alice@example.com")
	r.SetSource("infra", "3333333333333333333333333333333333333333", "carol@example.com")
	r.SetSource("fleet", "2222222222222222222222222222222222222222", "bob@example.com")
	r.SourceFetched("fleet", time.Unix(1700000000, 0))
	compare(t, reg, sourceInfoHeader+`
pgreconciler_source_info{revision="2222222222222222222222222222222222222222",signer="bob@example.com",source="fleet"} 1
pgreconciler_source_info{revision="3333333333333333333333333333333333333333",signer="carol@example.com",source="infra"} 1
# HELP pgreconciler_source_last_fetch_timestamp_seconds Unix time of the last successful fetch of a source.
# TYPE pgreconciler_source_last_fetch_timestamp_seconds gauge
pgreconciler_source_last_fetch_timestamp_seconds{source="fleet"} 1.7e+09
`, "pgreconciler_source_info", "pgreconciler_source_last_fetch_timestamp_seconds")

	r.ForgetSource("fleet")
	compare(t, reg, sourceInfoHeader+`
pgreconciler_source_info{revision="3333333333333333333333333333333333333333",signer="carol@example.com",source="infra"} 1
`, "pgreconciler_source_info", "pgreconciler_source_last_fetch_timestamp_seconds")
	if n, _ := testutil.GatherAndCount(reg, "pgreconciler_verification_failures_total"); n != len(model.RefusalKinds()) {
		t.Errorf("verification failure series: got %d, want %d (infra only)", n, len(model.RefusalKinds()))
	}
}

func TestVerificationFailed(t *testing.T) {
	r, reg := newRecorder(t)
	r.VerificationFailed("fleet", model.RefusalUnsigned)
	r.VerificationFailed("fleet", model.RefusalUnsigned)
	r.VerificationFailed("fleet", "refuse commit 0123abc: key of mallory") // free text: other
	compare(t, reg, `
# HELP pgreconciler_verification_failures_total Commits of a source refused by verification (signature, history, spec tree), by reason.
# TYPE pgreconciler_verification_failures_total counter
pgreconciler_verification_failures_total{reason="bad_signature",source="fleet"} 0
pgreconciler_verification_failures_total{reason="expired",source="fleet"} 0
pgreconciler_verification_failures_total{reason="history",source="fleet"} 0
pgreconciler_verification_failures_total{reason="invalid",source="fleet"} 0
pgreconciler_verification_failures_total{reason="other",source="fleet"} 1
pgreconciler_verification_failures_total{reason="rewind",source="fleet"} 0
pgreconciler_verification_failures_total{reason="tree",source="fleet"} 0
pgreconciler_verification_failures_total{reason="unsigned",source="fleet"} 2
pgreconciler_verification_failures_total{reason="untrusted",source="fleet"} 0
`, "pgreconciler_verification_failures_total")
}

// Two Recorders never share state; a second one on the same registry is an
// error and leaves the registry as it was.
func TestNewRecorderRegistries(t *testing.T) {
	r1, reg1 := newRecorder(t)
	_, reg2 := newRecorder(t)
	r1.SetInstanceUp("pg-test", "pg-test-1", true)
	if n, _ := testutil.GatherAndCount(reg2, "pgreconciler_instance_up"); n != 0 {
		t.Errorf("second registry sees %d instance_up series of the first", n)
	}
	if _, err := NewRecorder(reg1); err == nil || !strings.HasPrefix(err.Error(), "register metrics: ") {
		t.Fatalf("second recorder on one registry: got %v, want a register error", err)
	}
	if n, _ := testutil.GatherAndCount(reg1, "pgreconciler_instance_up"); n != 1 {
		t.Errorf("first recorder's series after the failed registration: got %d, want 1", n)
	}
}

func TestRegistryIsClean(t *testing.T) {
	mfs, err := NewRegistry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "go_") && !strings.HasPrefix(mf.GetName(), "process_") {
			t.Errorf("fresh registry holds %s", mf.GetName())
		}
	}
}

func TestLint(t *testing.T) {
	problems, err := testutil.GatherAndLint(populated(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// promtool, the linter Prometheus ships, accepts what a scrape of the
// daemon's registry returns.
func TestPromtoolCheckMetrics(t *testing.T) {
	text := exposition(t, populated(t))
	for _, name := range []string{"pgreconciler_drift_items", "pgreconciler_source_info", "go_goroutines", "process_start_time_seconds"} {
		if !strings.Contains(string(text), "\n"+name) {
			t.Errorf("exposition lacks %s", name)
		}
	}
	promtool(t, text, "check", "metrics")
}
