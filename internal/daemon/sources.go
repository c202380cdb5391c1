package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/config"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/source"
	"github.com/pgreconciler/pgreconciler/internal/spec"
)

// sourceState is what the daemon knows of one source. mu guards its
// fields and the mutable fields of its revisions; saveMu orders the
// writes of refused commits to the state directory (Daemon.remember).
type sourceState struct {
	name   string
	saveMu sync.Mutex

	mu     sync.Mutex
	cfg    config.Source
	src    *source.Source
	secret []byte // webhook secret

	good *revision // the last verified, valid commit: what clusters converge to
	// refused remembers the commits refused (not judged again until a
	// reload) and the one being evaluated, as the state directory does;
	// nil until read from it. Changed only through Daemon.remember.
	refused   *source.Refused
	fetched   bool // a fetch reached the repository at least once
	lastFetch time.Time
	lastError string
}

// revision is a verified, valid commit and its model. Its fields below
// prov are guarded by the mu of the source it belongs to.
type revision struct {
	prov    model.Provenance
	desired *model.Desired // the clusters of the daemon's shard
	total   int            // clusters in the commit's spec, every shard's
	snap    *source.Snapshot

	marked  bool            // recorded as last applied in the state directory
	pending map[string]bool // clusters not converged to it yet
	// floorPending are the clusters whose change log could not be read
	// when the commit was accepted: it is read before the first apply to
	// them, and a rewind found then brings back prev.
	floorPending map[string]bool
	prev         *revision
}

// install gives the source the configuration of a new generation.
func (st *sourceState) install(ps preparedSource) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.src, st.cfg, st.secret = ps.src, ps.cfg, ps.secret
}

// repo is the source's repository of the running generation.
func (st *sourceState) repo() *source.Source {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.src
}

// goodRevision is the revision clusters converge to; nil before the first.
func (st *sourceState) goodRevision() *revision {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.good
}

func (st *sourceState) setError(msg string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.lastError = msg
}

// sourceLoop fetches a source when its poll interval elapses, when its
// local repository's refs change (fsnotify), or when a webhook kicks it.
func (d *Daemon) sourceLoop(ctx context.Context, g *generation, name string) {
	var sc config.Source
	for _, s := range g.cfg.Sources {
		if s.Name == name {
			sc = s
		}
	}
	watcher := d.watchRefs(ctx, sc.URL, g.kicks[name])
	if watcher != nil {
		defer watcher.Close()
	}
	tick := time.NewTicker(sc.PollInterval.D())
	defer tick.Stop()
	for {
		d.fetch(ctx, g, name)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-g.kicks[name]:
		}
	}
}

// fetch resolves the source's branch: a new verified commit whose spec is
// valid, and that descends from what the clusters' change logs record,
// becomes the target of its clusters; a refused commit is recorded once
// (in the state directory too) and not read again until the configuration
// is reloaded; the daemon stays on the last good commit. After a restart,
// when the branch is refused, that is the last applied commit of the state
// directory, so that drift keeps being corrected.
func (d *Daemon) fetch(ctx context.Context, g *generation, name string) {
	st := d.source(name)
	if st == nil || !d.loadRefused(st, g.cfg.StateDir) {
		return
	}
	why := d.evaluate(ctx, g, st, "")
	if why == "" || st.goodRevision() != nil || g.cfg.StateDir == "" {
		return
	}
	last, err := source.LoadState(g.cfg.StateDir, name)
	if err != nil || last.Commit == "" {
		return
	}
	if d.evaluate(ctx, g, st, last.Commit) == "" {
		st.mu.Lock()
		ok := st.good != nil && st.good.prov.Commit == last.Commit
		if ok {
			st.lastError = why
		}
		st.mu.Unlock()
		if ok {
			d.log.Warn("the followed branch is refused: reconciling towards the last applied commit", "source", name, "commit", last.Commit)
		}
	}
}

