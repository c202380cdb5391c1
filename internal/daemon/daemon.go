package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/config"
	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/drift"
	"github.com/pgreconciler/pgreconciler/internal/spec"
)

// Daemon is `reconciler run`: it follows signed commits of its sources,
// applies them to the clusters they describe, checks every cluster for
// drift on a timer, and serves metrics, health and status over HTTP.
//
// A configuration is run as a generation: its sources, workers and
// triggers. Reload (SIGHUP) checks the new file and, only when it is
// valid, lets the running generation finish its in-flight reconciles and
// starts a new one; status and metrics carry over.
//
// Who owns what (doc.go says why): mu guards the running configuration,
// its generation and which sources there are; each sourceState guards its
// own fields and its revisions; clusters guards every cluster's
// scheduling, backoff, breaker and status. No two of these locks are ever
// held at once.
type Daemon struct {
	log      *slog.Logger
	reg      *prometheus.Registry
	rec      *drift.Recorder
	topo     *drift.TopologyRecorder
	controls *drift.ControlRecorder // the periodic audit's (audit.go)
	sessions *drift.SessionRecorder // opened, reused, kept (keptsessions.go)
	loader   *spec.Loader
	now      func() time.Time
	clusters *clusterTable
	shard    config.Shard // read at start; a reload keeps it (shard.go)

	mu      sync.Mutex
	cfg     *config.Config
	sources map[string]*sourceState
	gen     *generation
}

// New creates a daemon with a configuration that has been loaded and
// checked (config.Load).
func New(cfg *config.Config, log *slog.Logger) (*Daemon, error) {
	reg := drift.NewRegistry()
	rec, err := drift.NewRecorder(reg)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	topo, err := drift.NewTopologyRecorder(reg)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	controls, err := drift.NewControlRecorder(reg)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	sessions, err := drift.NewSessionRecorder(reg)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	loader, err := spec.NewLoader()
	if err != nil {
		return nil, err
	}
	shard, err := config.ResolveShard(cfg.Shard, os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("shard: %w", err)
	}
	return &Daemon{log: log, reg: reg, rec: rec, topo: topo, controls: controls, sessions: sessions, loader: loader, now: time.Now, shard: shard,
		clusters: newClusterTable(), cfg: cfg, sources: map[string]*sourceState{}}, nil
}

// Run serves until ctx is done: HTTP on the configured address, and a
// generation of the configuration. reload delivers new configurations
// (nil entries are ignored). On shutdown, in-flight reconciles get grace
// to finish their transactions before their context is cancelled.
func (d *Daemon) Run(ctx context.Context, reload <-chan *config.Config, grace time.Duration) error {
	ln, err := net.Listen("tcp", d.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", d.cfg.Listen, err)
	}
	srv := &http.Server{Handler: d.handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("http server stopped", "err", err)
		}
	}()
	d.log.Info("listening", "addr", ln.Addr().String())
	d.limitMemory(d.cfg)

	first, err := d.prepare(d.cfg)
	if err != nil {
		_ = srv.Close()
		return err
	}
	gen := d.launch(first)
	for {
		select {
		case <-ctx.Done():
			d.log.Info("shutting down: letting in-flight reconciles finish", "grace", grace)
			gen.stop(grace)
			shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(shut)
			d.log.Info("stopped")
			return nil
		case cfg, open := <-reload:
			if !open {
				reload = nil // no more reloads; a nil channel never fires
				continue
			}
			if cfg == nil {
				continue
			}
			d.log.Info("configuration reloaded: restarting sources and workers")
			if cfg.Listen != d.cfg.Listen {
				d.log.Warn("listen address changes take effect at the next restart", "listening", d.cfg.Listen, "configured", cfg.Listen)
			}
			if s, err := config.ResolveShard(cfg.Shard, os.Getenv); err == nil && s != d.shard {
				d.log.Warn("shard changes take effect at the next restart", "shard", d.shard.String(), "configured", s.String())
			}
			if cfg.LogFormat != d.cfg.LogFormat {
				d.log.Warn("log format changes take effect at the next restart", "logging", d.cfg.LogFormat, "configured", cfg.LogFormat)
			}
			// Build the new generation before stopping the old one: a
			// configuration that cannot start (a missing key file, a bad
			// source) is refused and the daemon keeps running on the old.
			next, err := d.prepare(cfg)
			if err != nil {
				d.log.Error("configuration refused: keeping the previous one", "err", err)
				continue
			}
			gen.stop(grace)
			d.mu.Lock()
			d.cfg = cfg
			d.mu.Unlock()
			d.limitMemory(cfg)
			gen = d.launch(next)
		}
	}
}

// limitMemory applies the configured memory limit and logs the one in
// force.
func (d *Daemon) limitMemory(cfg *config.Config) {
	limit, from := applyMemoryLimit(cfg.MemoryLimit, os.Getenv)
	d.log.Info("memory limit", "bytes", limit, "limit", config.ByteSize(limit).String(), "from", from)
}

