package chaos

import (
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// cluster is the primary every fault test of this package uses (no
// replica: a restarted primary must not race a replica's reconnection).
var cluster *testenv.Cluster

func TestMain(m *testing.M) {
	testenv.Main(m, testenv.Options{Name: "pg-chaos", BaseIP: 141, Replicas: -1}, func(c *testenv.Cluster) { cluster = c })
}
