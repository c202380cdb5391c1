package reconcile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/pgreconciler/pgreconciler/internal/config"
	"github.com/pgreconciler/pgreconciler/internal/drift"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/source"
	"github.com/pgreconciler/pgreconciler/internal/spec"
)

// sourceState is what the daemon knows of one source. Guarded by Daemon.mu.
type sourceState struct {
	name   string
	cfg    config.Source
	src    *source.Source
	secret []byte // webhook secret

	good      *revision         // the last verified, valid commit: what clusters converge to
	failed    map[string]string // commits refused or invalid → why (not retried until a reload)
	fetched   bool              // a fetch reached the repository at least once
	lastFetch time.Time
	lastError string
}

// revision is a verified, valid commit and its model.
type revision struct {
	commit, signer, author string
	desired                *model.Desired
	snap                   *source.Snapshot
	marked                 bool // recorded as last applied in the state directory
	pending                map[string]bool
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
// valid becomes the target of its clusters; a refused or invalid commit is
// recorded once and not retried until the configuration is reloaded; the
// daemon stays on the last good commit.
func (d *Daemon) fetch(ctx context.Context, g *generation, name string) {
	d.mu.Lock()
	st := d.sources[name]
	d.mu.Unlock()
	if st == nil {
		return
	}
	snap, err := st.src.Resolve(ctx, "")
	now := d.now()
	var ref *source.Refusal
	switch {
	case errors.As(err, &ref):
		d.mu.Lock()
		st.fetched, st.lastFetch = true, now
		_, seen := st.failed[ref.Commit]
		st.failed[ref.Commit] = ref.Error()
		st.lastError = ref.Error()
		d.mu.Unlock()
		d.rec.SourceFetched(name, now)
		if !seen {
			d.rec.VerificationFailed(name, string(ref.Kind))
			d.log.Error("commit refused: staying on the last good commit", "source", name, "commit", ref.Commit,
				"reason", ref.Reason, "kind", string(ref.Kind))
		}
		return
	case err != nil:
		d.mu.Lock()
		st.lastError = err.Error()
		d.mu.Unlock()
		if ctx.Err() == nil {
			d.log.Warn("fetch failed: will retry", "source", name, "err", err)
		}
		return
	}
	d.rec.SourceFetched(name, now)
	d.mu.Lock()
	st.fetched, st.lastFetch = true, now
	if st.good != nil && st.good.commit == snap.Commit {
		st.lastError = ""
		d.mu.Unlock()
		return
	}
	if why, failed := st.failed[snap.Commit]; failed {
		st.lastError = why
		d.mu.Unlock()
		return
	}
	d.mu.Unlock()

	res, err := d.loader.Load(snap.FS, spec.Options{Profile: g.cfg.Profile})
	if err != nil {
		// Reading the commit failed: not a verdict on it, so try again.
		d.mu.Lock()
		st.lastError = err.Error()
		d.mu.Unlock()
		d.log.Warn("cannot read the commit's spec: will retry", "source", name, "commit", snap.Commit, "err", err)
		return
	}
	if err := res.Err(); err != nil {
		d.mu.Lock()
		if res.Final() {
			st.failed[snap.Commit] = err.Error()
		}
		st.lastError = err.Error()
		d.mu.Unlock()
		d.rec.VerificationFailed(name, drift.ReasonInvalid)
		d.log.Error("spec invalid: staying on the last good commit", "source", name, "commit", snap.Commit, "err", err)
		return
	}
	rev := &revision{commit: snap.Commit, signer: snap.Signer.String(), author: snap.Author, desired: res.Desired,
		snap: snap, pending: map[string]bool{}}
	for _, c := range res.Desired.Clusters {
		rev.pending[c.Name] = true
	}
	d.mu.Lock()
	old := st.good
	st.good, st.lastError = rev, ""
	d.mu.Unlock()
	d.rec.SetSource(name, snap.Commit, snap.Signer.String())
	d.log.Info("new commit verified", "source", name, "commit", snap.Commit, "signer", snap.Signer.String(),
		"author", snap.Author, "clusters", len(res.Desired.Clusters))
	d.forgetGone(old, rev)
	for _, c := range res.Desired.Clusters {
		d.enqueue(g, job{cluster: c.Name, source: name, reason: "commit " + short12(snap.Commit), fresh: true})
	}
}

// forgetGone drops clusters a new commit no longer declares: their
// metrics and status go; their databases are of course left alone.
func (d *Daemon) forgetGone(old, now *revision) {
	if old == nil {
		return
	}
	for _, c := range old.desired.Clusters {
		if now.desired.Cluster(c.Name) == nil {
			d.mu.Lock()
			delete(d.clusters, c.Name)
			d.mu.Unlock()
			d.rec.ForgetCluster(c.Name)
			d.log.Info("cluster left the spec: no longer reconciled", "cluster", c.Name)
		}
	}
}

// watchRefs watches a local repository's refs so that a commit or push is
// picked up at once; remote sources are polled only.
func (d *Daemon) watchRefs(ctx context.Context, repo string, kick chan struct{}) *fsnotify.Watcher {
	if source.IsRemote(repo) {
		return nil
	}
	gitDir := filepath.Join(repo, ".git")
	if st, err := os.Stat(gitDir); err != nil || !st.IsDir() {
		gitDir = repo // a bare repository
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		d.log.Warn("cannot watch the repository; polling only", "repo", repo, "err", err)
		return nil
	}
	for _, dir := range []string{gitDir, filepath.Join(gitDir, "refs", "heads"), filepath.Join(gitDir, "refs", "tags")} {
		_ = filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				_ = w.Add(p)
			}
			return nil
		})
	}
	go func() {
		var debounce <-chan time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if ev.Has(fsnotify.Create) {
					if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
						_ = w.Add(ev.Name) // a new branch directory (feature/x)
					}
				}
				debounce = time.After(100 * time.Millisecond)
			case <-debounce:
				select {
				case kick <- struct{}{}:
				default:
				}
			case <-w.Errors:
			}
		}
	}()
	return w
}

func short12(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
