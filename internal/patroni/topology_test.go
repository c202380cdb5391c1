package patroni

import (
	"slices"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// inventory is pg-test with pg-test-1 primary and two replicas.
func inventory() []*model.Instance {
	return []*model.Instance{
		{Cluster: "pg-test", Seq: 1, IP: "10.10.10.11", Port: 5432, Role: model.RolePrimary},
		{Cluster: "pg-test", Seq: 2, IP: "10.10.10.12", Port: 5432, Role: model.RoleReplica},
		{Cluster: "pg-test", Seq: 3, IP: "10.10.10.13", Port: 5432, Role: model.RoleReplica},
	}
}

// view builds GET /cluster from "name:role:state" triples.
func view(members ...string) *model.PatroniCluster {
	cl := &model.PatroniCluster{}
	for _, m := range members {
		f := strings.Split(m, ":")
		seq := f[0][len(f[0])-1:]
		cl.Members = append(cl.Members, model.PatroniMember{
			Name: f[0], Host: "10.10.10.1" + seq, Port: 5432,
			Role: model.PatroniRole(f[1]), State: model.PatroniState(f[2]), Timeline: 1,
		})
	}
	return cl
}

var (
	primary     = model.CatalogRecovery{Reachable: true}
	standby     = model.CatalogRecovery{Reachable: true, InRecovery: true}
	unreachable = model.CatalogRecovery{Error: "dial tcp 10.10.10.11:5432: connect: connection refused"}
)

func TestTopology(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       TopologyInput
		leader   string
		source   model.TopologySource
		running  []string
		findings []string // kind@instance
	}{{
		name: "healthy",
		in: TopologyInput{Managed: true,
			Patroni: view("pg-test-1:leader:running", "pg-test-2:replica:streaming", "pg-test-3:sync_standby:running"),
			Catalog: map[string]model.CatalogRecovery{"pg-test-1": primary, "pg-test-2": standby, "pg-test-3": standby}},
		leader: "pg-test-1", source: model.SourcePatroni,
		running: []string{"pg-test-1", "pg-test-2", "pg-test-3"},
	}, {
		name: "after a switchover the inventory's pg_role is reported, the leader followed",
		in: TopologyInput{Managed: true,
			Patroni: view("pg-test-1:replica:running", "pg-test-2:leader:running", "pg-test-3:replica:running"),
			Catalog: map[string]model.CatalogRecovery{"pg-test-1": standby, "pg-test-2": primary, "pg-test-3": standby}},
		leader: "pg-test-2", source: model.SourcePatroni,
		running:  []string{"pg-test-1", "pg-test-2", "pg-test-3"},
		findings: []string{"inventory_role@pg-test-1", "inventory_role@pg-test-2"},
	}, {
		name: "failover in progress: no leader key, nothing guessed",
		in: TopologyInput{Managed: true,
			Patroni: view("pg-test-1:replica:crashed", "pg-test-2:replica:running", "pg-test-3:replica:running"),
			Catalog: map[string]model.CatalogRecovery{"pg-test-1": unreachable, "pg-test-2": standby, "pg-test-3": standby}},
		running:  []string{"pg-test-2", "pg-test-3"},
		findings: []string{"no_leader@"},
	}, {
		name: "leader key taken but promotion not finished",
		in: TopologyInput{Managed: true,
			Patroni: view("pg-test-1:replica:stopped", "pg-test-2:leader:running", "pg-test-3:replica:running"),
			Catalog: map[string]model.CatalogRecovery{"pg-test-1": unreachable, "pg-test-2": standby, "pg-test-3": standby}},
		running:  []string{"pg-test-2", "pg-test-3"},
		findings: []string{"leader_in_recovery@pg-test-2"},
	}, {
		name: "old primary still out of recovery next to the new leader",
		in: TopologyInput{Managed: true,
			Patroni: view("pg-test-1:replica:running", "pg-test-2:leader:running", "pg-test-3:replica:running"),
			Catalog: map[string]model.CatalogRecovery{"pg-test-1": primary, "pg-test-2": primary, "pg-test-3": standby}},
		leader: "pg-test-2", source: model.SourcePatroni,
		running:  []string{"pg-test-1", "pg-test-2", "pg-test-3"},
		findings: []string{"extra_primary@pg-test-1", "inventory_role@pg-test-1", "inventory_role@pg-test-2"},
	}, {
		name: "leader unreachable from the reconciler",
		in: TopologyInput{Managed: true,
			Patroni: view("pg-test-1:leader:running", "pg-test-2:replica:running", "pg-test-3:replica:running"),
			Catalog: map[string]model.CatalogRecovery{"pg-test-1": unreachable, "pg-test-2": standby, "pg-test-3": standby}},
		running:  []string{"pg-test-2", "pg-test-3"},
		findings: []string{"leader_unreachable@pg-test-1", "member_state@pg-test-1"},
	}, {
		name: "Patroni unreachable: the catalog's one primary leads",
		in: TopologyInput{Managed: true, PatroniError: "connection refused",
			Catalog: map[string]model.CatalogRecovery{"pg-test-1": standby, "pg-test-2": primary, "pg-test-3": unreachable}},
		leader: "pg-test-2", source: model.SourceCatalog,
		running:  []string{"pg-test-1", "pg-test-2"},
		findings: []string{"patroni_unreachable@", "inventory_role@pg-test-1", "inventory_role@pg-test-2"},
	}, {
		name: "Patroni unreachable and two primaries: none chosen",
		in: TopologyInput{Managed: true,
			Catalog: map[string]model.CatalogRecovery{"pg-test-1": primary, "pg-test-2": primary, "pg-test-3": standby}},
		running:  []string{"pg-test-1", "pg-test-2", "pg-test-3"},
		findings: []string{"patroni_unreachable@", "extra_primary@pg-test-1", "extra_primary@pg-test-2"},
	}, {
		name: "not managed by Patroni: the catalog decides, no Patroni finding",
		in: TopologyInput{Managed: false, Patroni: view("pg-test-1:replica:running"),
			Catalog: map[string]model.CatalogRecovery{"pg-test-1": primary, "pg-test-2": standby, "pg-test-3": standby}},
		leader: "pg-test-1", source: model.SourceCatalog,
		running: []string{"pg-test-1", "pg-test-2", "pg-test-3"},
	}, {
		name:     "nothing inspected and no Patroni",
		in:       TopologyInput{Managed: false},
		findings: []string{"no_leader@"},
	}, {
		name: "catalog not inspected: Patroni alone, its states decide who runs",
		in: TopologyInput{Managed: true,
			Patroni: view("pg-test-1:leader:running", "pg-test-2:replica:stopped", "pg-test-3:replica:streaming")},
		leader: "pg-test-1", source: model.SourcePatroni,
		running: []string{"pg-test-1", "pg-test-3"},
	}, {
		name: "a member Patroni calls stopped answers, one it calls running does not",
		in: TopologyInput{Managed: true,
			Patroni: view("pg-test-1:leader:running", "pg-test-2:replica:stopped", "pg-test-3:replica:running"),
			Catalog: map[string]model.CatalogRecovery{"pg-test-1": primary, "pg-test-2": standby, "pg-test-3": unreachable}},
		leader: "pg-test-1", source: model.SourcePatroni,
		running:  []string{"pg-test-1", "pg-test-2"},
		findings: []string{"member_state@pg-test-2", "member_state@pg-test-3"},
	}, {
		name: "members missing on either side",
		in: TopologyInput{Managed: true,
			Patroni: view("pg-test-1:leader:running", "pg-test-2:replica:running", "pg-test-4:replica:running"),
			Catalog: map[string]model.CatalogRecovery{"pg-test-1": primary, "pg-test-2": standby}},
		leader: "pg-test-1", source: model.SourcePatroni,
		running:  []string{"pg-test-1", "pg-test-2", "pg-test-4"},
		findings: []string{"not_a_member@pg-test-3", "unknown_member@pg-test-4"},
	}, {
		name: "paused cluster is reported",
		in: TopologyInput{Managed: true,
			Patroni: func() *model.PatroniCluster {
				v := view("pg-test-1:leader:running", "pg-test-2:replica:running", "pg-test-3:replica:running")
				v.Paused = true
				return v
			}()},
		leader: "pg-test-1", source: model.SourcePatroni,
		running:  []string{"pg-test-1", "pg-test-2", "pg-test-3"},
		findings: []string{"paused@"},
	}, {
		name: "standby cluster: the standby leader is in recovery by design",
		in: TopologyInput{Managed: true,
			Patroni: view("pg-test-1:standby_leader:running", "pg-test-2:replica:running", "pg-test-3:replica:running"),
			Catalog: map[string]model.CatalogRecovery{"pg-test-1": standby, "pg-test-2": standby, "pg-test-3": standby}},
		leader: "pg-test-1", source: model.SourcePatroni,
		running: []string{"pg-test-1", "pg-test-2", "pg-test-3"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Cluster, tc.in.Inventory = "pg-test", inventory()
			got := Topology(tc.in)
			if got.Leader != tc.leader || got.Source != tc.source {
				t.Errorf("leader %q from %q, want %q from %q", got.Leader, got.Source, tc.leader, tc.source)
			}
			if r := got.Running(); !slices.Equal(r, tc.running) {
				t.Errorf("running %v, want %v", r, tc.running)
			}
			var kinds []string
			for _, f := range got.Findings {
				kinds = append(kinds, string(f.Kind)+"@"+f.Instance)
				if f.Detail == "" {
					t.Errorf("finding %s has no detail", f.Kind)
				}
			}
			slices.Sort(kinds)
			want := slices.Sorted(slices.Values(tc.findings))
			if !slices.Equal(kinds, want) {
				t.Errorf("findings %v, want %v\n%+v", kinds, want, got.Findings)
			}
			for _, m := range got.Members {
				if m.Leader != (m.Instance == tc.leader && tc.leader != "") {
					t.Errorf("member %s: Leader %v", m.Instance, m.Leader)
				}
			}
		})
	}
}

