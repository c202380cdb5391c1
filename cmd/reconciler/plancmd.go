package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/daemon"
	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/reconcile"
)

// planFlags are shared by plan and apply.
type planFlags struct {
	sourceFlags
	clusters  listFlag
	profile   string
	format    string
	patroni   patroniFlags
	pgbouncer bool
	logWindow time.Duration
}

func (f *planFlags) register(fs flagSet) {
	f.sourceFlags.register(fs)
	fs.Var(&f.clusters, "cluster", "only this cluster `name` (repeatable; default: every cluster)")
	fs.StringVar(&f.profile, "profile", "baseline", "policy `profile` the spec must pass: baseline, strict or none")
	fs.StringVar(&f.format, "format", "text", "output `format`: text, markdown or json")
	f.patroni.register(fs)
	fs.BoolVar(&f.pgbouncer, "pgbouncer", false, "read (and with apply, write) the PgBouncer beside every instance: drift class pgbouncer")
	fs.DurationVar(&f.logWindow, "log-window", 24*time.Hour, "impact preview: also count the connections the servers logged within this `duration` (log_connections, csvlog; 0: none)")
}

// fleet is a resolved, validated spec narrowed to the chosen clusters.
type fleet struct {
	target  *target
	desired *model.Desired
	patroni *reconcile.PatroniAccess // nil: the leader from the catalog alone
	// unread are the clusters whose change log could not be read when the
	// commit was checked against it: apply checks them under the lock.
	unread map[string]error
	// floorSessions are the sessions the change logs were read on, for
	// the reconciles to take (nil without a state directory).
	floorSessions *daemon.FloorSessions
	// logWindow is --log-window: how far back the impact preview counts
	// the connections the servers logged.
	logWindow time.Duration
}

// loadFleet resolves and validates the spec and keeps the chosen clusters.
func (f *planFlags) loadFleet(ctx context.Context, e *env, cmd string) (*fleet, int) {
	if !oneOf(e.stderr, "format", f.format, "text", "markdown", "json") {
		return nil, exitUsage
	}
	if f.logWindow < 0 {
		fmt.Fprintf(e.stderr, "reconciler %s: --log-window %s: want 0 (none) or a positive duration\n", cmd, f.logWindow)
		return nil, exitUsage
	}
	loader, code := newLoader(e, cmd, f.profile)
	if loader == nil {
		return nil, code
	}
	t, code := f.resolve(ctx, e, cmd)
	if t == nil {
		return nil, code
	}
	desired, code := loadSpec(e, cmd, loader, t.fsys, t.display, f.profile)
	if desired == nil {
		return nil, code
	}
	if len(f.clusters) > 0 {
		var keep []*model.Cluster
		for _, name := range f.clusters {
			c := desired.Cluster(name)
			if c == nil {
				return nil, errorf(e, cmd, "no cluster %q in the spec", name)
			}
			keep = append(keep, c)
		}
		desired = &model.Desired{Clusters: keep}
	}
	fl := &fleet{target: t, desired: desired, patroni: f.patroni.access(), logWindow: f.logWindow}
	if t.src != nil && f.stateDir != "" && f.trusted() {
		if fl.unread, fl.floorSessions, code = checkChangeLogs(ctx, e, cmd, t, desired); code != exitOK {
			return nil, code
		}
	}
	return fl, exitOK
}

// checkChangeLogs checks the commit against what the change logs of the
// chosen clusters record as applied, as the daemon does: with a state
// directory, a commit older than one a cluster has applied is a rewind
// (--allow-rewind), also when the state directory has lost it. A cluster
// whose change log cannot be read is returned: apply reads it again under
// the cluster's apply lock, before anything is applied to it. The change
// logs are read on sessions carrying the commit, returned for the
// reconciles to take (one login per primary, not two).
func checkChangeLogs(ctx context.Context, e *env, cmd string, t *target, desired *model.Desired) (map[string]error, *daemon.FloorSessions, int) {
	sessions := daemon.NewFloorSessions()
	d := dbconn.New(dbconn.Settings{}, nil).WithCommit(t.prov.Commit)
	floors, unread := daemon.ChangeLogFloors(ctx, d, desired.Clusters, 4, sessions)
	for _, c := range desired.Clusters {
		if err := unread[c.Name]; err != nil {
			fmt.Fprintf(e.stderr, "reconciler %s: warning: commit not checked against the change log of cluster %s: %v\n", cmd, c.Name, err)
		}
	}
	rep, err := t.src.Recheck(ctx, t.prov.Commit, floors)
	switch {
	case err != nil:
		sessions.Close()
		return nil, nil, errorf(e, cmd, "%v", err)
	case rep.Refusal != nil:
		sessions.Close()
		fmt.Fprintf(e.stderr, "reconciler %s: refused: %v\n", cmd, rep.Refusal)
		fmt.Fprintf(e.stderr, "reconciler %s: nothing was changed\n", cmd)
		return nil, nil, exitFail
	}
	return unread, sessions, exitOK
}

