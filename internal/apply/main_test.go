package apply_test

import (
	"context"
	"crypto/rand"
	"log/slog"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// env is the package's one primary + replica cluster; tests Reset it.
var env *testenv.Cluster

func TestMain(m *testing.M) {
	testenv.Main(m, testenv.Options{Name: "pg-apply", BaseIP: 71}, func(c *testenv.Cluster) { env = c })
}

// fixture is what one test applies with.
type fixture struct {
	t       testing.TB
	commit  string
	cluster *model.Cluster
	dialer  *dbconn.Dialer
	logs    *testenv.SyncBuffer // the apply's slog output (JSON)
	opts    apply.Options
}

// newFixture resets the cluster and returns a fixture whose commit is
// unique to the test, so that server log lines and change-log rows of this
// test can be told apart.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	if err := env.Reset(t.Context()); err != nil {
		t.Fatal(err)
	}
	commit := strings.ToLower(rand.Text()) + "0123456789"
	logs := &testenv.SyncBuffer{}
	f := &fixture{
		t:       t,
		commit:  commit,
		cluster: modelCluster(),
		dialer:  dialerAs(env.SuperUser, env.SuperPassword).WithCommit(commit),
		logs:    logs,
	}
	f.opts = apply.Options{
		Provenance: model.Provenance{Commit: commit, Signer: "SHA256:test-signer", Author: "Test Author <test@example.com>"},
		Logger:     slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	return f
}

func dialerAs(user, password string) *dbconn.Dialer { return dialerTo(env, user, password) }

// dialerTo is a dialer to the servers of tc.
func dialerTo(tc *testenv.Cluster, user, password string) *dbconn.Dialer {
	return dbconn.New(dbconn.Settings{User: user, Password: model.NewSecret(password), SSLMode: "verify-full",
		SSLRootCert: tc.CACertFile}, nil)
}

func modelCluster() *model.Cluster { return modelClusterOf(env) }

// modelClusterOf is the model of the test cluster tc.
func modelClusterOf(tc *testenv.Cluster) *model.Cluster {
	c := &model.Cluster{Name: tc.Name, Globals: model.Globals{
		DBSU: "postgres", ReplicationUser: tc.ReplUser, AdminUser: tc.SuperUser, MonitorUser: tc.MonitorUser,
		PasswordEncryption: "scram-sha-256",
	}}
	for _, s := range tc.Servers() {
		role := model.RoleReplica
		if s.Primary {
			role = model.RolePrimary
		}
		c.Instances = append(c.Instances, &model.Instance{Cluster: tc.Name, Seq: s.Seq, IP: s.Addr, Role: role, Port: s.Port})
	}
	return c
}

func primaryName() string { return env.Primary.Name() }
func replicaName() string { return env.Replicas[0].Name() }

// target builds the apply target, with the live session and replication
// clients of every instance read the way inspect reads them (with the
// same login, but without the commit in application_name, so that
// serverLines shows only the apply's statements).
func (f *fixture) target() apply.Target {
	f.t.Helper()
	ctx := context.Background()
	live := map[string]*model.InstanceState{}
	inspector := f.dialer.WithCommit("")
	for _, in := range f.cluster.Instances {
		conn, err := inspector.Connect(ctx, in, "postgres")
		if err != nil {
			f.t.Fatal(err)
		}
		st := &model.InstanceState{Cluster: in.Cluster, Instance: in.Name(), Addr: in.IP, Port: in.Port}
		err = conn.QueryRow(ctx, `SELECT session_user, current_database(), coalesce(host(inet_client_addr()), ''),
			ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`).Scan(&st.Session.User, &st.Session.Database,
			&st.Session.ClientAddr, &st.Session.SSL)
		if err != nil {
			f.t.Fatal(err)
		}
		rows, _ := conn.Query(ctx, `SELECT r.usename, coalesce(host(r.client_addr), ''), s.ssl, r.state
			FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid)`)
		var rc model.ReplicationClient
		if _, err := pgx.ForEachRow(rows, []any{&rc.User, &rc.ClientAddr, &rc.SSL, &rc.State}, func() error {
			st.Replication = append(st.Replication, rc)
			return nil
		}); err != nil {
			f.t.Fatal(err)
		}
		conn.Close(ctx)
		live[in.Name()] = st
	}
	return apply.Target{Cluster: f.cluster, Dialer: f.dialer, Live: live}
}

// apply applies changes as one cluster plan and fails the test on a
// cluster-wide error.
func (f *fixture) apply(changes ...plan.Change) *plan.Result {
	f.t.Helper()
	res, err := f.applyTo(context.Background(), f.target(), plan.ClusterPlan{Name: env.Name, Changes: changes}, f.opts)
	if err != nil {
		f.t.Fatalf("apply: %v", err)
	}
	if len(res.Outcomes) != len(changes) {
		f.t.Fatalf("%d outcomes for %d changes", len(res.Outcomes), len(changes))
	}
	return res
}

