package reconcile

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/patroni"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/testenv/patronienv"
)

// TestPatroni reconciles a real two-member Patroni cluster whose inventory
// keeps the pg_role it was installed with, through a switchover, a
// failover in the middle of an apply, a member down and a pending restart.
// One cluster serves the subtests, in order.
func TestPatroni(t *testing.T) {
	pc := patronienv.New(t, patronienv.Options{Name: "pg-ha", Members: 2, BaseIP: 121})
	h := &haEnv{t: t, pc: pc, first: pc.Members()[0]}

	t.Run("PlanAndApplyOnLeader", func(t *testing.T) {
		c := h.spec(t, `pg_users: [{name: "dbuser_ha1", password: "Ha.Secret.2026"}]`)
		o := h.reconcile(t, c, ModePlan)
		if o.Topology == nil || o.Topology.Leader != h.first.Name() || o.Topology.Source != model.SourcePatroni {
			t.Fatalf("topology %+v", o.Topology)
		}
		if r := reportsOf(o.Plan); len(r) > 0 {
			t.Errorf("a healthy cluster as the inventory says has reports: %v", r)
		}
		o = h.reconcile(t, c, ModeApply)
		h.success(t, o)
		h.roleOn(t, h.first, "dbuser_ha1", true)

		// Settings drift: the REST credentials the inventory names are refused.
		bad := h.spec(t, `patroni_password: "not-the-password"`)
		o = h.reconcile(t, bad, ModePlan)
		if !hasReport(o.Plan, plan.KindPatroni, string(model.SettingCredentials)) {
			t.Errorf("wrong patroni_password not reported: %v", reportsOf(o.Plan))
		}
	})

	t.Run("SwitchoverFollowed", func(t *testing.T) {
		leader, err := pc.Switchover(h.ctx(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		c := h.spec(t, `pg_users: [{name: "dbuser_ha1", password: "Ha.Secret.2026"}, {name: "dbuser_ha2", password: "Ha.Secret.2026"}]
pg_hba_rules: [{user: "dbuser_ha2", db: "all", addr: "127.0.0.0/8", auth: "pwd", title: "ha2 after the switchover"}]`)
		o := h.reconcile(t, c, ModeApply)
		h.success(t, o)
		if o.Topology.Leader != leader.Name() {
			t.Fatalf("leader %q, Patroni says %s", o.Topology.Leader, leader.Name())
		}
		var text strings.Builder
		if err := (&plan.Plan{Clusters: []plan.ClusterPlan{o.Plan}}).WriteText(&text); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{leader.Name() + " (leader, pg_role replica", h.first.Name() + " (replica, pg_role primary", "* topology inventory_role"} {
			if !strings.Contains(text.String(), want) {
				t.Errorf("the text plan lacks %q:\n%s", want, text.String())
			}
		}
		for _, m := range pc.Members() {
			if !hasReportOn(o.Plan, plan.KindTopology, string(model.FindingInventoryRole), m.Name()) {
				t.Errorf("inventory_role not reported for %s: %v", m.Name(), reportsOf(o.Plan))
			}
			b, err := os.ReadFile(m.HBAPath())
			if err != nil || !strings.Contains(string(b), "dbuser_ha2") {
				t.Errorf("pg_hba.conf of %s lacks the new rule (err %v)", m.Name(), err)
			}
		}
		h.roleOn(t, leader, "dbuser_ha2", true)
		if n := h.value(t, leader, "SELECT count(*) FROM pgreconciler.change_log WHERE kind = 'role' AND object = 'dbuser_ha2'"); n != "1" {
			t.Errorf("change_log rows for dbuser_ha2 on the new leader: %s", n)
		}
		for _, ch := range driftOf(o.Left) {
			if ch.Kind != plan.KindTopology {
				t.Errorf("left after the apply: %s %s on %s", ch.Kind, ch.Object, ch.Instance)
			}
		}
	})

	t.Run("FailoverDuringApply", func(t *testing.T) {
		var users []string
		for i := range 300 {
			users = append(users, fmt.Sprintf(`{name: "dbuser_bulk%03d", password: "Bulk.Secret.2026", comment: "bulk"}`, i))
		}
		c := h.spec(t, `pg_users: [`+strings.Join(users, ", ")+`]
pg_databases: [{name: "ha_db"}]`)
		old, err := pc.Leader(h.ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		// CREATE DATABASE, after the roles' transaction committed, waits for
		// this lock: the leader dies with the apply half done.
		blocker, err := old.Admin(h.ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		defer blocker.Close(context.Background()) // also keeps it from the garbage collector, which would close its socket
		tx, err := blocker.Begin(h.ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(h.ctx(t), "LOCK TABLE pg_catalog.pg_database IN SHARE MODE"); err != nil {
			t.Fatal(err)
		}
		done := make(chan Outcome, 1)
		go func() {
			o, _ := Cluster(h.ctx(t), Target{Cluster: c, Dialer: h.dialer()}, h.options(ModeApply))
			done <- o
		}()
		waitFor(t, h.ctx(t), "CREATE DATABASE waiting for the lock", func() bool {
			select {
			case o := <-done:
				t.Fatalf("the apply ended before the failover: %s: %s", o.Verdict, o.Message)
			default:
			}
			return h.value(t, old, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%CREATE DATABASE%'") == "1"
		})
		if err := old.KillPostmaster(); err != nil {
			t.Fatal(err)
		}
		o := <-done
		if o.Verdict != plan.VerdictFailure || o.Err == nil {
			t.Errorf("apply across the failover: %s %v", o.Verdict, o.Err)
		}
		if err := pc.WaitHealthy(h.ctx(t)); err != nil {
			t.Fatal(err)
		}
		leader, err := pc.Leader(h.ctx(t))
		if err != nil || leader == old {
			t.Fatalf("leader %v after killing %s: %v", leader, old.Name(), err)
		}
		o = h.reconcile(t, c, ModeApply)
		h.success(t, o)
		for _, ch := range o.Plan.Changes {
			if ch.Kind == plan.KindRole && ch.Action == plan.ActionCreate {
				t.Errorf("a role created before the failover is planned again: %s", ch.Object)
			}
		}
		if n := h.value(t, leader, "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'dbuser_bulk%'"); n != "300" {
			t.Errorf("bulk roles on the new leader: %s", n)
		}
		if n := h.value(t, leader, `SELECT count(*) FROM (SELECT object FROM pgreconciler.change_log
			WHERE kind = 'role' AND action = 'create' AND object LIKE 'dbuser_bulk%' GROUP BY object HAVING count(*) = 1) o`); n != "300" {
			t.Errorf("bulk roles with exactly one change_log row on the new leader: %s of 300", n)
		}
		if n := h.value(t, leader, "SELECT count(*) FROM pgreconciler.change_log WHERE kind = 'database' AND object = 'ha_db' AND status = 'applied'"); n != "1" {
			t.Errorf("change_log rows for ha_db: %s", n)
		}
		for _, m := range pc.Members() {
			if log, err := m.Log(); err != nil || strings.Contains(log, "read-only transaction") {
				t.Errorf("a write reached %s in recovery (err %v)", m.Name(), err)
			}
		}
	})

	t.Run("MemberDownDuringHBAChange", func(t *testing.T) {
		leader, err := pc.Leader(h.ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		down := otherThan(pc, leader)
		if err := down.StopPatroni(); err != nil {
			t.Fatal(err)
		}
		c := h.spec(t, `pg_users: [{name: "dbuser_ha1", password: "Ha.Secret.2026"}, {name: "dbuser_ha2", password: "Ha.Secret.2026"}]
pg_hba_rules: [{user: "dbuser_ha2", db: "all", addr: "127.0.0.0/8", auth: "pwd", title: "ha2 after the switchover"},
	{user: "dbuser_ha1", db: "all", addr: "127.0.0.0/8", auth: "pwd", title: "ha1 while a member is down"}]`)
		o := h.reconcile(t, c, ModeApply)
		if o.Verdict != plan.VerdictFailure || len(o.Instances) != 1 || o.Instances[0].Instance != down.Name() {
			t.Errorf("with %s down: %s %q instances %v", down.Name(), o.Verdict, o.Message, o.Instances)
		}
		if b, _ := os.ReadFile(leader.HBAPath()); !strings.Contains(string(b), "ha1 while a member is down") {
			t.Errorf("the running leader %s did not get the rule", leader.Name())
		}
		if err := down.StartPatroni(h.ctx(t)); err != nil {
			t.Fatal(err)
		}
		if err := pc.WaitHealthy(h.ctx(t)); err != nil {
			t.Fatal(err)
		}
		h.success(t, h.reconcile(t, c, ModeApply))
		if b, _ := os.ReadFile(down.HBAPath()); !strings.Contains(string(b), "ha1 while a member is down") {
			t.Errorf("%s did not get the rule once back", down.Name())
		}
	})

	t.Run("PendingRestartReported", func(t *testing.T) {
		c := h.spec(t, `pg_parameters: {shared_buffers: "144MB"}`)
		o := h.reconcile(t, c, ModeApply)
		if o.Result == nil || o.Verdict != plan.VerdictSuccess {
			t.Fatalf("apply: %s %s", o.Verdict, o.Message)
		}
		pending := func() []string {
			o := h.reconcile(t, c, ModePlan)
			var out []string
			for _, ch := range o.Plan.Changes {
				if ch.Kind == plan.KindPatroni && ch.Object == "pending_restart" && ch.RequiresRestart {
					out = append(out, ch.Instance)
				}
			}
			slices.Sort(out)
			return out
		}
		waitFor(t, h.ctx(t), "Patroni's pending_restart on both members", func() bool { return len(pending()) == 2 })
		leader, err := pc.Leader(h.ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		replica := otherThan(pc, leader)
		cl, err := patroni.New(patroni.Options{Username: pc.APIUser, Password: model.NewSecret(pc.APIPassword)})
		if err != nil {
			t.Fatal(err)
		}

		// reconciler_restart: scheduled asks Patroni to restart the replica
		// in the window, never the leader.
		window := time.Now().UTC().Add(5 * time.Minute).Format("15:04")
		sched := h.spec(t, `pg_parameters: {shared_buffers: "144MB"}
reconciler_restart: "scheduled"
reconciler_restart_window: "`+window+`"`)
		o = h.reconcile(t, sched, ModeApply)
		if len(o.Restarts) != 1 || o.Restarts[0].Instance != replica.Name() || o.Restarts[0].Err != nil || o.Restarts[0].At.Format("15:04") != window {
			t.Fatalf("restarts asked: %+v (window %s, replica %s)", o.Restarts, window, replica.Name())
		}
		view, err := cl.View(h.ctx(t), []string{leader.APIURL()})
		if err != nil {
			t.Fatal(err)
		}
		if m := view.Member(replica.Name()); m == nil || m.ScheduledRestart == nil {
			t.Errorf("Patroni has no restart scheduled for %s: %+v", replica.Name(), m)
		}
		if m := view.Member(leader.Name()); m == nil || m.ScheduledRestart != nil {
			t.Errorf("the leader %s got a restart: %+v", leader.Name(), m)
		}
		if o := h.reconcile(t, sched, ModeApply); len(o.Restarts) != 0 {
			t.Errorf("a scheduled restart was asked again: %+v", o.Restarts)
		}
		if err := cl.CancelRestart(h.ctx(t), replica.APIURL()); err != nil {
			t.Fatal(err)
		}
		if res, err := cl.Restart(h.ctx(t), replica.APIURL(), patroni.RestartRequest{}); err != nil || res != patroni.Restarted {
			t.Fatalf("restart %s: %v %v", replica.Name(), res, err)
		}
		waitFor(t, h.ctx(t), "the pending restart of "+replica.Name()+" to clear", func() bool {
			p := pending()
			return len(p) == 1 && p[0] == leader.Name()
		})
	})
}

// haEnv is the Patroni cluster of TestPatroni and how its tests reach it.
type haEnv struct {
	t     *testing.T
	pc    *patronienv.Cluster
	first *patronienv.Member // the member the inventory calls primary
}

func (h *haEnv) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// spec is the cluster as a Pigsty inventory installed it (the first member
// primary), with vars added.
func (h *haEnv) spec(t *testing.T, vars string) *model.Cluster {
	t.Helper()
	return loadCluster(t, h.pc.PigstySpec("pg_default_privileges: []\n"+vars), h.pc.Name)
}

func (h *haEnv) dialer() *dbconn.Dialer {
	return dbconn.New(dbconn.Settings{User: h.pc.SuperUser, Password: model.NewSecret(h.pc.SuperPassword),
		SSLMode: "verify-full", SSLRootCert: h.pc.CACertFile}, nil)
}

func (h *haEnv) options(m Mode) Options {
	files := map[string]string{}
	for _, mem := range h.pc.Members() {
		files[mem.Name()] = mem.ConfigFile
	}
	return Options{Mode: m, HBA: apply.NewLocalWriter(), Provenance: testProvenance,
		Patroni: &PatroniAccess{CAFile: h.pc.CACertFile, ConfigPath: func(in *model.Instance) string { return files[in.Name()] }}}
}

func (h *haEnv) reconcile(t *testing.T, c *model.Cluster, m Mode) Outcome {
	t.Helper()
	o, err := Cluster(h.ctx(t), Target{Cluster: c, Dialer: h.dialer()}, h.options(m))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (h *haEnv) success(t *testing.T, o Outcome) {
	t.Helper()
	if o.Verdict != plan.VerdictSuccess || !o.CommitApplied() {
		t.Fatalf("reconcile: %s: %s (err %v)", o.Verdict, o.Message, o.Err)
	}
}

func (h *haEnv) value(t *testing.T, m *patronienv.Member, sql string) string {
	t.Helper()
	conn, err := m.Admin(h.ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var v any
	if err := conn.QueryRow(h.ctx(t), sql).Scan(&v); err != nil {
		t.Fatalf("%s on %s: %v", sql, m.Name(), err)
	}
	return fmt.Sprint(v)
}

func (h *haEnv) roleOn(t *testing.T, m *patronienv.Member, role string, want bool) {
	t.Helper()
	if got := h.value(t, m, "SELECT count(*) FROM pg_roles WHERE rolname = '"+role+"'") == "1"; got != want {
		t.Errorf("role %s on %s: exists %t, want %t", role, m.Name(), got, want)
	}
}

func otherThan(pc *patronienv.Cluster, m *patronienv.Member) *patronienv.Member {
	for _, o := range pc.Members() {
		if o != m {
			return o
		}
	}
	return nil
}

func reportsOf(cp plan.ClusterPlan) []string {
	var out []string
	for _, ch := range cp.Changes {
		if ch.Kind == plan.KindTopology || ch.Kind == plan.KindPatroni {
			out = append(out, string(ch.Kind)+" "+ch.Object+" "+ch.Instance+": "+ch.Reason)
		}
	}
	return out
}

func hasReport(cp plan.ClusterPlan, k plan.Kind, object string) bool {
	return hasReportOn(cp, k, object, "")
}

// hasReportOn: on instance, or on any when instance is "".
func hasReportOn(cp plan.ClusterPlan, k plan.Kind, object, instance string) bool {
	for _, ch := range cp.Changes {
		if ch.Kind == k && ch.Object == object && ch.Action == plan.ActionReport && (instance == "" || ch.Instance == instance) {
			return true
		}
	}
	return false
}

// waitFor polls cond every 200 ms until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("wait for %s: %v", what, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
