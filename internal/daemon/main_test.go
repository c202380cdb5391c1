package daemon

import (
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// cluster is the primary + replica every test of this package uses;
// tests start with cluster.ResetForReconciler. The daemon under test
// calls it pg-e2e.
var cluster *testenv.Cluster

func TestMain(m *testing.M) {
	testenv.Main(m, testenv.Options{Name: "pg-e2e", BaseIP: 91}, func(c *testenv.Cluster) { cluster = c })
}