// applyTo applies cp to tg as package reconcile does: under the apply
// lock, taken with tg's dialer (so its session carries the test's commit)
// when a change is to be executed, and released afterwards.
func (f *fixture) applyTo(ctx context.Context, tg apply.Target, cp plan.ClusterPlan, opts apply.Options) (*plan.Result, error) {
	if opts.Lock == nil && executes(cp, opts) {
		l, err := apply.AcquireLock(ctx, tg.Dialer, tg.Cluster)
		if err != nil {
			return nil, err
		}
		defer func() { _ = l.Release(context.WithoutCancel(ctx)) }()
		opts.Lock = l
	}
	return apply.Apply(ctx, tg, cp, opts)
}

// executes reports whether an apply of cp with opts would execute a change
// (and so needs the lock): not a dry run, and a change that is neither
// report-only nor held back.
func executes(cp plan.ClusterPlan, opts apply.Options) bool {
	for _, c := range cp.Changes {
		if !opts.DryRun && c.Action != plan.ActionReport && c.Action != plan.ActionNote && (opts.Hold == nil || opts.Hold(c) == "") {
			return true
		}
	}
	return false
}

// change is a cluster-wide change on the primary.
func change(kind plan.Kind, action plan.Action, object string, stmts ...plan.Statement) plan.Change {
	return plan.Change{Kind: kind, Action: action, Object: object, Cluster: env.Name, Instance: primaryName(), Statements: stmts}
}

// stmt is a statement in the postgres database; in one in database db.
func stmt(sql string) plan.Statement   { return plan.Statement{SQL: sql} }
func in(db, sql string) plan.Statement { return plan.Statement{SQL: sql, Database: db} }
func noTx(sql string) plan.Statement   { return plan.Statement{SQL: sql, NoTx: true} }
func ident(name string) string         { return pgx.Identifier{name}.Sanitize() }
func quote(s string) string            { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
func createRole(name, attrs string) plan.Change {
	return change(plan.KindRole, plan.ActionCreate, name, stmt("CREATE ROLE "+ident(name)+" "+attrs))
}

// roleChange is a role change with its intent (what the executor's guards
// read) and the statements given.
func roleChange(action plan.Action, name string, attrs plan.RoleAttrs, stmts ...plan.Statement) plan.Change {
	c := change(plan.KindRole, action, name, stmts...)
	c.Role = &plan.RoleChange{Name: name, Attrs: attrs}
	return c
}

// rendered is a cluster-wide change on the primary with the statements the
// diff engine renders from its intent.
func rendered(c plan.Change) plan.Change {
	c.Cluster, c.Instance = env.Name, primaryName()
	c.Statements = c.Render(150000)
	return c
}

// wantStatus fails the test unless every outcome has the wanted status.
func wantStatus(t testing.TB, res *plan.Result, want plan.Status) {
	t.Helper()
	for _, o := range res.Outcomes {
		if o.Status != want {
			t.Errorf("%s %s: %s (%s, sqlstate %q), want %s", o.Change.Kind, o.Change.Object, o.Status, o.Error, o.SQLState, want)
		}
	}
}

// queryRow runs a query on a server as the harness superuser.
func queryRow(t testing.TB, s *testenv.Server, db, sql string, args []any, dest ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := s.Connect(ctx, env.SuperUser, env.SuperPassword, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, sql, args...).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// exec runs statements on the primary as the harness superuser.
func exec(t testing.TB, db string, sqls ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := env.Primary.Connect(ctx, env.SuperUser, env.SuperPassword, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, sql := range sqls {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

// logRow is a change_log row as tests read it.
type logRow struct {
	Cluster, Instance, Kind, Action, Object, Statement, Commit, Signer, Author, Status, Error string
}

// changeLog returns the change-log rows of the fixture's commit, in order.
func (f *fixture) changeLog() []logRow {
	f.t.Helper()
	ctx := context.Background()
	conn, err := env.Primary.Connect(ctx, env.SuperUser, env.SuperPassword, "postgres")
	if err != nil {
		f.t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT cluster, instance, kind, action, object, statement, commit, signer, author,
		status, coalesce(error, '') FROM pgreconciler.change_log WHERE commit = $1 ORDER BY id`, f.commit)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[logRow])
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// serverLines returns the lines of the server's log written by the
// fixture's sessions (application_name pgreconciler@<commit12>).
func (f *fixture) serverLines(s *testenv.Server) []string {
	f.t.Helper()
	text, err := s.Log()
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, "pgreconciler@"+f.commit[:12]) {
			out = append(out, l)
		}
	}
	return out
}
