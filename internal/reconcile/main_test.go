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
// the libpq environment at it as the reconciler's login.
func reset(t *testing.T) {
	t.Helper()
	if err := cluster.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The change log belongs to the reconciler's role, which Reset keeps.
	sql(t, cluster.Primary, "postgres", "DROP SCHEMA IF EXISTS pgreconciler CASCADE")
	cluster.ReconcilerEnv(t)
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
	out, err := s.Psql("-v", "ON_ERROR_STOP=1", "-d", db, "-c", stmt)
	if err != nil {
		t.Fatalf("psql %q: %v\n%s", stmt, err, out)
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
