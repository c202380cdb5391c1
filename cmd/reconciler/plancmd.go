package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/reconcile"
)

// planFlags are shared by plan and apply.
type planFlags struct {
	sourceFlags
	clusters listFlag
	profile  string
	format   string
}

func (f *planFlags) register(fs flagSet) {
	f.sourceFlags.register(fs)
	fs.Var(&f.clusters, "cluster", "only this cluster `name` (repeatable; default: every cluster)")
	fs.StringVar(&f.profile, "profile", "baseline", "policy `profile` the spec must pass: baseline, strict or none")
	fs.StringVar(&f.format, "format", "text", "output `format`: text, markdown or json")
}

// fleet is a resolved, validated spec narrowed to the chosen clusters.
type fleet struct {
	target  *target
	desired *model.Desired
}

// loadFleet resolves and validates the spec and keeps the chosen clusters.
func (f *planFlags) loadFleet(ctx context.Context, e *env, cmd string) (*fleet, int) {
	if !oneOf(e.stderr, "format", f.format, "text", "markdown", "json") {
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
	if t.src != nil && f.stateDir != "" && f.trusted() {
		if code := checkChangeLogs(ctx, e, cmd, t, desired); code != exitOK {
			return nil, code
		}
	}
	return &fleet{target: t, desired: desired}, exitOK
}

// checkChangeLogs checks the commit against what the change logs of the
// chosen clusters record as applied, as the daemon does: with a state
// directory, a commit older than one a cluster has applied is a rewind
// (--allow-rewind), also when the state directory has lost it. A cluster
// whose change log cannot be read is not checked (nothing can be applied
// to it either).
func checkChangeLogs(ctx context.Context, e *env, cmd string, t *target, desired *model.Desired) int {
	floors, unread := reconcile.ChangeLogFloors(ctx, dbconn.New(dbconn.Settings{}, nil), desired.Clusters, 4)
	for _, c := range desired.Clusters {
		if err := unread[c.Name]; err != nil {
			fmt.Fprintf(e.stderr, "reconciler %s: warning: commit not checked against the change log of cluster %s: %v\n", cmd, c.Name, err)
		}
	}
	rep, err := t.src.Recheck(ctx, t.commit, floors)
	switch {
	case err != nil:
		return errorf(e, cmd, "%v", err)
	case rep.Refusal != nil:
		fmt.Fprintf(e.stderr, "reconciler %s: refused: %v\n", cmd, rep.Refusal)
		fmt.Fprintf(e.stderr, "reconciler %s: nothing was changed\n", cmd)
		return exitFail
	}
	return exitOK
}

// dialer builds the session opener: libpq environment variables, and the
// commit in application_name once known.
func (fl *fleet) dialer() *dbconn.Dialer {
	d := dbconn.New(dbconn.Settings{}, nil)
	if fl.target.commit != "" {
		d = d.WithCommit(fl.target.commit)
	}
	return d
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
	fs := newFlags(e, "plan", "plan [--repo DIR|URL] [--rev REV] [--cluster NAME]... [--format text|markdown|json] [--detailed-exitcode]")
	var f planFlags
	f.register(fs)
	detailed := fs.Bool("detailed-exitcode", false, "exit 2 when the live state differs from the spec (0 = in sync, 1 = error)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fl, code := f.loadFleet(ctx, e, "plan")
	if fl == nil {
		return code
	}
	p := &plan.Plan{Commit: fl.target.commit, Signer: fl.target.signer}
	d := fl.dialer()
	failed := false
	for _, c := range fl.desired.Clusters {
		// An instance that cannot be inspected is reported once, in the
		// plan (cp.Errors), whatever the format.
		cp, _, errs := reconcile.PlanCluster(ctx, d, c)
		failed = failed || len(errs) > 0
		p.Clusters = append(p.Clusters, cp)
	}
	if err := writePlan(e, p, f.format); err != nil {
		return errorf(e, "plan", "%v", err)
	}
	switch {
	case failed:
		return exitFail
	case *detailed && p.HasDrift():
		return exitDrift
	}
	return exitOK
}
