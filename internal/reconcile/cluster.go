package reconcile

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// Target is the cluster a reconcile works on.
type Target struct {
	Cluster *model.Cluster // the desired state: instances, roles, databases …
	Dialer  *dbconn.Dialer // opens the sessions; the reconcile puts Options.Provenance.Commit in their application_name
}

// Mode is how far a reconcile goes.
type Mode int

const (
	// ModePlan inspects and diffs: no lock, nothing executed
	// (`reconciler plan`; the daemon while every drift class observes).
	ModePlan Mode = iota
	// ModeDryRun is ModePlan, then the apply's dry run, which logs what
	// it would execute (`reconciler apply --dry-run`).
	ModeDryRun
	// ModeApply takes the cluster's apply lock first and holds it to the
	// end: inspect, diff, guard, apply, re-plan (`reconciler apply`; the
	// daemon while a drift class is in apply mode).
	ModeApply
)

// Options control a reconcile.
type Options struct {
	Mode Mode
	// Hold, when set, says why a change is not to be executed ("" = go
	// ahead): a drift class in observe mode, an object the circuit breaker
	// stopped correcting. See apply.Options.Hold.
	Hold func(plan.Change) string
	// Gate, when set, is asked under the apply lock, once the primary has
	// answered and before anything is applied — also when nothing is to be
	// applied, since a success counts the commit as applied to the
	// cluster. An error stops the reconcile: a *Refusal is a verdict on the
	// commit (VerdictRefused), any other a failure to retry. The daemon and
	// `reconciler apply --state-dir` check the commit against the cluster's
	// change log here when it could not be read before.
	Gate func(ctx context.Context) error
	// HBA writes pg_hba.conf; nil skips HBA changes with a clear reason.
	HBA apply.HBAWriter
	// PgBouncer, when set, has the PgBouncer beside every instance with
	// pgbouncer_enabled read (its admin console, and its files with this
	// reader), compared (drift class pgbouncer), and in ModeApply its files
	// written with this writer and reloaded. Nil: poolers are left alone.
	PgBouncer apply.HBAWriter
	// Retention bounds the change log; see apply.Options.Retention.
	Retention apply.Retention
	// Provenance is the commit the desired state comes from, for the
	// change log and the sessions' application_name.
	Provenance model.Provenance
	// Patroni, when set, reads and drives Patroni for the clusters it
	// manages (topology.go); nil: the leader comes from the catalog.
	Patroni *PatroniAccess
	// LogWindow, when positive, makes the inspection also read the
	// connections the servers logged within it (inspect.Options.LogWindow),
	// for the plan's impact preview.
	LogWindow time.Duration
	// Sessions, when set, lends the reconcile the sessions kept for its
	// instances (kept.go); a ModePlan reconcile gives back the ones it
	// inspected on, other modes close theirs. Nil: every session is
	// closed at the end of the reconcile.
	Sessions Sessions
	// Logger gets the apply's lines, one per change. The reconcile itself
	// logs nothing: its Outcome says what happened, for the caller to tell.
	Logger *slog.Logger
}

// Refusal is a Gate's "no" that needs a human (a commit that rewinds what
// the cluster's change log records), as opposed to a failure worth a retry.
type Refusal struct{ Err error }

func (r *Refusal) Error() string { return r.Err.Error() }
func (r *Refusal) Unwrap() error { return r.Err }

