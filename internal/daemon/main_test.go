package daemon

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// cluster is the primary + replica every test of this package uses;
// tests Reset it when they start. The daemon under test calls it pg-e2e.
var cluster *testenv.Cluster

func TestMain(m *testing.M) {
	c, err := testenv.StartCluster(testenv.Options{Name: "pg-e2e", BaseIP: 91})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start test cluster:", err)
		os.Exit(1)
	}
	cluster = c
	code := m.Run()
	_ = c.Close()
	os.Exit(code)
}

// reset brings the shared cluster back to its bootstrap state, without a
// change log, and points the libpq environment (the daemon's and the
// CLI's, which the tests start) at it as the reconciler's login.
func reset(t *testing.T) {
	t.Helper()
	if err := cluster.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	sql(t, cluster.Primary, "postgres", "DROP SCHEMA IF EXISTS pgreconciler CASCADE")
	cluster.ReconcilerEnv(t)
}

// sql runs SQL as the dbsu over the primary's or replica's socket.
func sql(t *testing.T, s *testenv.Server, db, stmt string) {
	t.Helper()
	out, err := s.Psql("-v", "ON_ERROR_STOP=1", "-d", db, "-c", stmt)
	if err != nil {
		t.Fatalf("psql %q: %v\n%s", stmt, err, out)
	}
}