// evaluate resolves wanted ("" = the followed branch or tag) and, for a
// commit not judged before, reads and validates its spec, checks it
// against the change logs of its clusters and makes it the good revision.
// It returns the refusal when the commit is refused (now or before), ""
// otherwise (accepted, unchanged, or an error worth a retry).
func (d *Daemon) evaluate(ctx context.Context, g *generation, st *sourceState, wanted string) string {
	name, dir := st.name, g.cfg.StateDir
	evaluating := false
	src := st.repo()
	snap, err := src.ResolveWith(ctx, wanted, func(commit string) error {
		err := d.admit(st, dir, commit)
		evaluating = err == nil
		return err
	})
	var ref *source.Refusal
	var known *knownRefusal
	if err == nil || errors.Is(err, errUnchanged) || errors.As(err, &known) || errors.As(err, &ref) {
		now := d.now()
		st.mu.Lock()
		st.fetched, st.lastFetch = true, now
		st.mu.Unlock()
		d.rec.SourceFetched(name, now)
	}
	switch {
	case errors.Is(err, errUnchanged):
		st.setError("")
		return ""
	case known != nil:
		st.setError(known.Reason)
		return known.Reason
	case ref != nil:
		d.refuse(st, dir, ref.Commit, ref.Kind, ref.Error(), "commit refused")
		return ref.Error()
	case err != nil:
		if evaluating { // the tree could not be read
			d.endEvaluating(st, dir)
		}
		st.setError(err.Error())
		if ctx.Err() == nil {
			d.log.Warn("fetch failed: will retry", "source", name, "err", err)
		}
		return ""
	}

	res, err := d.loader.Load(snap.FS, spec.Options{Profile: g.cfg.Profile})
	switch {
	case err != nil && specReadFailed(err):
		d.endEvaluating(st, dir)
		st.setError(err.Error())
		d.log.Warn("cannot read the commit's spec: will retry", "source", name, "commit", snap.Commit, "err", err)
		return ""
	case err != nil:
		// Not a failure to read: a verdict on the commit (the per-commit
		// budget of package spec, for one). Refused, and remembered.
		why := fmt.Sprintf("refuse commit %s: %v", snap.Commit, err)
		d.refuse(st, dir, snap.Commit, model.RefusalInvalid, why, "spec refused")
		return why
	case res.Err() != nil:
		// Invalid, over a limit, or out of evaluation time: remembered
		// like any refusal, so that a costly commit is evaluated once.
		why := fmt.Sprintf("refuse commit %s: %v", snap.Commit, res.Err())
		d.refuse(st, dir, snap.Commit, model.RefusalInvalid, why, "spec invalid")
		return why
	}
	d.endEvaluating(st, dir)
	total := len(res.Desired.Clusters)
	res.Desired = ownedOf(d.shard, res.Desired)

	// The clusters this commit leaves as they are, and that converged to
	// the last good commit, are not changed by it: their change logs are
	// not read (unchanged.go), so a commit touching one cluster of a
	// thousand reads one.
	before := st.goodRevision()
	var same []string
	if before != nil {
		same = sameClusters(before.desired, res.Desired)
	}
	settled := settledOf(st, before, same)
	// The sessions the change logs are read on are kept for the
	// reconciles of the commit (keptsessions.go: floorKeeper).
	dialer, keep := g.kept.floorKeeper(g.dialer, snap.Commit)
	floors, unread := changeLogFloors(ctx, dialer, without(res.Desired.Clusters, settled), g.cfg.Concurrency, g.slots, keep)
	rep, err := src.Recheck(ctx, snap.Commit, floors)
	switch {
	case err != nil:
		st.setError(err.Error())
		d.log.Warn("cannot check the commit against the change logs: will retry", "source", name, "commit", snap.Commit, "err", err)
		return ""
	case rep.Refusal != nil:
		g.kept.closeCommit(g.dialer, snap.Commit)
		d.refuse(st, dir, snap.Commit, rep.Refusal.Kind, rep.Refusal.Error(), "commit refused")
		return rep.Refusal.Error()
	}
	rev := &revision{prov: snap.Provenance(), desired: res.Desired, total: total,
		snap: snap, pending: map[string]bool{}, floorPending: map[string]bool{}}
	for _, c := range res.Desired.Clusters {
		rev.pending[c.Name] = true
	}
	for cluster, err := range unread {
		rev.floorPending[cluster] = true
		d.log.Warn("cannot read the cluster's change log: it is read again before anything is applied to the cluster",
			"source", name, "commit", snap.Commit, "cluster", cluster, "err", err)
	}
	st.mu.Lock()
	old := st.good
	skip := map[string]bool{}
	if old == before {
		skip = carryOver(old, rev, same) // unchanged.go
	} else {
		for name := range settled { // not read above: read before an apply
			rev.floorPending[name] = true
		}
	}
	if len(rev.floorPending) > 0 && old != nil {
		rev.prev = old
		old.prev = nil // one step back is kept, not the whole history
	}
	st.good, st.lastError = rev, ""
	st.mu.Unlock()
	d.rec.SetSource(name, snap.Commit, snap.Signer.String())
	d.log.Info("new commit verified", append([]any{"source", name, "commit", snap.Commit, "signer", snap.Signer.String(),
		"author", snap.Author, "clusters", len(res.Desired.Clusters)}, verifiedAttrs(d.shard, total, len(skip), len(floors))...)...)
	d.forgetGone(g, old, rev)
	if len(skip) > 0 {
		d.markApplied(st, rev, "") // every cluster unchanged and converged
	}
	for _, c := range res.Desired.Clusters {
		if !skip[c.Name] {
			d.enqueue(g, job{cluster: c.Name, source: name, reason: "commit " + model.ShortHash(snap.Commit), fresh: true})
		}
	}
	return ""
}

// specReadFailed reports whether a load error is a failure to read the
// spec files (worth a retry) rather than a verdict on the commit. The tree
// is held in memory, so this is rare.
func specReadFailed(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe)
}

// forgetGone drops clusters a new commit no longer declares: their
// metrics, status and kept sessions go; their databases are of course left
// alone.
func (d *Daemon) forgetGone(g *generation, old, now *revision) {
	if old == nil {
		return
	}
	for _, c := range old.desired.Clusters {
		if now.desired.Cluster(c.Name) == nil {
			d.clusters.forget(c.Name)
			d.forgetMetrics(c.Name)
			g.kept.forget(c.Name)
			d.log.Info("cluster left the spec: no longer reconciled", "cluster", c.Name)
		}
	}
}