// Outcome is what one reconcile of a cluster did and found.
type Outcome struct {
	Cluster string
	Verdict plan.Verdict
	// Message says in one line why the verdict is not a success: the
	// instances that could not be inspected, the lock, the gate, the
	// apply's error, the changes that failed or were refused. "" on success.
	Message string

	// Plan is the plan made from the first inspection (under the lock in
	// ModeApply): the one the apply executed, and the one the CLI prints.
	// Its Errors name the instances that could not be inspected and a lock
	// that could not be taken, once each. A busy cluster is not inspected:
	// its Plan holds only that error.
	Plan plan.ClusterPlan
	// Instances are the instances the first inspection could not read, or
	// read only in part (an *inspect.PartialError).
	Instances []InstanceError
	// LockErr is why the apply lock could not be taken when the primary
	// answered all the same (too many connections, a timeout): nothing was
	// applied. Busy is a verdict of its own; an unreachable primary is
	// told by Instances.
	LockErr error
	// Err is what kept the apply from running, or stopped it, once the
	// lock was held: the primary unreachable, the Gate, the apply's own
	// error (the changes it did not attempt are StatusSkipped in Result).
	Err error
	// Result is what became of each change of Plan (Result.Outcomes[i] is
	// about Plan.Changes[i]); nil when the apply did not run.
	Result *plan.Result

	// Left is the plan after the reconcile: made from a fresh inspection
	// when the apply changed something, Plan otherwise. When that
	// inspection fails, Left is Plan — an overstatement of the drift, never
	// a false "clean" — and Stale says why.
	Left  plan.ClusterPlan
	Live  map[string]*model.InstanceState // the live state Left was made from
	Stale error

	// Restarts are the restarts asked of Patroni (reconciler_restart:
	// scheduled); none otherwise.
	Restarts []ScheduledRestart

	// Topology is who led the cluster when the reconcile began, and what
	// the inventory, Patroni and the catalog disagree about; its findings
	// are KindTopology reports in Plan and Left.
	Topology *model.Topology

	// Locked reports that the apply lock was held from before the first
	// inspection to the end of the reconcile.
	Locked bool
}

// CommitApplied reports whether the reconcile counts as applying its
// commit to the cluster: it held the lock (so it could apply), and it
// succeeded. A plan, a dry run, an observe-only daemon never count.
func (o *Outcome) CommitApplied() bool {
	return o.Locked && o.Verdict == plan.VerdictSuccess
}

// lockReleaseTimeout bounds the unlock at the end of a reconcile, so that
// a partitioned primary cannot hold a worker (or shutdown) for the length
// of TCP's retransmissions; the server drops the lock with the session.
const lockReleaseTimeout = 10 * time.Second

// errPrimaryDown is Outcome.Err when the primary did not answer.
var errPrimaryDown = errors.New("primary unreachable: nothing applied")

// Cluster reconciles one cluster: the steps below, in order, each ending
// the reconcile when it must. Everything that happened to the cluster is in
// the Outcome; err is set only when the reconcile could not start (a
// target without a cluster or a dialer).
//
// `reconciler plan` (ModePlan), `reconciler apply` (ModeApply, ModeDryRun)
// and the daemon all reconcile through here, so that a plan printed in a
// pull request is computed exactly as the daemon computes it.
func Cluster(ctx context.Context, t Target, opts Options) (Outcome, error) {
	if t.Cluster == nil || t.Dialer == nil {
		return Outcome{}, errors.New("reconcile: the target needs a cluster and a dialer")
	}
	r := &run{t: t, opts: opts, dialer: t.Dialer,
		out: Outcome{Cluster: t.Cluster.Name, Verdict: plan.VerdictSuccess}}
	if opts.Provenance.Commit != "" {
		r.dialer = t.Dialer.WithCommit(opts.Provenance.Commit)
	}
	defer r.unlock(ctx)
	defer r.closeSessions(ctx)
	for _, step := range []func(context.Context) bool{
		r.topology, // who leads: Patroni, the catalog, the inventory
		r.lock,     // ModeApply: the apply lock, on the leader
		r.inspect,  // every instance, in parallel
		r.diff,     // the plan
		r.guard,    // may anything be written: primary, lock, gate
		r.apply,    // the plan, under the lock (or its dry run)
		r.replan,   // what is left, after an apply that changed something
	} {
		if !step(ctx) {
			break
		}
	}
	r.restart(ctx) // reconciler_restart: scheduled, whether or not anything was applied
	return r.out, nil
}
