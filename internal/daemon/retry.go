package daemon

import (
	"context"
	"math/rand/v2"
	"sort"
	"time"
)

// A commit's reconcile that finds the cluster's apply lock held by another
// reconciler (busy: another replica applying, an operator's run, the
// active replica of the same shard) is tried again after 2 s, doubling up
// to 30 s (each wait jittered down to half of it), for one drift interval
// after it first found the lock held;
// past it, the drift checks take over. Without this a commit waited a whole drift
// interval for a lock that is usually free again within seconds. A drift
// check that finds the lock held is not retried: the next one comes
// anyway, and a standby replica, which finds it held all the time, asks
// no more often than its drift checks do.

// retryTick is how often due retries are looked for; maxBusyWait bounds
// the wait between two tries.
const (
	retryTick   = 200 * time.Millisecond
	maxBusyWait = 30 * time.Second
)

// busy records that j found the lock held at at and reports when it is
// tried again; false when it is not (a drift check, or a retry that would
// come a drift interval after the first busy one).
func (t *clusterTable) busy(j job, at time.Time, driftInterval time.Duration) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cs := t.m[j.cluster]
	if cs == nil || !j.fresh {
		return 0, false
	}
	if cs.busyWait == 0 {
		cs.busySince = at
	}
	wait := min(max(cs.busyWait*2, minBackoff), maxBusyWait)
	// Between half the wait and the whole of it: clusters that found one
	// lock held at one moment (a standby's, or clusters sharing a primary)
	// would otherwise come back at one moment, and only one would get it
	// each time.
	delay := wait/2 + rand.N(wait/2+1)
	if at.Add(delay).After(cs.busySince.Add(driftInterval)) {
		cs.retry, cs.busyWait = nil, 0
		return 0, false
	}
	j.reason = "retry: the apply lock was held"
	cs.retry, cs.retryAt, cs.busyWait = &j, at.Add(delay), wait
	return delay, true
}

// due takes the retries whose time has come, by cluster name.
func (t *clusterTable) due(now time.Time) []job {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []job
	for _, cs := range t.m {
		if cs.retry != nil && !now.Before(cs.retryAt) {
			out = append(out, *cs.retry)
			cs.retry = nil
		}
	}
	sort.Slice(out, func(i, k int) bool { return out[i].cluster < out[k].cluster })
	return out
}

// retryLoop queues the retries that are due. The retries live in the
// cluster table, so a reload's new generation takes over the old one's.
func (d *Daemon) retryLoop(ctx context.Context, g *generation) {
	tick := time.NewTicker(retryTick)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			for _, j := range d.clusters.due(d.now()) {
				d.enqueue(g, j)
			}
		}
	}
}
