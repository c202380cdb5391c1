package patroni

import (
	"fmt"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// TopologyInput is everything Topology weighs; it does no I/O.
type TopologyInput struct {
	Cluster string
	// Managed says Patroni manages the cluster (Pigsty's patroni_mode is
	// not remove): its leader key decides, the catalog cross-checks.
	Managed   bool
	Inventory []*model.Instance // the spec's instances, in Seq order
	// Patroni is GET /cluster from the first member that answered; nil
	// when none did (PatroniError says why) or the cluster is not managed.
	Patroni      *model.PatroniCluster
	PatroniError string
	// Catalog is pg_is_in_recovery() per instance name; an instance that
	// is absent was not inspected.
	Catalog map[string]model.CatalogRecovery
}

// Topology establishes the leader and the running members of a cluster and
// reports every disagreement between Patroni, the catalog and the
// inventory's pg_role. Patroni's leader key decides when the cluster is
// managed and Patroni answered, provided the leader's own catalog (when
// inspected) is reachable and out of recovery; otherwise the catalog decides
// if exactly one instance is out of recovery. When neither establishes a
// leader, Leader is empty: the leader is reported, never guessed.
func Topology(in TopologyInput) model.Topology {
	t := model.Topology{Cluster: in.Cluster, Managed: in.Managed}
	useView := in.Managed && in.Patroni != nil
	t.Members = members(in, useView)
	f := &t.Findings

	if in.Managed && in.Patroni == nil {
		add(f, model.FindingPatroniUnreachable, "", "no member's REST API answered (%s); the leader comes from the catalog", orUnknown(in.PatroniError))
	}
	if useView {
		if in.Patroni.Paused {
			add(f, model.FindingPaused, "", "Patroni is paused (maintenance mode): it neither fails over nor restarts members")
		}
		for _, m := range t.Members {
			switch {
			case m.InventoryRole == "":
				add(f, model.FindingUnknownMember, m.Instance, "Patroni lists member %s, which the inventory does not", m.Instance)
			case m.Patroni == nil:
				add(f, model.FindingNotMember, m.Instance, "Patroni does not list %s (not bootstrapped, removed, or in another scope)", m.Instance)
			}
		}
		patroniLeader(&t, f)
	} else {
		catalogLeader(&t, f)
	}
	for i := range t.Members {
		m := &t.Members[i]
		m.Leader = m.Instance == t.Leader && t.Leader != ""
		if m.Catalog != nil {
			m.Running = m.Catalog.Reachable
		} else {
			m.Running = m.Patroni != nil && m.Patroni.State.Running()
		}
		if useView {
			stateFindings(m, f)
		}
	}
	inventoryFindings(&t, f)
	return t
}

// members lines up the inventory's instances with Patroni's members (by
// name, else by address and port) and the catalog, then appends the
// members only Patroni knows.
func members(in TopologyInput, useView bool) []model.TopologyMember {
	var out []model.TopologyMember
	matched := map[string]bool{}
	for _, inst := range in.Inventory {
		m := model.TopologyMember{Instance: inst.Name(), IP: inst.IP, Port: inst.Port, InventoryRole: inst.Role}
		if useView {
			if pm := findMember(in.Patroni, inst); pm != nil && !matched[pm.Name] {
				matched[pm.Name] = true
				m.Patroni = pm
			}
		}
		if c, ok := in.Catalog[m.Instance]; ok {
			m.Catalog = &c
		}
		out = append(out, m)
	}
	if useView {
		for i := range in.Patroni.Members {
			pm := &in.Patroni.Members[i]
			if matched[pm.Name] {
				continue
			}
			m := model.TopologyMember{Instance: pm.Name, IP: pm.Host, Port: pm.Port, Patroni: pm}
			if c, ok := in.Catalog[pm.Name]; ok {
				m.Catalog = &c
			}
			out = append(out, m)
		}
	}
	return out
}

func findMember(cl *model.PatroniCluster, inst *model.Instance) *model.PatroniMember {
	if pm := cl.Member(inst.Name()); pm != nil {
		return pm
	}
	for i := range cl.Members {
		pm := &cl.Members[i]
		if pm.Host == inst.IP && (pm.Port == inst.Port || pm.Port == 0) {
			return pm
		}
	}
	return nil
}

// patroniLeader takes the leader key's holder, if its catalog agrees, and
// reports every other instance out of recovery.
func patroniLeader(t *model.Topology, f *[]model.TopologyFinding) {
	var leader *model.TopologyMember
	for i := range t.Members {
		if p := t.Members[i].Patroni; p != nil && p.Role.Leads() {
			leader = &t.Members[i]
		}
	}
	if leader == nil {
		add(f, model.FindingNoLeader, "", "no member holds Patroni's leader key (a failover in progress?); cluster-wide changes wait")
	} else {
		standby := leader.Patroni.Role == model.PatroniStandbyLeader
		c := leader.Catalog
		switch {
		case c != nil && !c.Reachable:
			add(f, model.FindingLeaderUnreachable, leader.Instance, "Patroni's leader %s could not be reached: %s", leader.Instance, orUnknown(c.Error))
		case c != nil && c.InRecovery && !standby:
			add(f, model.FindingLeaderInRecovery, leader.Instance, "Patroni's leader %s is in recovery (a promotion not finished?); cluster-wide changes wait", leader.Instance)
		default:
			t.Leader, t.Source, t.StandbyCluster = leader.Instance, model.SourcePatroni, standby
		}
	}
	for _, m := range t.Members {
		if m.Catalog != nil && m.Catalog.Reachable && !m.Catalog.InRecovery && (leader == nil || m.Instance != leader.Instance) {
			who := "no member"
			if leader != nil {
				who = leader.Instance
			}
			add(f, model.FindingExtraPrimary, m.Instance, "%s is out of recovery but Patroni's leader is %s", m.Instance, who)
		}
	}
}

// catalogLeader takes the one reachable instance out of recovery.
func catalogLeader(t *model.Topology, f *[]model.TopologyFinding) {
	var primaries []string
	inspected := false
	for _, m := range t.Members {
		if m.Catalog == nil {
			continue
		}
		inspected = true
		if m.Catalog.Reachable && !m.Catalog.InRecovery {
			primaries = append(primaries, m.Instance)
		}
	}
	switch {
	case len(primaries) == 1:
		t.Leader, t.Source = primaries[0], model.SourceCatalog
	case len(primaries) > 1:
		for _, p := range primaries {
			add(f, model.FindingExtraPrimary, p, "%s are all out of recovery; no leader is chosen", strings.Join(primaries, ", "))
		}
	case inspected:
		add(f, model.FindingNoLeader, "", "no reachable instance is out of recovery")
	default:
		add(f, model.FindingNoLeader, "", "no instance was inspected")
	}
}

// stateFindings compares what Patroni and the catalog say about whether one
// member runs (role disagreements are leader_in_recovery and extra_primary).
func stateFindings(m *model.TopologyMember, f *[]model.TopologyFinding) {
	p, c := m.Patroni, m.Catalog
	if p == nil || c == nil {
		return
	}
	switch {
	case p.State.Running() && !c.Reachable:
		add(f, model.FindingMemberState, m.Instance, "Patroni reports %s %s, but it could not be reached: %s", m.Instance, p.State, orUnknown(c.Error))
	case !p.State.Running() && c.Reachable:
		add(f, model.FindingMemberState, m.Instance, "Patroni reports %s %s, but it answers", m.Instance, orUnknown(string(p.State)))
	}
}

// inventoryFindings compares the established leader with pg_role.
func inventoryFindings(t *model.Topology, f *[]model.TopologyFinding) {
	if t.Leader == "" {
		return
	}
	for _, m := range t.Members {
		switch {
		case m.InventoryRole == "":
		case m.Instance == t.Leader && m.InventoryRole != model.RolePrimary:
			add(f, model.FindingInventoryRole, m.Instance, "the inventory says %s is a %s, but it leads (a switchover or failover since the inventory was written)", m.Instance, m.InventoryRole)
		case m.Instance != t.Leader && m.InventoryRole == model.RolePrimary:
			add(f, model.FindingInventoryRole, m.Instance, "the inventory says %s is the primary, but %s leads", m.Instance, t.Leader)
		}
	}
}

func add(f *[]model.TopologyFinding, kind model.TopologyFindingKind, instance, format string, args ...any) {
	*f = append(*f, model.TopologyFinding{Kind: kind, Instance: instance, Detail: fmt.Sprintf(format, args...)})
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
