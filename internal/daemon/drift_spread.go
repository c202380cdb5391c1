package daemon

import (
	"context"
	"hash/fnv"
	"sort"
	"time"
)

// Drift checks are spread over the drift interval instead of bursting at
// its start: each cluster is checked at a fixed offset into every interval
// (its phase, from a hash of its name), so a thousand clusters cost a
// steady trickle of sessions, not a thousand connections at once, and a
// cluster is checked once per interval at the same point of it.

// driftPhase is the offset of a cluster's drift check within an interval.
func driftPhase(name string, interval time.Duration) time.Duration {
	if interval <= 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return time.Duration(h.Sum64() % uint64(interval))
}

// spreadDrift queues jobs, each at its phase after start, and returns when
// the last is queued or ctx is done.
func (d *Daemon) spreadDrift(ctx context.Context, g *generation, start time.Time, jobs []job) {
	interval := g.cfg.DriftInterval.D()
	sort.SliceStable(jobs, func(i, k int) bool {
		return driftPhase(jobs[i].cluster, interval) < driftPhase(jobs[k].cluster, interval)
	})
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for _, j := range jobs {
		if wait := time.Until(start.Add(driftPhase(j.cluster, interval))); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		d.enqueue(g, j)
	}
}
