package reconcile

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// fullSpec exercises every kind the reconciler manages.
const fullVars = `
pg_users: [
	{name: "dbuser_app", password: "App.Secret.2026", connlimit: 20, roles: ["dbrole_readwrite"],
	 parameters: {statement_timeout: "30s"}, comment: "order service"},
	{name: "dbuser_etl", password: "SCRAM-SHA-256$4096:Q7gTQQW1AJIDkmL3RnCe5w==$dnFJKN1dtkf+GE9/HwwIyiW92sx4MDTdib4rKqDowsY=:TsmFfT4ULBaWysYIfSktzV15MkaycoLzypWw35vRg+w=",
	 expire_in: 30, roles: ["dbrole_offline"]},
]
pg_databases: [
	{name: "app", owner: "dbuser_app", revokeconn: true, connlimit: 100, schemas: ["app"], extensions: ["pg_trgm"],
	 parameters: {work_mem: "8MB"}, comment: "orders"},
]
pg_hba_rules: [
	{user: "dbuser_app", db: "app", addr: "127.0.0.0/8", auth: "ssl", title: "app over ssl", order: 50},
]
pg_parameters: {log_min_duration_statement: "250ms", work_mem: "4MB"}
`

// planOf plans c as `reconciler plan` does, and fails the test when an
// instance cannot be inspected.
func planOf(t *testing.T, c *model.Cluster) (plan.ClusterPlan, map[string]*model.InstanceState) {
	t.Helper()
	o, err := Cluster(context.Background(), Target{Cluster: c, Dialer: dialer()}, Options{Mode: ModePlan})
	if err != nil || len(o.Instances) > 0 {
		t.Fatalf("inspect: %v %v", err, o.Instances)
	}
	return o.Plan, o.Live
}

// testProvenance is what the tests' applies record in the change log.
var testProvenance = model.Provenance{Commit: "0123456789abcdef0123456789abcdef01234567", Signer: "test", Author: "tester"}

// applyAll reconciles c as `reconciler apply` does, fails the test unless
// that succeeded, waits for the replica, and returns what the apply did
// (no outcomes when nothing was to be executed).
func applyAll(t *testing.T, c *model.Cluster) *plan.Result {
	t.Helper()
	o, err := Cluster(context.Background(), Target{Cluster: c, Dialer: dialer()},
		Options{Mode: ModeApply, HBA: apply.NewLocalWriter(), Provenance: testProvenance})
	if err != nil {
		t.Fatal(err)
	}
	if o.Verdict != plan.VerdictSuccess {
		t.Fatalf("apply: %s: %s", o.Verdict, o.Message)
	}
	if err := cluster.WaitReplay(context.Background()); err != nil {
		t.Fatal(err)
	}
	if o.Result == nil {
		return &plan.Result{Cluster: c.Name}
	}
	return o.Result
}

func driftOf(cp plan.ClusterPlan) []plan.Change {
	var out []plan.Change
	for _, ch := range cp.Changes {
		if ch.Drift() {
			out = append(out, ch)
		}
	}
	return out
}

func describe(chs []plan.Change) string {
	var b strings.Builder
	for _, ch := range chs {
		b.WriteString("\n  " + ch.Instance + " " + ch.Action.Symbol() + " " + string(ch.Kind) + " " + ch.Object + ": " + ch.Before + " → " + ch.After)
	}
	return b.String()
}

