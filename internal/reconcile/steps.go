package reconcile

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/diff"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/patroni"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// run is the state of one reconcile, passed from step to step. Each step
// returns whether the reconcile goes on.
type run struct {
	t      Target
	opts   Options
	dialer *dbconn.Dialer // t.Dialer with the commit in application_name

	held    *apply.Lock
	lockErr error
	// sessions are the topology check's sessions, by instance, still
	// open: the lock is taken on the leader's and the inspection reads
	// each instance on its own, so a reconcile opens one session per
	// instance where one will do (takeSession, closeSessions).
	sessions    map[string]*pgx.Conn
	sessionsMu  sync.Mutex // the inspection takes them in parallel
	live        map[string]*model.InstanceState
	primaryDown bool
	writable    bool // guard's verdict: the apply may write

	// Patroni (topology.go): the client and view when the cluster is
	// Patroni-managed and PatroniAccess is set, the settings' findings.
	patroni  *patroni.Client
	view     *model.PatroniCluster
	settings []model.PatroniSettingFinding

	out Outcome
}

// lock takes the cluster's apply lock in ModeApply, before anything is
// read, so that a plan made while another reconciler was applying is never
// replayed. Busy ends the reconcile (VerdictBusy, nothing inspected); any
// other failure (the primary down, too many connections) lets the
// inspection go on without the lock, for the drift and health it shows,
// and nothing is applied.
func (r *run) lock(ctx context.Context) bool {
	if r.opts.Mode != ModeApply {
		return true
	}
	var l *apply.Lock
	var err error
	if conn := r.takeSession(r.t.Cluster.Primary()); conn != nil {
		l, err = apply.AcquireLockOn(ctx, conn, r.t.Cluster)
	} else {
		l, err = apply.AcquireLock(ctx, r.dialer, r.t.Cluster)
	}
	switch {
	case errors.Is(err, apply.ErrBusy):
		r.out.Verdict, r.out.Message = plan.VerdictBusy, err.Error()
		r.out.Plan = plan.ClusterPlan{Name: r.t.Cluster.Name, Errors: []string{err.Error()}}
		r.out.Left = r.out.Plan
		return false
	case err != nil:
		r.lockErr = err
	default:
		r.held, r.out.Locked = l, true
	}
	return true
}

// unlock releases the lock, with a bounded wait even when ctx is done.
func (r *run) unlock(ctx context.Context) {
	if r.held == nil {
		return
	}
	rel, cancel := context.WithTimeout(context.WithoutCancel(ctx), lockReleaseTimeout)
	defer cancel()
	_ = r.held.Release(rel)
}

// inspect reads the live state of every instance. An instance that cannot
// be read, or only in part, is an InstanceError and makes the verdict a
// failure; what was read is kept and compared.
func (r *run) inspect(ctx context.Context) bool {
	r.live, r.out.Instances = inspectCluster(ctx, r.dialer, r.t.Cluster, r.opts.PgBouncer, r.opts.LogWindow, r.session)
	p := r.t.Cluster.Primary()
	r.primaryDown = p == nil || r.live[p.Name()] == nil
	return true
}

// diff computes the plan (package diff: a pure function of the spec and
// the live state). Instance errors and a lock that could not be taken
// while the primary answered are recorded in it, once each; the verdict is
// a failure then.
func (r *run) diff(_ context.Context) bool {
	cp := r.withReports(planCluster(r.t.Cluster, r.live, r.out.Instances))
	var msgs []string
	for _, e := range r.out.Instances {
		msgs = append(msgs, e.Error())
	}
	if r.lockErr != nil && !r.primaryDown {
		r.out.LockErr = r.lockErr
		cp.Errors = append(cp.Errors, r.lockErr.Error())
		msgs = append(msgs, "apply lock: "+r.lockErr.Error())
	}
	if len(msgs) > 0 {
		r.out.Verdict, r.out.Message = plan.VerdictFailure, strings.Join(msgs, "; ")
	}
	r.out.Plan, r.out.Left, r.out.Live = cp, cp, r.live
	return r.opts.Mode != ModePlan
}

// guard decides whether the cluster may be written: its primary answered
// (in a dry run too), the lock is held, and the Gate admits the commit.
// It ends the reconcile when the primary did not answer or the Gate said
// no; without the lock only a dry run goes on.
func (r *run) guard(ctx context.Context) bool {
	if r.primaryDown {
		if r.out.Locked {
			r.out.Err = errPrimaryDown
		}
		return false
	}
	if r.opts.Mode == ModeDryRun {
		return true
	}
	if err := r.leaderless(); err != nil && executable(r.out.Plan, r.opts.Hold) {
		if r.out.Locked {
			r.out.Err, r.out.Verdict, r.out.Message = err, plan.VerdictFailure, err.Error()
		}
		return false
	}
	if !r.out.Locked {
		return false
	}
	if r.opts.Gate != nil {
		if err := r.opts.Gate(ctx); err != nil {
			r.out.Err, r.out.Verdict, r.out.Message = err, plan.VerdictFailure, err.Error()
			var ref *Refusal
			if errors.As(err, &ref) {
				r.out.Verdict = plan.VerdictRefused
			}
			return false
		}
	}
	r.writable = true
	return true
}

