package reconcile

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/config"
	"github.com/pgreconciler/pgreconciler/internal/drift"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// job asks for one reconcile of a cluster.
type job struct {
	cluster, source, reason string
	fresh                   bool // a new commit: ignore the backoff
}

// clusterState is the daemon's memory of one cluster. Guarded by
// Daemon.mu, except running, which only the worker holding the cluster
// touches after claiming it.
type clusterState struct {
	name    string
	source  string
	running bool
	queued  bool

	backoff  time.Duration
	notUntil time.Time
	breaker  breaker

	status ClusterStatus
}

// Backoff after a failed reconcile: 2 s doubling to 5 min. A new commit
// clears it; the drift timer respects it, so a failing cluster is never
// retried in a hot loop.
const (
	minBackoff = 2 * time.Second
	maxBackoff = 5 * time.Minute
)

// driftLoop queues every known cluster each drift interval, to catch
// changes made by hand even when nothing was committed.
func (d *Daemon) driftLoop(ctx context.Context, g *generation) {
	tick := time.NewTicker(g.cfg.DriftInterval.D())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		d.mu.Lock()
		var jobs []job
		for _, st := range d.sources {
			if st.good == nil {
				continue
			}
			for _, c := range st.good.desired.Clusters {
				jobs = append(jobs, job{cluster: c.Name, source: st.name, reason: "drift check"})
			}
		}
		d.mu.Unlock()
		for _, j := range jobs {
			d.enqueue(g, j)
		}
	}
}

// enqueue queues a job unless the cluster already has one queued; a
// cluster being reconciled gets one more run after the current one.
func (d *Daemon) enqueue(g *generation, j job) {
	d.mu.Lock()
	cs := d.clusters[j.cluster]
	if cs == nil {
		cs = &clusterState{name: j.cluster}
		cs.status.Cluster = j.cluster
		d.clusters[j.cluster] = cs
	}
	cs.source = j.source
	if j.fresh {
		cs.backoff, cs.notUntil = 0, time.Time{}
		cs.breaker.reset()
	}
	if cs.queued {
		d.mu.Unlock()
		return
	}
	cs.queued = true
	d.mu.Unlock()
	select {
	case g.queue <- j:
	default:
		d.mu.Lock()
		cs.queued = false
		d.mu.Unlock()
		d.log.Warn("work queue full: skipping", "cluster", j.cluster, "reason", j.reason)
	}
}

// worker reconciles queued clusters, one cluster at a time per worker and
// never the same cluster in two workers.
func (d *Daemon) worker(ctx context.Context, g *generation) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-g.queue:
			d.mu.Lock()
			cs := d.clusters[j.cluster]
			if cs == nil {
				d.mu.Unlock()
				continue
			}
			cs.queued = false
			if cs.running {
				// Another worker has it: run again once it is done.
				d.mu.Unlock()
				go func() {
					time.Sleep(time.Second)
					if ctx.Err() == nil {
						d.enqueue(g, j)
					}
				}()
				continue
			}
			if !j.fresh && d.now().Before(cs.notUntil) {
				d.mu.Unlock()
				continue // backing off
			}
			cs.running = true
			d.mu.Unlock()
			d.reconcileCluster(g, j)
			d.mu.Lock()
			cs.running = false
			d.mu.Unlock()
		}
	}
}

