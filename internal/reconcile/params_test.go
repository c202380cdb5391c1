package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// sessionParams are the parameters the reconciler's own sessions run a
// value of their own for (the dialer sets them: the spec values are the
// dialer's, so a plan judged by the session would find them in sync), and
// two that only the role or the database can give a session. other is a
// second value, for drift.
func sessionParams() []struct{ name, spec, other, fresh string } {
	params := []struct{ name, spec, other, fresh string }{
		{"idle_in_transaction_session_timeout", "10min", "1h", "0ms"},
		{"statement_timeout", "5min", "1min", "0ms"},
		{"lock_timeout", "10s", "1min", "0ms"},
		{"idle_session_timeout", "0", "1h", ""}, // the server's default: in sync on a fresh server
		{"tcp_keepalives_idle", "30", "60", "0s"},
		{"tcp_keepalives_interval", "10", "20", "0s"},
		{"tcp_keepalives_count", "6", "3", "0"},
		{"application_name", "pgreconciler", "someone-else", ""},
		{"work_mem", "8MB", "16MB", "4096kB"},
		{"log_min_duration_statement", "250ms", "1s", "0ms"},
	}
	if cluster.Major < 14 { // idle_session_timeout is new in 14
		params = slices.DeleteFunc(params, func(p struct{ name, spec, other, fresh string }) bool {
			return p.name == "idle_session_timeout"
		})
	}
	return params
}

// sessionParamsVars sets the session parameters in pg_parameters, to
// their spec values or to the other ones.
func sessionParamsVars(other bool) string {
	var kv []string
	for _, p := range sessionParams() {
		v := p.spec
		if other {
			v = p.other
		}
		kv = append(kv, fmt.Sprintf("%s: %q", p.name, v))
	}
	return "pg_parameters: {" + strings.Join(kv, ", ") + "}"
}

// wantParameterChanges checks that the plan holds exactly one parameter
// change for each instance and name in want (name → Before), and no other
// drift.
func wantParameterChanges(t *testing.T, cp plan.ClusterPlan, want map[string]map[string]string) {
	t.Helper()
	got := map[string]map[string]string{}
	for _, ch := range driftOf(cp) {
		if ch.Kind != plan.KindParameter || ch.Action != plan.ActionChange {
			t.Errorf("unexpected drift: %s %s %s on %s: %s → %s (%s)", ch.Action, ch.Kind, ch.Object, ch.Instance, ch.Before, ch.After, ch.Reason)
			continue
		}
		if got[ch.Instance] == nil {
			got[ch.Instance] = map[string]string{}
		}
		if _, dup := got[ch.Instance][ch.Object]; dup {
			t.Errorf("%s planned twice on %s", ch.Object, ch.Instance)
		}
		got[ch.Instance][ch.Object] = ch.Before
	}
	for _, s := range cluster.Servers() {
		in := s.Name()
		for name, before := range want[in] {
			if b, ok := got[in][name]; !ok {
				t.Errorf("%s on %s: not planned", name, in)
			} else if b != before {
				t.Errorf("%s on %s: planned from %q, want %q", name, in, b, before)
			}
		}
		for name := range got[in] {
			if _, ok := want[in][name]; !ok {
				t.Errorf("%s on %s: planned, want in sync", name, in)
			}
		}
	}
}

// alterEach runs "<prefix> name = value" for each session parameter (or
// those of them named in only), with its spec or its other value.
func alterEach(t *testing.T, s *testenv.Server, prefix string, other bool, only ...string) {
	t.Helper()
	for _, p := range sessionParams() {
		if len(only) > 0 && !slices.Contains(only, p.name) {
			continue
		}
		v := p.spec
		if other {
			v = p.other
		}
		s.MustLocal(t, "postgres", fmt.Sprintf("%s %s = '%s'", prefix, p.name, v))
	}
}