// A Patroni member whose name is not the pg_instance is matched by address.
func TestTopologyMatchesByAddress(t *testing.T) {
	v := view("pg-test-1:leader:running", "pg-test-2:replica:running", "pg-test-3:replica:running")
	v.Members[1].Name = "node-b"
	got := Topology(TopologyInput{Cluster: "pg-test", Managed: true, Inventory: inventory(), Patroni: v})
	if m := got.Member("pg-test-2"); m == nil || m.Patroni == nil || m.Patroni.Name != "node-b" {
		t.Fatalf("pg-test-2 not matched to node-b: %+v", got.Members)
	}
	if len(got.Findings) != 0 || len(got.Members) != 3 {
		t.Fatalf("findings %+v, members %d", got.Findings, len(got.Members))
	}
}

// The standby cluster flag follows the standby leader.
func TestTopologyStandbyCluster(t *testing.T) {
	got := Topology(TopologyInput{Cluster: "pg-test", Managed: true, Inventory: inventory(),
		Patroni: view("pg-test-1:standby_leader:running", "pg-test-2:replica:running", "pg-test-3:replica:running")})
	if !got.StandbyCluster {
		t.Fatal("StandbyCluster not set")
	}
	got = Topology(TopologyInput{Cluster: "pg-test", Managed: true, Inventory: inventory(),
		Patroni: view("pg-test-1:leader:running", "pg-test-2:replica:running", "pg-test-3:replica:running")})
	if got.StandbyCluster {
		t.Fatal("StandbyCluster set for a leader")
	}
}
