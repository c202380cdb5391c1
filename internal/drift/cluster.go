package drift

import (
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// ObserveDrift sets the drift of a cluster from its plan: for each instance
// and drift class, the number of changes that are drift (every action but
// a note; reports count). instances is the cluster's current instance list:
// every (instance, class) pair is set, zero when clean, and the series of
// instances no longer listed (drift, up, pending restart) are deleted. A
// change on an instance missing from the list is counted all the same.
// Series are labelled with cluster whatever p.Name says.
//
// unreached lists instances that could not be inspected: what their
// drift is is unknown, so their series keep their last values rather than
// reading zero (and resolving drift alerts) while a server is down.
func (r *Recorder) ObserveDrift(cluster string, instances []string, p plan.ClusterPlan, unreached ...string) {
	counts := map[[2]string]int{}
	current := map[string]bool{}
	for _, inst := range instances {
		current[inst] = true
		if slices.Contains(unreached, inst) {
			continue
		}
		for _, class := range model.DriftClasses() { // the values of the kind label
			counts[[2]string{inst, string(class)}] = 0
		}
	}
	for _, c := range p.Changes {
		if c.Drift() {
			current[c.Instance] = true
			counts[[2]string{c.Instance, string(c.Kind.DriftClass())}]++
		}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	cs := r.cluster(cluster)
	kept := map[[2]string]bool{}
	for key := range cs.drift {
		if _, ok := counts[key]; ok {
			continue
		}
		if current[key[0]] && slices.Contains(unreached, key[0]) {
			kept[key] = true // unknown: keep the last value
			continue
		}
		r.driftItems.DeleteLabelValues(cluster, key[0], key[1])
	}
	for inst := range cs.instances {
		if !current[inst] {
			r.instanceUp.DeleteLabelValues(cluster, inst)
			r.pendingRestart.DeleteLabelValues(cluster, inst)
		}
	}
	cs.drift = kept
	for key, n := range counts {
		r.driftItems.WithLabelValues(cluster, key[0], key[1]).Set(float64(n))
		cs.drift[key] = true
	}
	cs.instances = current
}

// ObserveApplied counts the changes of an apply that were applied, by kind
// and action. Failed, skipped and refused changes are not counted; they
// remain drift and show in the next ObserveDrift.
func (r *Recorder) ObserveApplied(res *plan.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cluster(res.Cluster)
	for _, o := range res.Outcomes {
		if o.Status == plan.StatusApplied {
			r.applied.WithLabelValues(res.Cluster, string(o.Change.Kind), o.Change.Action.String()).Inc()
		}
	}
}

// ObserveReconcile records one reconcile of a cluster that took d and
// finished at at. A verdict that is not one of plan.Verdicts is recorded as
// a failure. A success also sets the last-success time.
func (r *Recorder) ObserveReconcile(cluster string, v plan.Verdict, d time.Duration, at time.Time) {
	if !slices.Contains(plan.Verdicts(), v) {
		v = plan.VerdictFailure
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cluster(cluster)
	r.reconciles.WithLabelValues(cluster, string(v)).Inc()
	r.durations.WithLabelValues(cluster).Observe(d.Seconds())
	if v == plan.VerdictSuccess {
		r.lastSuccess.WithLabelValues(cluster).Set(unixSeconds(at))
	}
}

// SetInstanceUp records whether the last connection to an instance succeeded.
func (r *Recorder) SetInstanceUp(cluster, instance string, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cluster(cluster).instances[instance] = true
	r.instanceUp.WithLabelValues(cluster, instance).Set(v)
}

// SetPendingRestart records how many parameters of an instance wait for a
// restart.
func (r *Recorder) SetPendingRestart(cluster, instance string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cluster(cluster).instances[instance] = true
	r.pendingRestart.WithLabelValues(cluster, instance).Set(float64(n))
}

// ForgetCluster deletes every series of a cluster that left the spec.
func (r *Recorder) ForgetCluster(cluster string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.clusters, cluster)
	deleteMatching(prometheus.Labels{"cluster": cluster}, r.driftItems, r.reconciles, r.durations, r.lastSuccess,
		r.applied, r.pendingRestart, r.instanceUp)
}

// cluster returns the series bookkeeping of a cluster, creating it on first
// sight together with a zero reconcile counter for every result, so that
// rate() and the "no success" alert see a series from the start. r.mu must
// be held.
func (r *Recorder) cluster(name string) *clusterSeries {
	cs := r.clusters[name]
	if cs == nil {
		cs = &clusterSeries{instances: map[string]bool{}, drift: map[[2]string]bool{}}
		r.clusters[name] = cs
		for _, res := range plan.Verdicts() {
			r.reconciles.WithLabelValues(name, string(res))
		}
	}
	return cs
}

// deleteMatching deletes the series of every vector that match.
func deleteMatching(match prometheus.Labels, vecs ...interface{ DeletePartialMatch(prometheus.Labels) int }) {
	for _, v := range vecs {
		v.DeletePartialMatch(match)
	}
}
