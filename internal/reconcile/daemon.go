package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/config"
	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/drift"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/source"
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
type Daemon struct {
	log    *slog.Logger
	reg    *prometheus.Registry
	rec    *drift.Recorder
	loader *spec.Loader
	now    func() time.Time

	mu       sync.Mutex
	cfg      *config.Config
	sources  map[string]*sourceState
	clusters map[string]*clusterState
	gen      *generation
}

// New creates a daemon with a configuration that has been loaded and
// checked (config.Load).
func New(cfg *config.Config, log *slog.Logger) (*Daemon, error) {
	reg := drift.NewRegistry()
	rec, err := drift.NewRecorder(reg)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	loader, err := spec.NewLoader()
	if err != nil {
		return nil, err
	}
	return &Daemon{log: log, reg: reg, rec: rec, loader: loader, now: time.Now,
		cfg: cfg, sources: map[string]*sourceState{}, clusters: map[string]*clusterState{}}, nil
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
	queue   chan job
	wg      sync.WaitGroup // triggers and workers
	kicks   map[string]chan struct{}
}

// preparedSource is a source of a configuration that has not started yet.
type preparedSource struct {
	cfg    config.Source
	src    *source.Source
	secret []byte
}

// prepared is a configuration whose files have all been read and whose
// sources are configured, ready to replace the running one.
type prepared struct {
	g       *generation
	sources []preparedSource
}

// prepare reads everything a configuration needs (trust, keys, secrets)
// and configures its sources, without touching the running daemon.
func (d *Daemon) prepare(cfg *config.Config) (*prepared, error) {
	g := &generation{cfg: cfg, queue: make(chan job, 1024), kicks: map[string]chan struct{}{}}
	conn := cfg.Connection
	per := map[string]dbconn.Settings{}
	for name, s := range conn.Clusters {
		per[name] = settings(s)
	}
	g.dialer = dbconn.New(settings(conn.Settings), per)
	switch cfg.HBA.Writer {
	case "ssh":
		w, err := apply.NewSSHWriter(apply.SSHConfig{User: cfg.HBA.SSHUser, KeyFile: cfg.HBA.SSHKey,
			KnownHostsFile: cfg.HBA.KnownHosts, Port: cfg.HBA.SSHPort})
		if err != nil {
			return nil, fmt.Errorf("hba writer: %w", err)
		}
		g.hba = w
	default:
		g.hba = apply.NewLocalWriter()
	}
	trust, err := source.LoadTrust(source.TrustFiles{PGPKeys: cfg.Trust.PGPKeys, AllowedSigners: cfg.Trust.AllowedSigners})
	if err != nil {
		return nil, err
	}
	pol, err := source.ParsePolicy(cfg.Trust.Mode)
	if err != nil {
		return nil, err
	}
	p := &prepared{g: g}
	for _, sc := range cfg.Sources {
		auth, err := authOf(sc.Auth)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", sc.Name, err)
		}
		src, err := source.New(source.Config{
			Name: sc.Name, URL: sc.URL, Branch: sc.Branch, Tag: sc.Tag, Path: sc.Path,
			CacheDir: cfg.CacheDir, StateDir: cfg.StateDir, Auth: auth, Trust: trust, Policy: pol, AllowRewind: sc.AllowRewind,
			Logger: d.log.With("source", sc.Name),
		})
		if err != nil {
			return nil, err
		}
		ps := preparedSource{cfg: sc, src: src}
		if sc.WebhookSecretFile != "" {
			b, err := os.ReadFile(sc.WebhookSecretFile)
			if err != nil {
				return nil, fmt.Errorf("source %s: webhook secret: %w", sc.Name, err)
			}
			ps.secret = trimSecret(b)
		}
		p.sources = append(p.sources, ps)
	}
	return p, nil
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
		st.src, st.cfg, st.secret = ps.src, ps.cfg, ps.secret
		installed = append(installed, st)
		keep[ps.cfg.Name] = true
		g.kicks[ps.cfg.Name] = make(chan struct{}, 1)
	}
	var goneSources, goneClusters []string
	for name := range d.sources {
		if keep[name] {
			continue
		}
		delete(d.sources, name)
		goneSources = append(goneSources, name)
		for cname, cs := range d.clusters {
			if cs.source == name {
				delete(d.clusters, cname)
				goneClusters = append(goneClusters, cname)
			}
		}
	}
	d.gen = g
	d.mu.Unlock()
	if reload {
		for _, st := range installed {
			d.forgetRefused(st, cfg.StateDir)
		}
	}
	for _, name := range goneSources {
		d.rec.ForgetSource(name)
		d.log.Info("source removed: its clusters are no longer reconciled", "source", name)
	}
	for _, name := range goneClusters {
		d.rec.ForgetCluster(name)
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
}

func settings(s config.Settings) dbconn.Settings {
	return dbconn.Settings{User: s.User, Passfile: s.Passfile, SSLMode: s.SSLMode, SSLRootCert: s.SSLRootCert,
		SSLCert: s.SSLCert, SSLKey: s.SSLKey, ConnectTimeout: s.ConnectTimeout.D()}
}

func authOf(a config.Auth) (source.Auth, error) {
	out := source.Auth{Username: a.Username, SSHKeyFile: a.SSHKey, KnownHostsFile: a.KnownHosts}
	if a.PasswordFile != "" {
		b, err := os.ReadFile(a.PasswordFile)
		if err != nil {
			return out, fmt.Errorf("read password_file: %w", err)
		}
		out.Password = model.NewSecret(string(trimSecret(b)))
	}
	return out, nil
}

func trimSecret(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
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
