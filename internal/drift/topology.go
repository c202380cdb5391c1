package drift

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// TopologyRecorder records who leads each cluster, the topology findings
// and Patroni's pending restarts, from each reconcile's model.Topology.
// Its methods are safe for concurrent use.
type TopologyRecorder struct {
	leader   *prometheus.GaugeVec
	findings *prometheus.GaugeVec
	pending  *prometheus.GaugeVec

	mu   sync.Mutex
	seen map[string]topoSeries // cluster → the series last set
}

type topoSeries struct {
	members map[string]bool // leader and pending-restart series
	kinds   map[string]bool // findings series
}

// NewTopologyRecorder creates the topology collectors and registers them
// on reg.
func NewTopologyRecorder(reg prometheus.Registerer) (*TopologyRecorder, error) {
	r := &TopologyRecorder{
		leader: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "cluster_leader",
			Help: "1 for the member that leads a cluster (Patroni's leader key, confirmed by pg_is_in_recovery(); or the catalog's one primary), 0 for the others; no 1 when no leader is established.",
		}, []string{"cluster", "instance"}),
		findings: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "topology_findings",
			Help: "Disagreements between the inventory's pg_role, Patroni and the catalog at the last reconcile, by finding (inventory_role, no_leader, extra_primary …).",
		}, []string{"cluster", "kind"}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "patroni_pending_restart",
			Help: "1 when Patroni reports that a member's PostgreSQL waits for a restart to apply a parameter, else 0.",
		}, []string{"cluster", "instance"}),
		seen: map[string]topoSeries{},
	}
	for _, c := range []prometheus.Collector{r.leader, r.findings, r.pending} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Observe sets a cluster's series from its topology and deletes those of
// members and findings no longer present. A nil topology changes nothing.
func (r *TopologyRecorder) Observe(cluster string, t *model.Topology) {
	if t == nil {
		return
	}
	now := topoSeries{members: map[string]bool{}, kinds: map[string]bool{}}
	counts := map[string]int{}
	for _, f := range t.Findings {
		counts[string(f.Kind)]++
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range t.Members {
		now.members[m.Instance] = true
		v := 0.0
		if m.Leader {
			v = 1
		}
		r.leader.WithLabelValues(cluster, m.Instance).Set(v)
		if m.Patroni != nil {
			p := 0.0
			if m.Patroni.PendingRestart {
				p = 1
			}
			r.pending.WithLabelValues(cluster, m.Instance).Set(p)
		} else {
			r.pending.DeleteLabelValues(cluster, m.Instance)
		}
	}
	for k, n := range counts {
		now.kinds[k] = true
		r.findings.WithLabelValues(cluster, k).Set(float64(n))
	}
	prev := r.seen[cluster]
	for m := range prev.members {
		if !now.members[m] {
			r.leader.DeleteLabelValues(cluster, m)
			r.pending.DeleteLabelValues(cluster, m)
		}
	}
	for k := range prev.kinds {
		if !now.kinds[k] {
			r.findings.DeleteLabelValues(cluster, k)
		}
	}
	r.seen[cluster] = now
}

// ForgetCluster deletes every series of a cluster that left the spec.
func (r *TopologyRecorder) ForgetCluster(cluster string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.seen, cluster)
	deleteMatching(prometheus.Labels{"cluster": cluster}, r.leader, r.findings, r.pending)
}
