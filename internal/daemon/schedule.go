package daemon

import (
	"context"
	"sort"
	"sync"
	"time"
)

// job asks for one reconcile of a cluster.
type job struct {
	cluster, source, reason string
	fresh                   bool // a new commit: ignore the backoff
}

// Backoff after a failed reconcile: 2 s doubling to 5 min. A new commit
// clears it; the drift timer respects it, so a failing cluster is never
// retried in a hot loop.
const (
	minBackoff = 2 * time.Second
	maxBackoff = 5 * time.Minute
)

// clusterTable is what the daemon knows of each cluster: whether it is
// queued, running or asked for again, its backoff, its circuit breaker and
// the status /status shows. It has a lock of its own; nothing else is
// locked while it is held, and nothing blocks under it.
type clusterTable struct {
	mu sync.Mutex
	m  map[string]*clusterState
}

// clusterState is the daemon's memory of one cluster.
type clusterState struct {
	source string

	// Scheduling: want is the reconcile asked for and not started yet (a
	// second request merges into it); queued says the cluster's name is in
	// the generation's queue; running that a worker has it. A cluster is
	// queued only when it is not running: a request during a run waits in
	// want, and the worker queues it when the run ends.
	want    *job
	queued  bool
	running bool

	backoff  time.Duration
	notUntil time.Time
	breaker  breaker

	// A commit that found the apply lock held (busy) is tried again at
	// retryAt (retry.go); busyWait is the wait before it, doubling, since
	// busySince.
	retry     *job
	retryAt   time.Time
	busyWait  time.Duration
	busySince time.Time

	status ClusterStatus
}

func newClusterTable() *clusterTable { return &clusterTable{m: map[string]*clusterState{}} }

// request records that j is wanted and reports whether the cluster must
// be put in the queue now (not queued, not running). A fresh job (a new
// commit) clears the backoff and closes the breaker at once.
func (t *clusterTable) request(j job) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	cs := t.m[j.cluster]
	if cs == nil {
		cs = &clusterState{status: ClusterStatus{Cluster: j.cluster}}
		t.m[j.cluster] = cs
	}
	cs.source = j.source
	if j.fresh {
		cs.backoff, cs.notUntil = 0, time.Time{}
		cs.breaker.reset()
	}
	if cs.want == nil {
		cs.want = &j
	} else {
		cs.want.source, cs.want.reason = j.source, j.reason
		cs.want.fresh = cs.want.fresh || j.fresh
	}
	if cs.queued || cs.running {
		return false
	}
	cs.queued = true
	return true
}

// claim hands a queued cluster to a worker: the job to run, unless the
// cluster left the spec or backs off (a job that is not fresh is dropped
// until notUntil).
func (t *clusterTable) claim(name string, now time.Time) (job, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cs := t.m[name]
	if cs == nil || cs.want == nil {
		return job{}, false
	}
	cs.queued = false
	j := *cs.want
	cs.want = nil
	if !j.fresh && now.Before(cs.notUntil) {
		return job{}, false // backing off
	}
	cs.running = true
	return j, true
}

// finish ends a worker's run and reports whether the cluster was asked
// for meanwhile and must be queued again.
func (t *clusterTable) finish(name string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	cs := t.m[name]
	if cs == nil {
		return false
	}
	cs.running = false
	if cs.want == nil || cs.queued {
		return false
	}
	cs.queued = true
	return true
}

// requeue starts a new generation's scheduling: nothing is in its queue
// yet, so the clusters asked for and not started are returned, to be
// queued in it.
func (t *clusterTable) requeue() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for name, cs := range t.m {
		cs.queued = cs.want != nil
		if cs.queued {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// forget drops a cluster (it left the spec).
func (t *clusterTable) forget(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, name)
}

// forgetSource drops the clusters of a source that left the configuration
// and returns their names.
func (t *clusterTable) forgetSource(source string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for name, cs := range t.m {
		if cs.source == source {
			delete(t.m, name)
			out = append(out, name)
		}
	}
	return out
}

// enqueue asks for a reconcile of j.cluster. A cluster is queued at most
// once; one being reconciled runs once more when the current run ends.
func (d *Daemon) enqueue(g *generation, j job) {
	if d.clusters.request(j) {
		d.send(g, j.cluster)
	}
}

// send puts a cluster that request, finish or requeue marked queued into
// the queue, never blocking and never dropping it (workqueue.go).
func (d *Daemon) send(g *generation, name string) { g.queue.push(name) }

// worker reconciles queued clusters, one cluster at a time per worker and
// never the same cluster in two workers.
func (d *Daemon) worker(ctx context.Context, g *generation) {
	for {
		name, ok := g.queue.pop(ctx)
		if !ok {
			return
		}
		j, ok := d.clusters.claim(name, d.now())
		if !ok {
			continue
		}
		d.reconcileCluster(g, j)
		if d.clusters.finish(name) && ctx.Err() == nil {
			d.send(g, name)
		}
	}
}

// driftLoop queues every known cluster each drift interval, to catch
// changes made by hand even when nothing was committed, each at its own
// point of the interval (drift_spread.go).
func (d *Daemon) driftLoop(ctx context.Context, g *generation) {
	tick := time.NewTicker(g.cfg.DriftInterval.D())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case start := <-tick.C:
			d.spreadDrift(ctx, g, start, d.driftJobs())
		}
	}
}

// driftJobs is a drift check of every cluster of every source's good
// revision.
func (d *Daemon) driftJobs() []job {
	var jobs []job
	for _, st := range d.sourceList() {
		rev := st.goodRevision()
		if rev == nil {
			continue
		}
		for _, c := range rev.desired.Clusters {
			jobs = append(jobs, job{cluster: c.Name, source: st.name, reason: "drift check"})
		}
	}
	return jobs
}
