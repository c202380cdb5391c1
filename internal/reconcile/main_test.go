package reconcile

import (
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// cluster is the primary + replica every test of this package uses;
// tests start with cluster.ResetForReconciler.
var cluster *testenv.Cluster

func TestMain(m *testing.M) {
	testenv.Main(m, testenv.Options{Name: "pg-e2e", BaseIP: 71}, func(c *testenv.Cluster) { cluster = c })
}

func loadSpec(t *testing.T, src string) *model.Cluster {
	t.Helper()
	return loadCluster(t, src, "pg-e2e")
}

// loadCluster loads a CUE spec and returns its cluster called name.
func loadCluster(t *testing.T, src, name string) *model.Cluster {
	t.Helper()
	res := loadResult(t, src)
	if err := res.Err(); err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	return res.Desired.Cluster(name)
}

func dialer() *dbconn.Dialer { return dbconn.New(dbconn.Settings{}, nil) }