// applyMemoryLimit sets the Go runtime's soft memory limit (the garbage
// collector works harder as the heap nears it) to limit, unless GOMEMLIMIT
// is set: the runtime read it at start and, as for any Go program, it
// wins. It returns the limit in force and where it came from.
func applyMemoryLimit(limit config.ByteSize, getenv func(string) string) (int64, string) {
	if getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1), "GOMEMLIMIT"
	}
	debug.SetMemoryLimit(limit.Bytes())
	return limit.Bytes(), "memory_limit"
}

// generation is one configuration at work.
type generation struct {
	cfg     *config.Config
	dialer  *dbconn.Dialer
	hba     apply.HBAWriter
	cancel  context.CancelFunc // stops triggers and scheduling
	workCtx context.Context    // given to reconciles; cancelled after grace
	stopWk  context.CancelFunc
	queue   *workQueue     // clusters to reconcile (each at most once: clusterState.queued)
	slots   *sessionCap    // max_sessions (sessions.go)
	kept    *keptSessions  // drift checks' sessions, kept for the next (keptsessions.go)
	wg      sync.WaitGroup // triggers and workers
	kicks   map[string]chan struct{}
}

// launch makes a prepared configuration the running one: it installs its
// sources, then starts the source loops, the drift timer and the workers.
// On a reload, verdicts on refused or invalid commits are forgotten (in
// the state directory too): the new trust, profile or allow_rewind may
// judge them differently. At start they are read from the state directory.
func (d *Daemon) launch(p *prepared) *generation {
	g, cfg := p.g, p.g.cfg
	d.mu.Lock()
	reload := d.gen != nil
	var installed []*sourceState
	keep := map[string]bool{}
	for _, ps := range p.sources {
		st := d.sources[ps.cfg.Name]
		if st == nil {
			st = &sourceState{name: ps.cfg.Name}
			d.sources[ps.cfg.Name] = st
		}
		installed = append(installed, st)
		keep[ps.cfg.Name] = true
		g.kicks[ps.cfg.Name] = make(chan struct{}, 1)
	}
	var goneSources []string
	for name := range d.sources {
		if !keep[name] {
			delete(d.sources, name)
			goneSources = append(goneSources, name)
		}
	}
	d.gen = g
	d.mu.Unlock()
	for i, st := range installed {
		st.install(p.sources[i])
	}
	if reload {
		for _, st := range installed {
			d.forgetRefused(st, cfg.StateDir)
		}
	}
	for _, name := range goneSources {
		for _, c := range d.clusters.forgetSource(name) {
			d.forgetMetrics(c)
			g.kept.forget(c)
		}
		d.rec.ForgetSource(name)
		d.log.Info("source removed: its clusters are no longer reconciled", "source", name)
	}
	// What the last generation was asked to reconcile and did not start is
	// asked of this one.
	for _, name := range d.clusters.requeue() {
		d.send(g, name)
	}

	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	g.workCtx, g.stopWk = context.WithCancel(context.Background())
	for _, sc := range cfg.Sources {
		g.wg.Add(1)
		go func() { defer g.wg.Done(); d.sourceLoop(ctx, g, sc.Name) }()
	}
	g.wg.Add(1)
	go func() { defer g.wg.Done(); d.driftLoop(ctx, g) }()
	g.wg.Add(1)
	go func() { defer g.wg.Done(); d.auditLoop(ctx, g) }()
	g.wg.Add(1)
	go func() { defer g.wg.Done(); d.retryLoop(ctx, g) }()
	if g.kept != nil {
		g.wg.Add(1)
		go func() { defer g.wg.Done(); g.kept.expireLoop(ctx) }()
	}
	for range cfg.Concurrency {
		g.wg.Add(1)
		go func() { defer g.wg.Done(); d.worker(ctx, g) }()
	}
	return g
}

// stop ends a generation: no new work; in-flight reconciles get grace to
// finish before their context is cancelled.
func (g *generation) stop(grace time.Duration) {
	g.cancel()
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		g.stopWk()
		<-done
	}
	g.stopWk()
	g.kept.closeAll()
}

// kick asks a source to fetch now (webhook, fsnotify).
func (d *Daemon) kick(name string) bool {
	d.mu.Lock()
	g := d.gen
	d.mu.Unlock()
	if g == nil {
		return false
	}
	ch, ok := g.kicks[name]
	if !ok {
		return false
	}
	select {
	case ch <- struct{}{}:
	default: // a fetch is already pending
	}
	return true
}

// source is the source named name; nil when there is none.
func (d *Daemon) source(name string) *sourceState {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sources[name]
}

// sourceList is every source, sorted by name.
func (d *Daemon) sourceList() []*sourceState {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]*sourceState, 0, len(d.sources))
	for _, st := range d.sources {
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}