// reconcileCluster inspects a cluster, plans, applies the classes whose
// mode is apply, and records metrics and status.
func (d *Daemon) reconcileCluster(g *generation, j job) {
	ctx := g.workCtx
	start := d.now()
	d.mu.Lock()
	st := d.sources[j.source]
	var rev *revision
	if st != nil {
		rev = st.good
	}
	d.mu.Unlock()
	if rev == nil {
		return
	}
	c := rev.desired.Cluster(j.cluster)
	if c == nil {
		return
	}
	log := d.log.With("cluster", c.Name)
	dialer := g.dialer.WithCommit(rev.commit)

	result, errText := drift.ResultSuccess, ""
	// Hold the apply lock across inspect, plan and apply, so that a plan
	// made while another reconciler was applying is never replayed.
	var lock *apply.Lock
	var lockErr error
	if g.cfg.Modes.AnyApply() {
		l, err := apply.AcquireLock(ctx, dialer, c)
		switch {
		case errors.Is(err, apply.ErrBusy):
			end := d.now()
			d.rec.ObserveReconcile(c.Name, drift.ResultBusy, end.Sub(start), end)
			log.Info("another reconciler is applying to this cluster: skipped")
			return
		case err == nil:
			lock = l
			defer func() {
				rel, cancel := context.WithTimeout(context.WithoutCancel(ctx), lockReleaseTimeout)
				defer cancel()
				_ = l.Release(rel)
			}()
		default:
			lockErr = err
		}
	}
	cp, live, errs := PlanCluster(ctx, dialer, c)
	d.observe(c, cp, live)
	primaryDown := c.Primary() == nil || live[c.Primary().Name()] == nil
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	if len(msgs) > 0 {
		log.Warn("inspection failed", "err", strings.Join(msgs, "; "))
	}
	if lockErr != nil && !primaryDown {
		// The primary answers but the lock could not be taken (too many
		// connections, a timeout): nothing is applied, and that is a failure.
		msgs = append(msgs, "apply lock: "+lockErr.Error())
		log.Error("cannot take the apply lock: nothing applied", "err", lockErr)
	}
	if len(msgs) > 0 {
		result, errText = drift.ResultFailure, strings.Join(msgs, "; ")
	}
	var applied *plan.Result
	canApply := !primaryDown && lock != nil
	if canApply {
		// Also when nothing is to be changed: success would count the
		// commit as applied to this cluster.
		if r, why := d.checkFloorLate(ctx, g, st, rev, c); why != "" {
			canApply, result, errText = false, r, why
			log.Error("nothing applied: checked against the cluster's change log", "err", why)
		}
	}
	if canApply && wantsApply(cp, g.cfg.Modes) {
		res, err := apply.Apply(ctx, apply.Target{Cluster: c, Dialer: dialer, Live: live}, cp, apply.Options{
			HBA: g.hba, Commit: rev.commit, Signer: rev.signer, Author: rev.author, DBSU: c.Globals.DBSU, Lock: lock,
			Logger: d.log, Hold: func(ch plan.Change) string {
				if g.cfg.Modes.Of(ch.Kind.DriftClass()) != config.ModeApply {
					return "observe mode: drift class " + string(ch.Kind.DriftClass()) + " is not corrected"
				}
				if !d.breakerAllows(c.Name, ch) {
					return "circuit breaker: corrected too often; left alone until the next commit"
				}
				return ""
			},
		})
		applied = res
		if res != nil {
			d.rec.ObserveApplied(res)
			if !j.fresh {
				d.recordCorrections(c.Name, res)
			}
		}
		switch {
		case errors.Is(err, apply.ErrBusy):
			result, errText = drift.ResultBusy, err.Error()
			log.Info("another reconciler is applying to this cluster: skipped")
		case err != nil:
			// The changes that failed before the apply stopped name
			// themselves (kind, object, statement) next to why it stopped.
			result, errText = drift.ResultFailure, err.Error()
			if res != nil && res.Failed() {
				errText += "; " + failures(res)
			}
			log.Error("apply failed", "err", err)
		case res.Failed() && onlyRefused(res):
			result, errText = drift.ResultRefused, failures(res)
			log.Warn("a guard refused some changes", "refused", errText)
		case res.Failed():
			result, errText = drift.ResultFailure, failures(res)
			log.Error("some changes failed", "failures", errText)
		}
		if res != nil && appliedAny(res) {
			// Re-read so that the drift metrics show what is left. If the
			// re-read fails, the drift before the apply stays on show: an
			// overstatement, never a false "clean".
			if cp2, live2, errs2 := PlanCluster(ctx, dialer, c); len(errs2) == 0 {
				d.observe(c, cp2, live2)
				cp = cp2
			} else {
				log.Warn("cannot re-read the cluster after applying: drift shown is from before the apply", "err", errs2[0].Error())
			}
		}
	}
	end := d.now()
	d.rec.ObserveReconcile(c.Name, result, end.Sub(start), end)
	d.record(c, rev, cp, applied, result, errText, end)
	if result == drift.ResultSuccess && lock != nil {
		// Only a reconcile that could apply (apply mode, lock held) and
		// succeeded counts the commit as applied to this cluster.
		d.markApplied(st, rev, c.Name)
	}
}

// lockReleaseTimeout bounds the unlock after a reconcile, so that a
// partitioned primary cannot hold a worker (and shutdown) for the length of
// TCP's retransmissions; the server drops the lock with the session.
const lockReleaseTimeout = 10 * time.Second

func (d *Daemon) breakerAllows(cluster string, ch plan.Change) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	cs := d.clusters[cluster]
	return cs == nil || cs.breaker.allows(ch)
}

// recordCorrections counts what a drift check corrected; objects corrected
// too often stop being corrected until the next commit.
func (d *Daemon) recordCorrections(cluster string, res *plan.Result) {
	d.mu.Lock()
	cs := d.clusters[cluster]
	var tripped []string
	if cs != nil {
		tripped = cs.breaker.record(res, d.now())
		cs.status.Flapping = cs.breaker.flapping()
	}
	d.mu.Unlock()
	for _, k := range tripped {
		d.log.Warn("object keeps drifting back: no longer corrected until the next commit (circuit breaker); find what changes it",
			"cluster", cluster, "change", k, "corrections", maxCorrections, "window", correctionWindow.String())
	}
}

