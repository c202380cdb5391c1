package daemon

import (
	"reflect"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// A commit that changes one cluster's file re-plans only that cluster: the
// clusters whose desired state is the same in the new commit as in the
// last good one, and that had converged to it, are not queued by the
// commit. They are reconciled towards the new commit at their next drift
// check, like any converged cluster, and count as converged to it (the
// commit is marked applied once the changed clusters converge).

// sameClusters lists the clusters of now whose desired state is equal,
// secrets included, to the same cluster's in before. Pure: the models of
// a revision never change once it is made.
func sameClusters(before, now *model.Desired) []string {
	if before == nil || now == nil {
		return nil
	}
	var out []string
	for _, c := range now.Clusters {
		if b := before.Cluster(c.Name); b != nil && reflect.DeepEqual(b, c) {
			out = append(out, c.Name)
		}
	}
	return out
}

// carryOver marks the clusters of rev that need no re-plan: same as in
// old (sameClusters) and converged to old, with their change log read. It
// runs under the source's mu (old's and rev's pending sets) and returns
// their names.
func carryOver(old, rev *revision, same []string) map[string]bool {
	skip := map[string]bool{}
	if old == nil {
		return skip
	}
	for _, name := range same {
		if old.pending[name] || old.floorPending[name] || rev.floorPending[name] {
			continue
		}
		delete(rev.pending, name)
		skip[name] = true
	}
	return skip
}

// settledOf lists the clusters of same that had converged to before, with
// their change log read: a commit that leaves them as they are needs
// neither their re-plan nor their change log.
func settledOf(st *sourceState, before *revision, same []string) map[string]bool {
	out := map[string]bool{}
	if before == nil {
		return out
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, name := range same {
		if !before.pending[name] && !before.floorPending[name] {
			out[name] = true
		}
	}
	return out
}

// without is clusters less those named in drop.
func without(clusters []*model.Cluster, drop map[string]bool) []*model.Cluster {
	if len(drop) == 0 {
		return clusters
	}
	out := make([]*model.Cluster, 0, len(clusters))
	for _, c := range clusters {
		if !drop[c.Name] {
			out = append(out, c)
		}
	}
	return out
}
