package daemon

import (
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/config"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/reconcile"
)

// reconcileCluster reconciles one cluster towards its source's good
// revision (package reconcile: lock, inspect, diff, guard, apply,
// re-plan), then tells what came of it: metrics, log lines, status,
// backoff, the circuit breaker, and the commit as applied once every
// cluster of it has converged.
func (d *Daemon) reconcileCluster(g *generation, j job) {
	st := d.source(j.source)
	if st == nil {
		return
	}
	rev := st.goodRevision()
	if rev == nil {
		return
	}
	c := rev.desired.Cluster(j.cluster)
	if c == nil {
		return
	}
	log := d.log.With("cluster", c.Name)
	release, err := g.slots.acquire(g.workCtx, sessionsOf(c)) // sessions.go
	if err != nil {
		return // shutting down
	}
	defer release()
	start := d.now()
	drifted := !j.fresh && st.converged(rev, c.Name) // what it heals was changed out of band (observed.go)
	mode := reconcile.ModePlan
	if g.cfg.Modes.AnyApply() {
		mode = reconcile.ModeApply
	}
	accepted := impactAccepted(rev)
	hold := func(ch plan.Change) string {
		if g.cfg.Modes.Of(ch.Kind.DriftClass()) != config.ModeApply {
			return "observe mode: drift class " + string(ch.Kind.DriftClass()) + " is not corrected"
		}
		if !d.clusters.breakerAllows(c.Name, ch) {
			return "circuit breaker: corrected too often; left alone until the next commit"
		}
		if ch.CutsOff() && !accepted {
			return impactHold
		}
		return ""
	}
	o, err := reconcile.Cluster(g.workCtx, reconcile.Target{Cluster: c, Dialer: g.dialer}, reconcile.Options{
		Mode: mode, HBA: g.hba, PgBouncer: g.poolers(), Provenance: rev.prov, Logger: d.log, Patroni: patroniAccess(g.cfg.Patroni),
		LogWindow: g.cfg.ImpactLogWindow.D(),
		Retention: apply.Retention{MaxAge: g.cfg.ChangeLog.MaxAge.D(), MaxRows: g.cfg.ChangeLog.MaxRows},
		Gate:      d.floorGate(g, st, rev, c),
		Hold:      hold,
		Sessions:  g.kept.lend(g.dialer, rev.prov.Commit), // used in observe mode only (ModePlan)
	})
	if err != nil { // a revision's cluster always has what a reconcile needs
		log.Error("cannot reconcile", "err", err)
		return
	}
	var held []string
	if mode == reconcile.ModeApply && o.Locked {
		held = heldForImpact(o.Plan, hold)
		refuseHeld(&o, held)
	}
	end := d.now()
	if o.Verdict == plan.VerdictBusy {
		d.rec.ObserveReconcile(c.Name, o.Verdict, end.Sub(start), end)
		if wait, ok := d.clusters.busy(j, end, g.cfg.DriftInterval.D()); ok {
			log.Info("another reconciler is applying to this cluster: the commit is tried again", "retry_in", wait.String())
			return
		}
		log.Info("another reconciler is applying to this cluster: skipped")
		return
	}
	d.tell(log, o)
	d.observe(c, o.Left, o.Live)
	d.topo.Observe(c.Name, o.Topology)
	if o.Result != nil {
		d.rec.ObserveApplied(o.Result)
		if !j.fresh {
			d.recordCorrections(c.Name, o.Result)
		}
		if drifted {
			d.recordObserved(g, c, rev.prov, healedDrift(c, rev.prov, &o, start))
		}
	}
	d.rec.ObserveReconcile(c.Name, o.Verdict, end.Sub(start), end)
	d.clusters.record(c.Name, rev.prov, o, end)
	d.clusters.setHeld(c.Name, held)
	if len(held) > 0 {
		log.Warn("changes held: they would cut off live clients and the commit does not accept it",
			"commit", rev.prov.Commit, "held", strings.Join(held, "; "), "accept_with", "Impact-Accepted: yes")
	}
	if o.CommitApplied() {
		d.markApplied(st, rev, c.Name)
	}
}