// close closes the change logs' sessions no reconcile took.
func (fl *fleet) close() {
	if fl.floorSessions != nil {
		fl.floorSessions.Close()
	}
}

// reconcile reconciles every chosen cluster with opts, one after the
// other, as the daemon reconciles one (package reconcile): connections
// from the libpq environment variables, the commit in application_name.
func (fl *fleet) reconcile(ctx context.Context, opts reconcile.Options) []reconcile.Outcome {
	d := dbconn.New(dbconn.Settings{}, nil)
	opts.Provenance = fl.target.prov
	opts.Patroni = fl.patroni
	opts.LogWindow = fl.logWindow
	if fl.floorSessions != nil {
		opts.Sessions = fl.floorSessions
		defer fl.close()
	}
	var out []reconcile.Outcome
	for _, c := range fl.desired.Clusters {
		o := opts
		if fl.unread[c.Name] != nil && opts.Mode == reconcile.ModeApply {
			o.Gate = func(ctx context.Context) error {
				return daemon.RecheckChangeLog(ctx, fl.target.src, d, c, fl.target.prov.Commit)
			}
		}
		// A target always has a cluster and a dialer: err is never set.
		oc, _ := reconcile.Cluster(ctx, reconcile.Target{Cluster: c, Dialer: d}, o)
		out = append(out, oc)
	}
	return out
}

// planOf is the plan the outcomes were reconciled from, as it is printed:
// every cluster's, with the instances (and locks) that failed named once.
func (fl *fleet) planOf(outcomes []reconcile.Outcome) *plan.Plan {
	p := &plan.Plan{Commit: fl.target.prov.Commit, Signer: fl.target.prov.Signer}
	for _, o := range outcomes {
		p.Clusters = append(p.Clusters, o.Plan)
	}
	return p
}

// failed reports whether a reconcile did not succeed.
func failed(outcomes []reconcile.Outcome) bool {
	for _, o := range outcomes {
		if o.Verdict != plan.VerdictSuccess {
			return true
		}
	}
	return false
}

func writePlan(e *env, p *plan.Plan, format string) error {
	switch format {
	case "markdown":
		return p.WriteMarkdown(e.stdout)
	case "json":
		return p.WriteJSON(e.stdout)
	}
	return p.WriteText(e.stdout)
}

func runPlan(e *env, args []string) int {
	fs := newFlags(e, "plan", "plan [--repo DIR|URL] [--rev REV] [--cluster NAME]... [--format text|markdown|json] [--detailed-exitcode] [--fail-on-impact]")
	var f planFlags
	f.register(fs)
	detailed := fs.Bool("detailed-exitcode", false, "exit 2 when the live state differs from the spec (0 = in sync, 1 = error)")
	failOnImpact := fs.Bool("fail-on-impact", false, "exit 3 when the plan would cut off live clients, unless the commit carries the trailer Impact-Accepted: yes")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fl, code := f.loadFleet(ctx, e, "plan")
	if fl == nil {
		return code
	}
	opts := reconcile.Options{Mode: reconcile.ModePlan}
	if f.pgbouncer { // the poolers' files are read on this host
		opts.PgBouncer = apply.NewLocalWriter()
	}
	outcomes := fl.reconcile(ctx, opts)
	// An instance that cannot be inspected is reported once, in the plan
	// (its Errors), whatever the format.
	p := fl.planOf(outcomes)
	if err := writePlan(e, p, f.format); err != nil {
		return errorf(e, "plan", "%v", err)
	}
	switch {
	case failed(outcomes):
		return exitFail
	case *failOnImpact && impactRefused(e, fl.target, p):
		return exitImpact
	case *detailed && p.HasDrift():
		return exitDrift
	}
	return exitOK
}
