package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
	"github.com/pgreconciler/pgreconciler/internal/testenv/bouncer"
)

// Options configure a demo run.
type Options struct {
	Bin      string    // the reconciler binary
	Dir      string    // working directory for the repository, keys, state and logs (.demo)
	Examples string    // examples/repo
	Base     string    // where the narrated commands run and what paths are shown relative to; default the current directory
	Out      io.Writer // the narration
	Keep     bool      // leave everything running until ctx is done, printing the URLs
	Wait     time.Duration
	PGMajor  int // the PostgreSQL major of the servers: 0 is 18, what a Pigsty v4 user has (DEMO_PG_VERSION)
}

type run struct {
	Options
	ctx     context.Context
	cluster *testenv.Cluster
	repo    string
	signers string
	key     string
	listen  string
	env     []string // the environment of every command: os.Environ() without PG* and GIT_*, plus exports
	exports []string // what env adds, as the narration prints it
	daemon  *exec.Cmd
	exited  chan struct{} // closed when the daemon has exited
	logFile *os.File
	pooler  *bouncer.Bouncer // the PgBouncer beside the primary
}

// Run plays the demo. It stops everything it started before returning
// (after ctx is done, when Keep is set). A ctx done before the last step
// makes Run return ctx.Err() (wrapped): the demo was interrupted.
func Run(ctx context.Context, o Options) (err error) {
	if o.Wait == 0 {
		o.Wait = 60 * time.Second
	}
	if o.Base == "" {
		if o.Base, err = os.Getwd(); err != nil {
			return err
		}
	}
	r := &run{Options: o, ctx: ctx}
	start := time.Now()
	defer func() { err = errors.Join(err, r.cleanup()) }()
	steps := []struct {
		title string
		fn    func() error
	}{
		{"Start a throwaway primary and replica, and a PgBouncer beside the primary", r.startCluster},
		{"Make a signed spec repository from examples/repo", r.makeRepo},
		{"Validate the spec", r.validate},
		{"The first plan", r.firstPlan},
		{"Run the daemon: it verifies the commit and applies it", r.startDaemon},
		{"A signed commit adds a user: it reaches the database through PgBouncer", r.pooledUserAdded},
		{"A signed change to a user and an HBA rule", r.signedChange},
		{"A manual ALTER ROLE: drift detected and healed", r.manualDrift},
		{"An unsigned commit is refused", r.unsignedCommit},
		{"What the metrics show", r.metrics},
	}
	for i, s := range steps {
		r.say("\n\033[1m== %d. %s\033[0m\n", i+1, s.title)
		if err := s.fn(); err != nil {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return fmt.Errorf("demo step %d (%s): %w", i+1, s.title, err)
		}
	}
	r.say("\nThe demo took %s.\n", time.Since(start).Round(time.Second))
	if o.Keep {
		r.keep()
		<-ctx.Done()
		r.say("\n")
	}
	return nil
}

func (r *run) say(format string, args ...any) { fmt.Fprintf(r.Out, format, args...) }

// keep prints how to reach what stays running.
func (r *run) keep() {
	r.say("\nStill running (DEMO_KEEP=1); press Ctrl-C to stop everything.\n")
	r.say("  metrics: http://%s/metrics\n  status:  http://%s/status\n", r.listen, r.listen)
	r.say("  env:     export %s\n", strings.Join(r.exports, " "))
	r.say("  psql:    psql 'host=%s port=%d dbname=postgres'   (with that env)\n", r.cluster.Primary.Addr, r.cluster.Port)
	r.say("  spec:    %s (edit, then git commit -S)\n  log:     %s\n", r.path(r.repo), r.path(r.logFile.Name()))
	r.say("  servers: %s (data directories, postgres.log)\n", r.clusterDir())
}

// cleanup stops the daemon, then the servers, and says so; an error means
// something did not stop cleanly.
func (r *run) cleanup() error {
	var errs []error
	if r.exited != nil {
		_ = r.daemon.Process.Signal(os.Interrupt)
		select {
		case <-r.exited:
		case <-time.After(20 * time.Second):
			_ = r.daemon.Process.Kill()
			<-r.exited
		}
		if code := r.daemon.ProcessState.ExitCode(); code != 0 {
			errs = append(errs, fmt.Errorf("the daemon exited %d on SIGINT (see %s)", code, r.path(r.logFile.Name())))
		} else {
			r.say("Stopped the daemon (exit 0).\n")
		}
	}
	if r.logFile != nil {
		_ = r.logFile.Close()
	}
	if r.pooler != nil {
		if err := r.pooler.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stop PgBouncer: %w", err))
		}
	}
	if r.cluster != nil {
		if err := r.cluster.Close(); err != nil {
			errs = append(errs, fmt.Errorf("stop the servers: %w", err))
		} else {
			r.say("Stopped the servers and removed %s.\n", r.clusterDir())
		}
	}
	return errors.Join(errs...)
}

// clusterDir holds the servers' data directories, logs and sockets.
func (r *run) clusterDir() string { return filepath.Dir(filepath.Dir(r.cluster.Primary.LogFile)) }

// startDaemonProcess starts `reconciler run` in the background, its output in
// daemon.log, in a process group of its own: a Ctrl-C reaches the demo,
// which stops the daemon before the servers.
func (r *run) startDaemonProcess(c command) error {
	var err error
	if r.logFile, err = os.Create(filepath.Join(r.Dir, "daemon.log")); err != nil {
		return err
	}
	c.redirect = ">" + shellQuote(r.path(r.logFile.Name())) + " 2>&1 &"
	r.say("$ %s\n", c.line())
	r.daemon = exec.Command(c.bin, c.argv[1:]...)
	r.daemon.Dir, r.daemon.Env, r.daemon.Stdout, r.daemon.Stderr = r.Base, r.env, r.logFile, r.logFile
	r.daemon.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := r.daemon.Start(); err != nil {
		return err
	}
	r.exited = make(chan struct{})
	go func() { _ = r.daemon.Wait(); close(r.exited) }()
	return nil
}

// environment is the demo's own environment without libpq and git
// variables that would steer the commands elsewhere, plus exports.
func environment(exports []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "GIT_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, exports...)
}
