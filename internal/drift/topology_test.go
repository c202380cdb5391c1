package drift

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

const topologyHeader = `
# HELP pgreconciler_cluster_leader 1 for the member that leads a cluster (Patroni's leader key, confirmed by pg_is_in_recovery(); or the catalog's one primary), 0 for the others; no 1 when no leader is established.
# TYPE pgreconciler_cluster_leader gauge
`

const findingsHeader = `
# HELP pgreconciler_topology_findings Disagreements between the inventory's pg_role, Patroni and the catalog at the last reconcile, by finding (inventory_role, no_leader, extra_primary …).
# TYPE pgreconciler_topology_findings gauge
`

const patroniPendingHeader = `
# HELP pgreconciler_patroni_pending_restart 1 when Patroni reports that a member's PostgreSQL waits for a restart to apply a parameter, else 0.
# TYPE pgreconciler_patroni_pending_restart gauge
`

// TestTopologyRecorder: the leader series follow a switchover, findings
// and members no longer present lose their series, a nil topology (the
// reconcile did not get that far) changes nothing, and a cluster that
// left the spec loses everything.
func TestTopologyRecorder(t *testing.T) {
	reg := prometheus.NewRegistry()
	r, err := NewTopologyRecorder(reg)
	if err != nil {
		t.Fatal(err)
	}
	member := func(name string, leader, pending bool) model.TopologyMember {
		return model.TopologyMember{Instance: name, Leader: leader, Patroni: &model.PatroniMember{Name: name, PendingRestart: pending}}
	}
	r.Observe("pg-test", &model.Topology{Leader: "pg-test-1", Members: []model.TopologyMember{
		member("pg-test-1", true, false), member("pg-test-2", false, true), member("pg-test-3", false, false)}})
	compare(t, reg, topologyHeader+`
pgreconciler_cluster_leader{cluster="pg-test",instance="pg-test-1"} 1
pgreconciler_cluster_leader{cluster="pg-test",instance="pg-test-2"} 0
pgreconciler_cluster_leader{cluster="pg-test",instance="pg-test-3"} 0
`+patroniPendingHeader+`
pgreconciler_patroni_pending_restart{cluster="pg-test",instance="pg-test-1"} 0
pgreconciler_patroni_pending_restart{cluster="pg-test",instance="pg-test-2"} 1
pgreconciler_patroni_pending_restart{cluster="pg-test",instance="pg-test-3"} 0
`, "pgreconciler_cluster_leader", "pgreconciler_patroni_pending_restart", "pgreconciler_topology_findings")

	// A switchover to pg-test-2; pg-test-3 was removed; the inventory lags.
	sw := &model.Topology{Leader: "pg-test-2", Members: []model.TopologyMember{member("pg-test-1", false, false), member("pg-test-2", true, false)},
		Findings: []model.TopologyFinding{{Kind: model.FindingInventoryRole, Instance: "pg-test-1"}, {Kind: model.FindingInventoryRole, Instance: "pg-test-2"}}}
	r.Observe("pg-test", sw)
	r.Observe("pg-test", nil)
	compare(t, reg, topologyHeader+`
pgreconciler_cluster_leader{cluster="pg-test",instance="pg-test-1"} 0
pgreconciler_cluster_leader{cluster="pg-test",instance="pg-test-2"} 1
`+findingsHeader+`
pgreconciler_topology_findings{cluster="pg-test",kind="inventory_role"} 2
`+patroniPendingHeader+`
pgreconciler_patroni_pending_restart{cluster="pg-test",instance="pg-test-1"} 0
pgreconciler_patroni_pending_restart{cluster="pg-test",instance="pg-test-2"} 0
`, "pgreconciler_cluster_leader", "pgreconciler_patroni_pending_restart", "pgreconciler_topology_findings")

	// No leader (a failover in progress): no 1 anywhere; the finding changes.
	r.Observe("pg-test", &model.Topology{Members: []model.TopologyMember{member("pg-test-1", false, false), member("pg-test-2", false, false)},
		Findings: []model.TopologyFinding{{Kind: model.FindingNoLeader}}})
	compare(t, reg, topologyHeader+`
pgreconciler_cluster_leader{cluster="pg-test",instance="pg-test-1"} 0
pgreconciler_cluster_leader{cluster="pg-test",instance="pg-test-2"} 0
`+findingsHeader+`
pgreconciler_topology_findings{cluster="pg-test",kind="no_leader"} 1
`, "pgreconciler_cluster_leader", "pgreconciler_topology_findings")

	r.ForgetCluster("pg-test")
	compare(t, reg, "", "pgreconciler_cluster_leader", "pgreconciler_patroni_pending_restart", "pgreconciler_topology_findings")
}