// tell logs what a reconcile found wrong.
func (d *Daemon) tell(log *slog.Logger, o reconcile.Outcome) {
	if len(o.Instances) > 0 {
		var msgs []string
		for _, e := range o.Instances {
			msgs = append(msgs, e.Error())
		}
		log.Warn("inspection failed", "err", strings.Join(msgs, "; "))
	}
	if o.LockErr != nil {
		log.Error("cannot take the apply lock: nothing applied", "err", o.LockErr)
	}
	switch {
	case o.Result == nil:
	case o.Err != nil:
		log.Error("apply failed", "err", o.Err)
	case o.Verdict == plan.VerdictRefused:
		log.Warn("a guard refused some changes", "refused", o.Message)
	case o.Result.Failed():
		log.Error("some changes failed", "failures", o.Message)
	}
	if o.Stale != nil {
		log.Warn("cannot re-read the cluster after applying: drift shown is from before the apply", "err", o.Stale.Error())
	}
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

// recordCorrections counts what a drift check corrected; objects corrected
// too often stop being corrected until the next commit.
func (d *Daemon) recordCorrections(cluster string, res *plan.Result) {
	for _, k := range d.clusters.recordCorrections(cluster, res, d.now()) {
		d.log.Warn("object keeps drifting back: no longer corrected until the next commit (circuit breaker); find what changes it",
			"cluster", cluster, "change", k, "corrections", maxCorrections, "window", correctionWindow.String())
	}
}

// markApplied records a commit as the source's last applied one once
// every cluster it declares has converged to it.
func (d *Daemon) markApplied(st *sourceState, rev *revision, cluster string) {
	st.mu.Lock()
	delete(rev.pending, cluster)
	done := len(rev.pending) == 0 && !rev.marked && st.good == rev
	if done {
		rev.marked = true
	}
	src := st.src
	st.mu.Unlock()
	if !done {
		return
	}
	if err := src.MarkApplied(rev.snap); err != nil {
		d.log.Error("cannot record the last applied commit", "source", st.name, "commit", rev.prov.Commit, "err", err)
		return
	}
	d.log.Info("commit applied to every cluster", "source", st.name, "commit", rev.prov.Commit)
}

func (t *clusterTable) breakerAllows(cluster string, ch plan.Change) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	cs := t.m[cluster]
	return cs == nil || cs.breaker.allows(ch)
}

// recordCorrections counts the corrections of a drift check and returns
// the changes whose breaker tripped now.
func (t *clusterTable) recordCorrections(cluster string, res *plan.Result, at time.Time) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	cs := t.m[cluster]
	if cs == nil {
		return nil
	}
	tripped := cs.breaker.record(res, at)
	cs.status.Flapping = cs.breaker.flapping()
	return tripped
}

// record updates the status a cluster shows at /status from a reconcile
// towards prov that ended at at, and its backoff.
func (t *clusterTable) record(cluster string, prov model.Provenance, o reconcile.Outcome, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cs := t.m[cluster]
	if cs == nil {
		return
	}
	s := &cs.status
	s.Commit, s.Signer, s.LastResult, s.LastError, s.LastRun = prov.Commit, prov.Signer, o.Verdict, o.Message, at
	s.Flapping = cs.breaker.flapping()
	if o.Topology != nil {
		s.Leader = o.Topology.Leader
	}
	s.Drift = map[string]int{}
	s.PendingRestart = map[string]bool{}
	for _, ch := range o.Left.Changes {
		if ch.Drift() {
			s.Drift[string(ch.Kind.DriftClass())]++
		}
		if ch.RequiresRestart {
			s.PendingRestart[ch.Instance] = true
		}
	}
	if o.Result != nil {
		for _, oc := range o.Result.Outcomes {
			if oc.Pending {
				s.PendingRestart[oc.Change.Instance] = true
			}
		}
	}
	cs.retry, cs.busyWait = nil, 0
	switch o.Verdict {
	case plan.VerdictSuccess:
		s.LastSuccess = at
		cs.backoff, cs.notUntil = 0, time.Time{}
	case plan.VerdictFailure, plan.VerdictRefused:
		cs.backoff = min(max(cs.backoff*2, minBackoff), maxBackoff)
		cs.notUntil = at.Add(cs.backoff)
	}
}

// setHeld records the changes a cluster's last reconcile held for their
// impact.
func (t *clusterTable) setHeld(cluster string, held []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cs := t.m[cluster]; cs != nil {
		cs.status.Held = held
	}
}

// statuses is what /status shows of every cluster, sorted by name.
func (t *clusterTable) statuses() []ClusterStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := []ClusterStatus{}
	for _, cs := range t.m {
		s := cs.status
		s.Source = cs.source
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Cluster < out[j].Cluster })
	return out
}
