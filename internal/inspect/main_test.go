package inspect

import (
	"context"
	"maps"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// cluster is the primary + replica every test of the package shares; each
// test starts with cluster.Reset.
var cluster *testenv.Cluster

func TestMain(m *testing.M) {
	testenv.Main(m, testenv.Options{Name: "pg-inspect", BaseIP: 61}, func(c *testenv.Cluster) { cluster = c })
}

// fresh returns the shared cluster in its bootstrap state.
func fresh(tb testing.TB) *testenv.Cluster {
	tb.Helper()
	if err := cluster.Reset(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	return cluster
}

// testAppName is the application_name of the sessions Inspect reads with.
const testAppName = "pgreconciler-inspect-test"

// login is who inspects which server, every session traced by count.
type login struct {
	server         *testenv.Server
	user, password string
	count          *testenv.RoundTrips
	params         map[string]string // startup parameters of its own, as the reconciler's dialer sets some
}

func superuser(s *testenv.Server) login {
	return login{server: s, user: cluster.SuperUser, password: cluster.SuperPassword, count: &testenv.RoundTrips{}}
}

func monitor(s *testenv.Server) login {
	return login{server: s, user: cluster.MonitorUser, password: cluster.MonitorPassword, count: &testenv.RoundTrips{}}
}

// dial opens a traced TCP+SSL session to database db.
func (l login) dial(ctx context.Context, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(l.server.ConnString(l.user, l.password, db))
	if err != nil {
		return nil, err
	}
	cfg.RuntimeParams["application_name"] = testAppName
	maps.Copy(cfg.RuntimeParams, l.params)
	cfg.Tracer = l.count
	return pgx.ConnectConfig(ctx, cfg)
}

func (l login) options(dbs ...string) Options {
	return Options{Cluster: l.server.Cluster, Instance: l.server.Name(), Addr: l.server.Addr, Port: l.server.Port,
		Databases: dbs, Connect: l.dial}
}

// inspect runs Inspect on a session to postgres and returns its error,
// which may come with a state.
func (l login) inspect(tb testing.TB, dbs ...string) (*model.InstanceState, error) {
	tb.Helper()
	conn, err := l.dial(tb.Context(), "postgres")
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(context.Background())
	return Inspect(tb.Context(), conn, l.options(dbs...))
}

// mustInspect is inspect for a run that must read everything.
func (l login) mustInspect(tb testing.TB, dbs ...string) *model.InstanceState {
	tb.Helper()
	st, err := l.inspect(tb, dbs...)
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// execIn runs statements one by one as superuser in database db of s.
func execIn(tb testing.TB, s *testenv.Server, db string, stmts ...string) {
	tb.Helper()
	conn, err := s.Connect(tb.Context(), cluster.SuperUser, cluster.SuperPassword, db)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, sql := range stmts {
		if _, err := conn.Exec(tb.Context(), sql); err != nil {
			tb.Fatalf("%s: %v", sql, err)
		}
	}
}

// queryText runs a one-value query as superuser in database db of s.
func queryText(tb testing.TB, s *testenv.Server, db, sql string, args ...any) string {
	tb.Helper()
	conn, err := s.Connect(tb.Context(), cluster.SuperUser, cluster.SuperPassword, db)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(context.Background())
	var v string
	if err := conn.QueryRow(tb.Context(), sql, args...).Scan(&v); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	return v
}

func ptr[T any](v T) *T { return &v }
