package apply_test

import (
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

func parameter(instance, name, value string) plan.Change {
	return plan.Change{Kind: plan.KindParameter, Action: plan.ActionChange, Object: name, Cluster: env.Name, Instance: instance,
		Statements: []plan.Statement{{SQL: "ALTER SYSTEM SET " + name + " = " + quote(value), NoTx: true}},
		Intent:     plan.Intent{Parameter: &plan.ParameterChange{Name: name, Value: model.NewSecret(value)}}}
}

// TestParameters (promise P11; case S08; docs/promises.md): sighup, user and superuser-backend parameters
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

// secretParameter is a parameter change as package diff plans one whose
// value may hold a credential: the value is the statement's Password.
func secretParameter(instance, name, value string) plan.Change {
	return plan.Change{Kind: plan.KindParameter, Action: plan.ActionChange, Object: name, Cluster: env.Name, Instance: instance,
		Before: model.Redacted, After: model.Redacted,
		Statements: []plan.Statement{{SQL: "ALTER SYSTEM SET " + ident(name) + " = " + plan.PasswordPlaceholder,
			Password: model.NewSecret(value), NoTx: true}},
		Intent: plan.Intent{Parameter: &plan.ParameterChange{Name: name, Value: model.NewSecret(value)}}}
}

// TestSecretParameter (promise P12; docs/promises.md): parameter values that may hold a credential
// are written, but neither the change log, the apply's log (of a dry run
// too) nor the outcomes and their errors show them.
func TestSecretParameter(t *testing.T) {
	f := newFixture(t)
	secret := "pw-" + rand.Text()
	conninfo := "host=10.0.0.9 user=replicator password=" + secret // the primary is not in recovery: never used
	// archive_mode is off: never run, and pg_settings shows "(disabled)",
	// so the change fails in readBack, whose error must not quote it.
	archive := "scp %p backup@10.0.0.9:/wal/%f # password=" + secret
	changes := []plan.Change{secretParameter(primaryName(), "primary_conninfo", conninfo),
		secretParameter(primaryName(), "archive_command", archive)}
	res := f.apply(changes...)
	if o := res.Outcomes[0]; o.Status != plan.StatusApplied {
		t.Fatalf("primary_conninfo: %s (%s)", o.Status, o.Error)
	}
	var got string
	queryRow(t, env.Primary, "postgres", "SELECT setting FROM pg_settings WHERE name = 'primary_conninfo'", nil, &got)
	if got != conninfo {
		t.Fatalf("primary_conninfo is %q", got)
	}
	f.opts.DryRun = true
	dry, err := f.applyTo(t.Context(), f.target(), plan.ClusterPlan{Name: env.Name, Changes: changes}, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	rows := f.changeLog()
	if len(rows) != 2 || !strings.Contains(rows[0].Statement, model.Redacted) {
		t.Fatalf("change log: %+v", rows)
	}
	if !strings.Contains(f.logs.String(), "would apply change") {
		t.Fatal("the dry run logged nothing: the leak check would prove nothing")
	}
	// The apply's own sessions log nothing of the value. (PostgreSQL's
	// postmaster itself logs 'parameter "primary_conninfo" changed to
	// "…"' at every reload: no client setting prevents that, which is why
	// credentials belong in a passfile, not in a parameter.)
	sessions := f.serverLines(env.Primary)
	if !strings.Contains(strings.Join(sessions, "\n"), "pg_reload_conf") {
		t.Fatal("the server log shows none of the apply's statements: the leak check would prove nothing")
	}
	for where, text := range map[string]string{
		"change log": fmt.Sprintf("%+v", rows), "apply log": f.logs.String(),
		"outcomes":                          fmt.Sprintf("%+v %#v %+v %#v", res, res, dry, dry),
		"server log (the apply's sessions)": strings.Join(sessions, "\n"),
	} {
		if strings.Contains(text, secret) {
			t.Errorf("%s shows a credential", where)
		}
	}
}

// TestParameterWrittenNotReloaded: a value written with ALTER SYSTEM that
// the reload did not make live fails, saying that it is written (it takes
// effect at the next reload). Here the login may ALTER SYSTEM (PostgreSQL
// 15 GRANT ALTER SYSTEM ON PARAMETER) but not call pg_reload_conf().
func TestParameterWrittenNotReloaded(t *testing.T) {
	if env.Major < 15 {
		t.Skipf("PostgreSQL %d: only superusers may ALTER SYSTEM, and they may reload", env.Major)
	}
	f := newFixture(t)
	pw := rand.Text()
	exec(t, "postgres", "CREATE ROLE param_bot LOGIN PASSWORD "+quote(pw),
		"GRANT ALTER SYSTEM ON PARAMETER work_mem TO param_bot",
		// The change log: to create it, or to write the one an earlier test created.
		"GRANT CREATE ON DATABASE postgres TO param_bot", "GRANT "+ident(env.SuperUser)+" TO param_bot")
	if err := env.WaitReplay(t.Context()); err != nil { // the apply logs in to the replica too
		t.Fatal(err)
	}
	f.dialer = dialerAs("param_bot", pw).WithCommit(f.commit)
	res := f.apply(parameter(primaryName(), "work_mem", "8MB"))
	o := res.Outcomes[0]
	if o.Status != plan.StatusFailed || o.SQLState != "42501" ||
		!strings.HasPrefix(o.Error, "written to postgresql.auto.conf but not reloaded: ") {
		t.Fatalf("%s (%s, sqlstate %q)", o.Status, o.Error, o.SQLState)
	}
}
