package reconcile

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/spec"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// cluster is the primary + replica every test of this package uses;
// tests Reset it when they start.
var cluster *testenv.Cluster

func TestMain(m *testing.M) {
	c, err := testenv.StartCluster(testenv.Options{Name: "pg-e2e", BaseIP: 71})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start test cluster:", err)
		os.Exit(1)
	}
	cluster = c
	code := m.Run()
	_ = c.Close()
	os.Exit(code)
}

// reset brings the shared cluster back to its bootstrap state and points
// the libpq environment at it as the reconciler's login (dbuser_dba over
// SSL, as Pigsty's "admin @ everywhere with ssl" rule allows).
func reset(t *testing.T) {
	t.Helper()
	if err := cluster.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The change log belongs to the reconciler's role, which Reset keeps.
	sql(t, cluster.Primary, "postgres", "DROP SCHEMA IF EXISTS pgreconciler CASCADE")
	t.Setenv("PGUSER", cluster.SuperUser)
	t.Setenv("PGPASSWORD", cluster.SuperPassword)
	t.Setenv("PGSSLMODE", "verify-full")
	t.Setenv("PGSSLROOTCERT", cluster.CACertFile)
}

// specFor is a spec for the test cluster: loopback is the intranet, so
// Pigsty's default HBA rules let the replica stream and the reconciler
// log in; vars are spliced into the cluster's vars.
func specFor(vars string) string {
	return fmt.Sprintf(`package fleet

all: vars: {admin_ip: "127.0.0.1", node_firewall_intranet: ["127.0.0.0/8"]}
all: children: infra: hosts: "127.0.0.1": infra_seq: 1
all: children: "pg-e2e": {
	hosts: {
		"%s": {pg_seq: 1, pg_role: "primary"}
		"%s": {pg_seq: 2, pg_role: "replica"}
	}
	vars: {
		pg_cluster: "pg-e2e"
		pg_port: %d
		%s
	}
}
`, cluster.Primary.Addr, cluster.Replicas[0].Addr, cluster.Port, vars)
}

func loadSpec(t *testing.T, src string) *model.Cluster {
	t.Helper()
	l, err := spec.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.Load(fstest.MapFS{"fleet.cue": {Data: []byte(src)}}, spec.Options{Profile: "baseline"})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	return res.Desired.Cluster("pg-e2e")
}

func dialer() *dbconn.Dialer { return dbconn.New(dbconn.Settings{}, nil) }

// sql runs SQL as the dbsu over the primary's or replica's socket.
func sql(t *testing.T, s *testenv.Server, db, stmt string) {
	t.Helper()
	if err := s.LocalExec(context.Background(), db, stmt); err != nil {
		t.Fatalf("run %q: %v", stmt, err)
	}
}

func hasLine(s, sub string) bool {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}