// apply executes the plan (package apply: in plan order, each change
// guarded, a change-log row each) when a change is to be executed and not
// held; in a dry run it logs what would run. The verdict becomes a failure
// when the apply stopped or a change failed, refused when guards refused
// changes and none failed.
func (r *run) apply(ctx context.Context) bool {
	if !executable(r.out.Plan, r.opts.Hold) {
		return false
	}
	c := r.t.Cluster
	reload, leader := r.applyHooks()
	res, err := apply.Apply(ctx, apply.Target{Cluster: c, Dialer: r.dialer, Live: r.live}, r.out.Plan, apply.Options{
		DryRun: !r.writable, HBA: r.opts.HBA, PgBouncer: r.opts.PgBouncer, Provenance: r.opts.Provenance, DBSU: c.Globals.DBSU,
		Logger: r.opts.Logger, Hold: r.opts.Hold, Lock: r.held, Reload: reload, Leader: leader, Retention: r.opts.Retention,
	})
	r.out.Result = res
	switch {
	case err != nil:
		// The changes that failed before the apply stopped name themselves
		// (kind, object, statement) next to why it stopped.
		r.out.Err, r.out.Verdict, r.out.Message = err, plan.VerdictFailure, err.Error()
		if res != nil && res.Failed() {
			r.out.Message += "; " + failures(res)
		}
	case res.Failed() && onlyRefused(res):
		r.out.Verdict, r.out.Message = plan.VerdictRefused, failures(res)
	case res.Failed():
		r.out.Verdict, r.out.Message = plan.VerdictFailure, failures(res)
	}
	return res != nil && appliedAny(res)
}

// replan inspects the cluster again after an apply that changed
// something, still under the lock, so that Left shows what is left. When
// the inspection fails, Left stays the plan from before the apply (Stale
// says why).
func (r *run) replan(ctx context.Context) bool {
	live, errs := inspectCluster(ctx, r.dialer, r.t.Cluster, r.opts.PgBouncer, r.opts.LogWindow, r.session)
	if len(errs) > 0 {
		r.out.Stale = errs[0]
		return false
	}
	r.refreshView(ctx)
	r.out.Left, r.out.Live = r.withReports(planCluster(r.t.Cluster, live, nil)), live
	return true
}

// planCluster is the plan of a cluster from its live state, with the
// instance errors recorded in it.
func planCluster(c *model.Cluster, live map[string]*model.InstanceState, errs []InstanceError) plan.ClusterPlan {
	cp := diff.Cluster(c, live)
	for _, e := range errs {
		cp.Errors = append(cp.Errors, e.Error())
	}
	return cp
}

// executable reports whether a plan has a change to execute that hold
// does not hold back.
func executable(cp plan.ClusterPlan, hold func(plan.Change) string) bool {
	for _, ch := range cp.Changes {
		if (len(ch.Statements) > 0 || ch.HBA != nil || ch.Pooler != nil) && (ch.Action == plan.ActionCreate || ch.Action == plan.ActionChange || ch.Action == plan.ActionRemove) &&
			(hold == nil || hold(ch) == "") {
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

// failures names the changes that failed or were refused, with why.
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

// session is the open session an instance is inspected on, if any: the
// apply lock's for the leader while the lock is held (left open), else the
// topology check's (handed over: closed after the inspection, or kept for
// the next reconcile, kept.go). Nil: the inspection opens one.
func (r *run) session(in *model.Instance) (conn *pgx.Conn, done func(error)) {
	if p := r.t.Cluster.Primary(); r.held != nil && p != nil && p.Name() == in.Name() {
		return r.held.Session(), nil
	}
	conn = r.takeSession(in)
	if conn == nil {
		return nil, nil
	}
	return conn, func(err error) { r.release(context.Background(), in, conn, err) }
}

// takeSession hands over the topology check's session to in, once.
func (r *run) takeSession(in *model.Instance) *pgx.Conn {
	if in == nil {
		return nil
	}
	r.sessionsMu.Lock()
	defer r.sessionsMu.Unlock()
	conn := r.sessions[in.Name()]
	delete(r.sessions, in.Name())
	return conn
}

// closeSessions closes the topology check's sessions nobody took.
func (r *run) closeSessions(ctx context.Context) {
	r.sessionsMu.Lock()
	defer r.sessionsMu.Unlock()
	for name, conn := range r.sessions {
		conn.Close(context.WithoutCancel(ctx))
		delete(r.sessions, name)
	}
}