func reloadAndReplay(t *testing.T, servers ...*testenv.Server) {
	t.Helper()
	for _, s := range servers {
		if err := s.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cluster.WaitReplay(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// converge applies, then checks that a re-plan is clean and that a second
// apply applies nothing and sends nothing that modifies (the server logs
// witness it).
func converge(t *testing.T, vars string) {
	t.Helper()
	c := loadSpec(t, cluster.PigstySpec(vars))
	applyAll(t, c)
	if left := driftOf(first(planOf(t, c))); len(left) > 0 {
		t.Fatalf("not converged after one apply:%s", describe(left))
	}
	var marks []logMark
	for _, s := range cluster.Servers() {
		marks = append(marks, markLog(t, s))
	}
	for _, o := range applyAll(t, c).Outcomes {
		if o.Status == plan.StatusApplied {
			t.Fatalf("second apply changed %s %s on %s", o.Change.Kind, o.Change.Object, o.Change.Instance)
		}
	}
	for _, m := range marks {
		for _, q := range m.statements(t) {
			if modifying.MatchString(q) {
				t.Errorf("%s: the second apply sent: %s", m.s.Name(), q)
			}
		}
	}
}

// TestParametersJudgedByServer: parameters are planned from what a new
// session gets from the server's configuration, never from the values
// the reconciler's own session runs — its startup parameters, its role's
// settings, its database's settings — and apply reads back the server's
// value: each parameter the spec sets is planned exactly where the server
// differs, applied, and then in sync; a second apply changes nothing.
func TestParametersJudgedByServer(t *testing.T) {
	cluster.ResetForReconciler(t)
	converge(t, "") // everything but the parameters
	vars := sessionParamsVars(false)
	c := loadSpec(t, cluster.PigstySpec(vars))
	primary, replica := cluster.Primary, cluster.Replicas[0]
	names := func(value func(spec, other, fresh string) string, skip ...string) map[string]string {
		m := map[string]string{}
		for _, p := range sessionParams() {
			if !slices.Contains(skip, p.name) {
				m[p.name] = value(p.spec, p.other, p.fresh)
			}
		}
		return m
	}
	fresh := names(func(_, _, f string) string { return f }, "idle_session_timeout")
	drifted := names(func(_, o, _ string) string { return displayed(o) })

	t.Run("set in the spec", func(t *testing.T) {
		wantParameterChanges(t, first(planOf(t, c)), map[string]map[string]string{primary.Name(): fresh, replica.Name(): fresh})
		converge(t, vars)
		for _, s := range cluster.Servers() {
			for _, p := range sessionParams() {
				if p.name == "application_name" || strings.HasPrefix(p.name, "tcp_keepalives_") {
					continue // the harness session sets its own; over a unix socket SHOW says 0
				}
				if got := show(t, s, p.name); got != shown(p.spec) {
					t.Errorf("%s on %s: a new session gets %q, want %q", p.name, s.Name(), got, shown(p.spec))
				}
			}
		}
	})
	t.Run("drifted on the server", func(t *testing.T) {
		alterEach(t, primary, "ALTER SYSTEM SET", true)
		reloadAndReplay(t, primary)
		wantParameterChanges(t, first(planOf(t, c)), map[string]map[string]string{primary.Name(): drifted})
		converge(t, vars)
	})
	t.Run("written but not reloaded", func(t *testing.T) {
		// A lost reload (promise P14; docs/promises.md): the files are newer than the last load, so
		// the server's value of a parameter the reconciler's sessions run
		// a value of their own for cannot be told; it is written again and
		// reloaded.
		var dialers []string
		unknown := map[string]string{}
		for _, p := range sessionParams() {
			if p.name != "work_mem" && p.name != "log_min_duration_statement" {
				dialers = append(dialers, p.name)
				unknown[p.name] = "unknown"
			}
		}
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 10*time.Millisecond))) // pg_stat_file has whole seconds
		alterEach(t, primary, "ALTER SYSTEM SET", true, dialers...)
		wantParameterChanges(t, first(planOf(t, c)), map[string]map[string]string{primary.Name(): unknown})
		converge(t, vars)
	})
	for _, where := range []struct{ name, prefix string }{
		{"set on the reconciler's role", "ALTER ROLE " + cluster.SuperUser + " SET"},
		{"set on the database", "ALTER DATABASE postgres SET"},
	} {
		t.Run(where.name, func(t *testing.T) {
			// Another value for the reconciler's sessions only: the
			// server is in sync.
			alterEach(t, primary, where.prefix, true)
			reloadAndReplay(t)
			if d := driftOf(first(planOf(t, c))); len(d) > 0 {
				t.Fatalf("a value of the reconciler's sessions only is drift:%s", describe(d))
			}
			// The spec's value for the reconciler's sessions only, another
			// on the replica's server: drift on the replica.
			alterEach(t, primary, where.prefix, false)
			alterEach(t, replica, "ALTER SYSTEM SET", true)
			reloadAndReplay(t, replica)
			wantParameterChanges(t, first(planOf(t, c)), map[string]map[string]string{replica.Name(): drifted})
			converge(t, vars)
			primary.MustLocal(t, "postgres", strings.Replace(where.prefix, " SET", " RESET ALL", 1))
		})
	}
}

// shown is how SHOW prints a spec value here.
func shown(v string) string { return v }

// displayed is how a plan shows the server's value v (pg_settings' base
// unit) of the parameters above.
func displayed(v string) string {
	switch v {
	case "1h":
		return "3600000ms"
	case "1min":
		return "60000ms"
	case "1s":
		return "1000ms"
	case "16MB":
		return "16384kB"
	case "60", "20":
		return v + "s"
	}
	return v
}

// show is what a new session gets: SHOW over the unix socket as the dbsu,
// who has no settings of its own.
func show(t *testing.T, s *testenv.Server, name string) string {
	t.Helper()
	v, err := s.LocalValue(context.Background(), "postgres", "SHOW "+name)
	if err != nil {
		t.Fatalf("SHOW %s: %v", name, err)
	}
	return v
}