// TestConvergeThenDrift applies a spec using every kind to a fresh
// cluster, checks that a re-plan is empty and that a second apply changes
// nothing, then makes each kind of drift by hand and checks that the plan
// names it exactly once, with the right kind and instance, and that apply
// heals it.
func TestConvergeThenDrift(t *testing.T) {
	cluster.ResetForReconciler(t)
	c := loadSpec(t, cluster.PigstySpec(fullVars))
	// The replica is inspected, but cluster-wide objects are planned on the
	// primary only: the replica gets them by replication.
	initial, live := planOf(t, c)
	if live["pg-e2e-2"] == nil || !live["pg-e2e-2"].InRecovery {
		t.Fatal("the replica was not inspected")
	}
	for _, ch := range initial.Changes {
		if ch.Instance == "pg-e2e-2" && ch.Kind != plan.KindParameter && ch.Kind != plan.KindHBA {
			t.Errorf("%s %s planned on the replica", ch.Kind, ch.Object)
		}
	}
	applyAll(t, c)
	if left := driftOf(first(planOf(t, c))); len(left) > 0 {
		t.Fatalf("not converged after one apply:%s", describe(left))
	}
	res := applyAll(t, c)
	for _, o := range res.Outcomes {
		if o.Status == plan.StatusApplied {
			t.Fatalf("second apply changed %s %s", o.Change.Kind, o.Change.Object)
		}
	}

	primary, replica := cluster.Primary, cluster.Replicas[0]
	for _, tc := range []struct {
		name     string
		make     func(t *testing.T)
		kind     plan.Kind
		instance string
		object   string
	}{
		{"connection limit", func(t *testing.T) { primary.MustLocal(t, "postgres", `ALTER ROLE dbuser_app CONNECTION LIMIT 3`) }, plan.KindRole, "pg-e2e-1", "dbuser_app"},
		{"membership", func(t *testing.T) { primary.MustLocal(t, "postgres", `REVOKE dbrole_readwrite FROM dbuser_app`) }, plan.KindMembership, "pg-e2e-1", "dbuser_app in dbrole_readwrite"},
		{"role setting", func(t *testing.T) {
			primary.MustLocal(t, "postgres", `ALTER ROLE dbuser_app SET statement_timeout = '1min'`)
		}, plan.KindRoleSetting, "pg-e2e-1", "dbuser_app"},
		{"password", func(t *testing.T) {
			primary.MustLocal(t, "postgres", `ALTER ROLE dbuser_app PASSWORD 'changed by hand'`)
		}, plan.KindPassword, "pg-e2e-1", "dbuser_app"},
		{"comment", func(t *testing.T) { primary.MustLocal(t, "postgres", `COMMENT ON ROLE dbuser_app IS 'hand-written'`) }, plan.KindComment, "pg-e2e-1", "dbuser_app"},
		{"database", func(t *testing.T) { primary.MustLocal(t, "postgres", `ALTER DATABASE app CONNECTION LIMIT 7`) }, plan.KindDatabase, "pg-e2e-1", "app"},
		{"schema", func(t *testing.T) { primary.MustLocal(t, "app", `DROP SCHEMA app`) }, plan.KindSchema, "pg-e2e-1", "app.app"},
		{"privilege", func(t *testing.T) { primary.MustLocal(t, "app", `GRANT CREATE ON SCHEMA public TO PUBLIC`) }, plan.KindPrivilege, "pg-e2e-1", "schema app.public"},
		{"extension", func(t *testing.T) { primary.MustLocal(t, "app", `DROP EXTENSION pg_trgm`) }, plan.KindExtension, "pg-e2e-1", "app.pg_trgm"},
		{"default privilege", func(t *testing.T) {
			primary.MustLocal(t, "app", `ALTER DEFAULT PRIVILEGES FOR ROLE dbuser_app REVOKE SELECT ON TABLES FROM dbrole_readonly`)
		}, plan.KindDefaultPrivilege, "pg-e2e-1", "app: FOR ROLE dbuser_app"},
		{"parameter on the replica", func(t *testing.T) {
			replica.MustLocal(t, "postgres", `ALTER SYSTEM SET work_mem = '16MB'`)
			replica.MustLocal(t, "postgres", `SELECT pg_reload_conf()`)
			if err := replica.Reload(); err != nil {
				t.Fatal(err)
			}
		}, plan.KindParameter, "pg-e2e-2", "work_mem"},
		{"hba on the replica", func(t *testing.T) {
			f, err := os.OpenFile(replica.HBAPath(), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = f.WriteString("host all all 10.99.0.0/16 trust\n")
			_ = f.Close()
			if err := replica.Reload(); err != nil {
				t.Fatal(err)
			}
		}, plan.KindHBA, "pg-e2e-2", "pg_hba.conf"},
		{"hba written but not reloaded", func(t *testing.T) {
			// The right bytes on disk, newer than the last reload (case H07; docs/promises.md):
			// apply writes nothing and reloads.
			// pg_stat_file has whole seconds: touch it in a second that
			// began after the last reload.
			time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 10*time.Millisecond)))
			later := time.Now()
			if err := os.Chtimes(primary.HBAPath(), later, later); err != nil {
				t.Fatal(err)
			}
		}, plan.KindHBA, "pg-e2e-1", "pg_hba.conf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.make(t)
			if err := cluster.WaitReplay(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := driftOf(first(planOf(t, c)))
			if len(got) != 1 || got[0].Kind != tc.kind || got[0].Instance != tc.instance || got[0].Object != tc.object {
				t.Fatalf("want exactly one %s drift of %s on %s, got:%s", tc.kind, tc.object, tc.instance, describe(got))
			}
			applyAll(t, c)
			if left := driftOf(first(planOf(t, c))); len(left) > 0 {
				t.Fatalf("apply did not heal it:%s", describe(left))
			}
		})
	}

	// A role made by hand is reported as unmanaged, never touched.
	primary.MustLocal(t, "postgres", `CREATE ROLE bob LOGIN`)
	cp, _ := planOf(t, c)
	if d := driftOf(cp); len(d) > 0 {
		t.Fatalf("an unmanaged role is not drift:%s", describe(d))
	}
	found := false
	for _, ch := range cp.Changes {
		found = found || (ch.Kind == plan.KindUnmanaged && ch.Object == "bob" && len(ch.Statements) == 0)
	}
	if !found {
		t.Fatal("bob is not reported as unmanaged")
	}
}

func first[A, B any](a A, _ B) A { return a }
