package apply_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

func parameter(instance, name, value string) plan.Change {
	return plan.Change{Kind: plan.KindParameter, Action: plan.ActionChange, Object: name, Cluster: env.Name, Instance: instance,
		Statements: []plan.Statement{{SQL: "ALTER SYSTEM SET " + name + " = " + quote(value), NoTx: true}},
		Parameter:  &plan.ParameterChange{Name: name, Value: value}}
}

// TestParameters (S08, P11): sighup, user and superuser-backend parameters
// are live after one reload per instance, postmaster parameters are
// reported pending without a restart, and values that would keep the
// server from starting are refused before anything is written.
func TestParameters(t *testing.T) {
	f := newFixture(t)
	started := map[string]time.Time{}
	for _, s := range env.Servers() {
		var at time.Time
		queryRow(t, s, "postgres", "SELECT pg_postmaster_start_time()", nil, &at)
		started[s.Name()] = at
	}
	p, r := primaryName(), replicaName()
	res := f.apply(
		parameter(p, "log_checkpoints", "on"),                                           // sighup
		parameter(p, "work_mem", "8MB"),                                                 // user
		parameter(p, "shared_buffers", "256MB"),                                         // postmaster
		parameter(p, "shared_preload_libraries", "pg_stat_statements, auto_explain"),    // postmaster, libraries exist
		parameter(p, "shared_buffers", "lots"),                                          // refused: not a size
		parameter(p, "no_such_parameter", "1"),                                          // refused: unknown
		parameter(p, "shared_preload_libraries", "pg_stat_statements, no_such_library"), // refused: not installed
		parameter(r, "log_connections", "on"),                                           // superuser-backend: new sessions
		parameter(r, "log_autovacuum_min_duration", "1min"),                             // sighup
	)
	want := []plan.Status{plan.StatusApplied, plan.StatusApplied, plan.StatusApplied, plan.StatusApplied,
		plan.StatusRefused, plan.StatusRefused, plan.StatusRefused, plan.StatusApplied, plan.StatusApplied}
	for i, o := range res.Outcomes {
		if o.Status != want[i] {
			t.Errorf("%s on %s: %s %q, want %s", o.Change.Object, o.Change.Instance, o.Status, o.Error, want[i])
		}
		if pending := i == 2 || i == 3; o.Pending != pending {
			t.Errorf("%s on %s: pending %v, want %v", o.Change.Object, o.Change.Instance, o.Pending, pending)
		}
	}
	if e := res.Outcomes[6].Error; !strings.Contains(e, `"no_such_library"`) || !strings.Contains(e, "not installed") {
		t.Errorf("missing library refusal: %q", e)
	}
	if e := res.Outcomes[4].Error; !strings.Contains(e, "invalid value") {
		t.Errorf("invalid value refusal: %q", e)
	}

	check := func(s *testenv.Server, name, want string, pending bool) {
		t.Helper()
		var got string
		var pend bool
		queryRow(t, s, "postgres", "SELECT setting, pending_restart FROM pg_settings WHERE name = $1", []any{name}, &got, &pend)
		if got != want || pend != pending {
			t.Errorf("%s on %s: %s (pending restart %v), want %s (%v)", name, s.Name(), got, pend, want, pending)
		}
	}
	check(env.Primary, "log_checkpoints", "on", false)
	check(env.Primary, "work_mem", "8192", false)
	check(env.Primary, "shared_buffers", "16384", true) // unchanged until a restart
	check(env.Replicas[0], "log_connections", "on", false)
	check(env.Replicas[0], "log_autovacuum_min_duration", "60000", false)
	check(env.Replicas[0], "work_mem", "4096", false) // the primary's parameters stay on the primary
	for _, s := range env.Servers() {
		var at time.Time
		queryRow(t, s, "postgres", "SELECT pg_postmaster_start_time()", nil, &at)
		if !at.Equal(started[s.Name()]) {
			t.Errorf("%s was restarted", s.Name())
		}
	}
	if rows := f.changeLog(); len(rows) != len(res.Outcomes) {
		t.Errorf("%d change-log rows for %d changes", len(rows), len(res.Outcomes))
	}
}