// wantsApply reports whether a plan has a change whose class is in apply
// mode and that can be executed.
func wantsApply(cp plan.ClusterPlan, m config.Modes) bool {
	for _, ch := range cp.Changes {
		if (len(ch.Statements) > 0 || ch.HBA != nil) && (ch.Action == plan.ActionCreate || ch.Action == plan.ActionChange || ch.Action == plan.ActionRemove) &&
			m.Of(ch.Kind.DriftClass()) == config.ModeApply {
			return true
		}
	}
	return false
}

func appliedAny(r *plan.Result) bool {
	for _, o := range r.Outcomes {
		if o.Status == plan.StatusApplied {
			return true
		}
	}
	return false
}

// onlyRefused reports whether every change that did not succeed was
// refused by a guard (a lockout, a protected object), none failed.
func onlyRefused(r *plan.Result) bool {
	for _, o := range r.Outcomes {
		if o.Status == plan.StatusFailed {
			return false
		}
	}
	return true
}

func failures(r *plan.Result) string {
	var out []string
	for _, o := range r.Outcomes {
		if o.Status == plan.StatusFailed || o.Status == plan.StatusRefused {
			s := string(o.Change.Kind) + " " + o.Change.Object + ": " + o.Error
			if o.SQLState != "" {
				s += " (SQLSTATE " + o.SQLState + ")"
			}
			out = append(out, s)
		}
	}
	return strings.Join(out, "; ")
}

// observe records drift, instance health and pending restarts.
func (d *Daemon) observe(c *model.Cluster, cp plan.ClusterPlan, live map[string]*model.InstanceState) {
	var names, unreached []string
	for _, in := range c.Instances {
		names = append(names, in.Name())
		st := live[in.Name()]
		d.rec.SetInstanceUp(c.Name, in.Name(), st != nil)
		if st == nil {
			unreached = append(unreached, in.Name())
		} else {
			n := 0
			for _, s := range st.Settings {
				if s.PendingRestart {
					n++
				}
			}
			d.rec.SetPendingRestart(c.Name, in.Name(), n)
		}
	}
	d.rec.ObserveDrift(c.Name, names, cp, unreached...)
}

// record updates the status a cluster shows at /status, and the backoff.
func (d *Daemon) record(c *model.Cluster, rev *revision, cp plan.ClusterPlan, res *plan.Result, result, errText string, at time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cs := d.clusters[c.Name]
	if cs == nil {
		return
	}
	s := &cs.status
	s.Commit, s.Signer, s.LastResult, s.LastError, s.LastRun = rev.commit, rev.signer, result, errText, at
	s.Flapping = cs.breaker.flapping()
	s.Drift = map[string]int{}
	s.PendingRestart = map[string]bool{}
	for _, ch := range cp.Changes {
		if ch.Drift() {
			s.Drift[string(ch.Kind.DriftClass())]++
		}
		if ch.RequiresRestart {
			s.PendingRestart[ch.Instance] = true
		}
	}
	if res != nil {
		for _, o := range res.Outcomes {
			if o.Pending {
				s.PendingRestart[o.Change.Instance] = true
			}
		}
	}
	switch result {
	case drift.ResultSuccess:
		s.LastSuccess = at
		cs.backoff, cs.notUntil = 0, time.Time{}
	case drift.ResultFailure, drift.ResultRefused:
		cs.backoff = min(max(cs.backoff*2, minBackoff), maxBackoff)
		cs.notUntil = at.Add(cs.backoff)
	}
}

// markApplied records a commit as the source's last applied one once
// every cluster it declares has converged to it.
func (d *Daemon) markApplied(st *sourceState, rev *revision, cluster string) {
	d.mu.Lock()
	delete(rev.pending, cluster)
	done := len(rev.pending) == 0 && !rev.marked && st.good == rev
	if done {
		rev.marked = true
	}
	d.mu.Unlock()
	if !done {
		return
	}
	if err := st.src.MarkApplied(rev.snap); err != nil {
		d.log.Error("cannot record the last applied commit", "source", st.name, "commit", rev.commit, "err", err)
		return
	}
	d.log.Info("commit applied to every cluster", "source", st.name, "commit", rev.commit)
}

// clusterNames lists known clusters, sorted.
func (d *Daemon) clusterNames() []string {
	var out []string
	for n := range d.clusters {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
