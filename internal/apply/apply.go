package apply

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/protect"
)

// Target is the cluster an apply works on.
type Target struct {
	Cluster *model.Cluster                  // instances: IP, port, role
	Dialer  *dbconn.Dialer                  // sessions (already WithCommit)
	Live    map[string]*model.InstanceState // per instance name, from inspect (session, replication clients, settings)
}

// Options control an apply.
type Options struct {
	DryRun bool
	HBA    HBAWriter // nil: HBA changes are skipped with a clear reason
	// PgBouncer writes the files of the PgBouncer beside each instance
	// (pooler.go); nil: PgBouncer changes are skipped with a clear reason.
	PgBouncer HBAWriter

	Provenance model.Provenance // for the change log and the log lines
	DBSU       string           // dbsu name (local socket lockout check); default Globals.DBSU, then postgres
	Logger     *slog.Logger

	// Hold, when set, says why a change is not to be executed ("" = go
	// ahead): a drift class in observe mode, an object the circuit breaker
	// stopped correcting. Held changes are Outcome StatusSkipped with that
	// reason, logged at debug level only: they come back every cycle and
	// the drift metrics already show them.
	Hold func(plan.Change) string

	// Lock is the cluster's apply lock, which the caller took (AcquireLock)
	// before it inspected and planned, and releases after Apply returns:
	// a plan made while another reconciler was applying is never replayed.
	// Apply runs its primary session's checks on the lock's session and
	// stops when that session is lost. Required unless DryRun or nothing is
	// to be executed; Apply never takes the lock itself.
	Lock *Lock

	// Reload, when set, reloads an instance's configuration (Patroni's
	// POST /reload on a Patroni-managed cluster) instead of
	// pg_reload_conf(); the apply still waits for the reload on its
	// session, and falls back to pg_reload_conf() when Reload fails.
	Reload func(ctx context.Context, in *model.Instance) error
	// Leader, when set, is asked before each unit of writes (a
	// transaction, an instance's parameters, a pg_hba.conf) whether the
	// cluster's leader is still the primary the plan was made against; an
	// error stops the apply (ErrLeaderChanged).
	Leader func(ctx context.Context) error
	// Retention bounds the change log (retention.go); the zero value
	// keeps a year.
	Retention Retention
	// MaxTxChanges bounds the changes one transaction holds; 0 means
	// DefaultMaxTxChanges. A run of consecutive transactional changes for
	// one database is sent in consecutive transactions of at most that
	// many changes (runTxs), so that an apply of tens of thousands of
	// roles never needs more locks at once than the server's lock table
	// holds (max_locks_per_transaction; SQLSTATE 53200 otherwise).
	MaxTxChanges int
}

// DefaultMaxTxChanges is Options.MaxTxChanges when it is 0. A change
// holds a lock on each object it makes or alters until its transaction
// ends, and the server's lock table is sized for max_locks_per_transaction
// × max_connections objects (6,400 by default) shared by every session;
// a commit per 1,000 changes costs next to nothing.
const DefaultMaxTxChanges = 1000

// cleanupTimeout bounds releasing the lock and closing sessions, which
// must happen even when the apply's context is done.
const cleanupTimeout = 10 * time.Second

// Apply executes the changes of cp in order and returns what became of
// each (Result.Outcomes[i] is about cp.Changes[i]).
//
// It returns an error only for what stops the whole cluster: no apply
// lock (Options.Lock) for a plan with changes to execute, the primary is
// in recovery, a session to the primary broke and no new one opens (or the
// lock's own session broke), or the change log cannot be written. Changes not attempted then are StatusSkipped, and the Result is
// still returned. A change PostgreSQL or a writer refuses is an Outcome
// (StatusFailed, with the SQLSTATE), a change whose statement ended its
// session or was rejected as a whole message is StatusFailed too (with the
// SQLSTATE when the server sent one), a change a guard refuses is
// StatusRefused, and the other changes still run.
func Apply(ctx context.Context, t Target, cp plan.ClusterPlan, opts Options) (*plan.Result, error) {
	if t.Cluster == nil || t.Dialer == nil {
		return nil, fmt.Errorf("apply %s: target needs a cluster and a dialer", cp.Name)
	}
	e := newExecutor(ctx, t, cp, opts)
	todo := e.triage()
	if len(todo) == 0 {
		return e.res, nil
	}
	defer e.stop()
	if err := e.start(); err != nil {
		e.notAttempted(todo, err)
		return e.res, err
	}
	if err := e.execute(todo); err != nil {
		err = fmt.Errorf("apply %s: %w", e.cluster(), err)
		e.notAttempted(todo, err)
		if lerr := e.flushLog(); lerr != nil { // the rows of the changes settled before it stopped
			e.log.Error("cannot write the change log after the apply stopped", "cluster", e.cluster(), "error", lerr)
		}
		return e.res, err
	}
	e.prune()
	return e.res, nil
}

// executor is the state of one apply.
type executor struct {
	ctx  context.Context
	t    Target
	opts Options
	cp   plan.ClusterPlan
	log  *slog.Logger
	res  *plan.Result

	primary *model.Instance
	conns   map[connKey]*pgx.Conn // sessions by instance and database
	policy  protect.Policy        // who is protected: the reconciler's login role(s) on the primary, dbsu …

	facts          facts
	changeLogReady bool          // pgreconciler.change_log is known to exist
	pending        []logRow      // change-log rows not yet written
	intents        map[int]int64 // plan index → id of its pending change-log row (intent.go)
	settled        []settled     // intent rows whose outcome is not yet written
}

// facts are what the apply learns about its primary session at the start.
type facts struct {
	superuser         bool
	pgssTracksUtility bool // pg_stat_statements is loaded, tracking, with track_utility on
	sampled           bool // log_transaction_sample_rate is not 0
}

// untrackedSQL keeps the apply's statements out of pg_stat_statements.
const untrackedSQL = "SET LOCAL pg_stat_statements.track_utility = off"

func newExecutor(ctx context.Context, t Target, cp plan.ClusterPlan, opts Options) *executor {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &executor{
		ctx: ctx, t: t, opts: opts, cp: cp, log: log,
		res:   &plan.Result{Cluster: cp.Name, Outcomes: make([]plan.Outcome, len(cp.Changes))},
		conns: map[connKey]*pgx.Conn{},
	}
}

func (e *executor) cluster() string {
	if e.cp.Name != "" {
		return e.cp.Name
	}
	return e.t.Cluster.Name
}

// triage settles the changes that are not executed and returns the
// indices of the others, in plan order.
func (e *executor) triage() []int {
	var todo []int
	for i, c := range e.cp.Changes {
		e.res.Outcomes[i].Change = c
		held := ""
		if e.opts.Hold != nil && c.Action != plan.ActionReport && c.Action != plan.ActionNote {
			held = e.opts.Hold(c)
		}
		switch {
		case c.Action == plan.ActionReport || c.Action == plan.ActionNote:
			e.set(i, plan.StatusSkipped, "reported only: nothing to execute", "")
		case held != "":
			e.set(i, plan.StatusSkipped, held, "")
			e.logChange(i, slog.LevelDebug, "change held back", slog.String("reason", held))
		case e.opts.DryRun:
			e.would(i)
			e.set(i, plan.StatusSkipped, "dry run", "")
		default:
			todo = append(todo, i)
		}
	}
	return todo
}

// start checks the apply lock the caller holds and learns, on its
// session, who the reconciler is on the primary.
func (e *executor) start() error {
	e.primary = e.t.Cluster.Primary()
	if e.primary == nil {
		return fmt.Errorf("apply %s: the cluster has no primary instance", e.cluster())
	}
	conn, err := e.opts.Lock.session(e.t.Cluster)
	if err != nil {
		return fmt.Errorf("apply %s: %w", e.cluster(), err)
	}
	var user string
	var recovery bool
	err = conn.QueryRow(e.ctx, sessionSQL).Scan(&user, &recovery,
		&e.facts.superuser, &e.facts.pgssTracksUtility, &e.facts.sampled)
	if err != nil {
		return fmt.Errorf("apply %s: read session of %s: %w", e.cluster(), e.primary.Name(), err)
	}
	if recovery {
		return fmt.Errorf("apply %s: %s: %w", e.cluster(), e.primary.Name(), ErrInRecovery)
	}
	self := []string{user}
	if live := e.t.Live[e.primary.Name()]; live != nil && live.Session.User != "" {
		self = append(self, live.Session.User)
	}
	e.policy = protect.New(e.t.Cluster.Globals, e.dbsu(), self...)
	return nil
}

// stop closes every session but the lock's, which the caller releases.
func (e *executor) stop() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), cleanupTimeout)
	defer cancel()
	for k, c := range e.conns {
		c.Close(ctx)
		delete(e.conns, k)
	}
}

// execute runs the changes in plan order: consecutive transactional
// changes for one database as one run (in transactions of at most
// Options.MaxTxChanges changes), everything else one by one.
func (e *executor) execute(todo []int) error {
	var run []int
	var runDB string
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		r := run
		run = nil
		return e.runTxs(runDB, r)
	}
	for k := 0; k < len(todo); k++ {
		i := todo[k]
		c := &e.cp.Changes[i]
		if msg := e.refusal(c); msg != "" {
			e.done(i, plan.StatusRefused, msg, "")
			continue
		}
		m := modeOf(c)
		if m == modeTx {
			db := dbName(c.Statements[0].Database)
			if len(run) > 0 && db != runDB {
				if err := flush(); err != nil {
					return err
				}
			}
			runDB = db
			run = append(run, i)
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		if m != modeEmpty {
			if err := e.checkLeader(); err != nil {
				return err
			}
		}
		var err error
		switch m {
		case modeEmpty:
			e.done(i, plan.StatusSkipped, "no statements to execute", "")
		case modePassword:
			err = e.password(i)
		case modeSteps:
			err = e.steps(i)
		case modeHBA:
			err = e.hba(i)
		case modePooler:
			j := k + 1
			for j < len(todo) && samePooler(c, &e.cp.Changes[todo[j]]) && e.refusal(&e.cp.Changes[todo[j]]) == "" {
				j++
			}
			err = e.pooler(todo[k:j])
			k = j - 1
		case modeParameter:
			j := k + 1
			for j < len(todo) && modeOf(&e.cp.Changes[todo[j]]) == modeParameter && e.refusal(&e.cp.Changes[todo[j]]) == "" {
				j++
			}
			err = e.parameters(todo[k:j])
			k = j - 1
		}
		if err != nil {
			return err
		}
		if err := e.flushLog(); err != nil {
			return err
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return e.flushLog()
}

// mode is how a change is executed.
type mode int

const (
	modeTx        mode = iota // transactional statements in one database: part of a run
	modeEmpty                 // nothing to execute
	modePassword              // a password: its own quiet transaction
	modeSteps                 // NoTx statements, several databases or a role removal
	modeParameter             // ALTER SYSTEM on an instance
	modeHBA                   // pg_hba.conf on an instance
	modePooler                // the files of the PgBouncer beside an instance
)

func modeOf(c *plan.Change) mode {
	switch {
	case c.Kind == plan.KindParameter:
		return modeParameter
	case c.Kind == plan.KindHBA:
		return modeHBA
	case c.Kind == plan.KindPgBouncer:
		return modePooler
	case len(c.Statements) == 0:
		return modeEmpty
	}
	for _, s := range c.Statements {
		if !s.Password.IsZero() {
			return modePassword
		}
	}
	if c.Kind == plan.KindRole && c.Action == plan.ActionRemove {
		return modeSteps
	}
	db := dbName(c.Statements[0].Database)
	for _, s := range c.Statements {
		if s.NoTx || dbName(s.Database) != db {
			return modeSteps
		}
	}
	return modeTx
}

// dbName is the database a statement runs in.
func dbName(db string) string {
	if db == "" {
		return "postgres"
	}
	return db
}

// notAttempted marks the changes left unsettled when the apply stopped.
func (e *executor) notAttempted(todo []int, err error) {
	for _, i := range todo {
		if e.res.Outcomes[i].Status == 0 {
			e.set(i, plan.StatusSkipped, "not attempted: "+err.Error(), "")
		}
	}
}

// set records an outcome without logging it.
func (e *executor) set(i int, st plan.Status, msg, sqlstate string) {
	o := &e.res.Outcomes[i]
	o.Status, o.Error, o.SQLState = st, msg, sqlstate
}

// done records an outcome, logs it and queues its change-log row.
func (e *executor) done(i int, st plan.Status, msg, sqlstate string) {
	e.set(i, st, msg, sqlstate)
	e.report(i)
	e.queueLog(i)
}

// fail records err as the outcome of the changes not settled yet.
func (e *executor) fail(idx []int, err error) {
	for _, i := range idx {
		if e.res.Outcomes[i].Status == 0 {
			e.done(i, plan.StatusFailed, message(err), dbconn.SQLState(err))
		}
	}
}

// logChange writes one log line about change i, if the logger wants it.
func (e *executor) logChange(i int, level slog.Level, msg string, extra ...slog.Attr) {
	if !e.log.Enabled(e.ctx, level) {
		return
	}
	c := &e.cp.Changes[i]
	in := c.Instance
	if in == "" && e.primary != nil {
		in = e.primary.Name()
	}
	attrs := append([]slog.Attr{slog.String("cluster", e.cluster()), slog.String("instance", in),
		slog.String("kind", string(c.Kind)), slog.String("action", c.Action.String()),
		slog.String("object", c.Object), slog.String("commit", e.opts.Provenance.Commit)}, extra...)
	e.log.LogAttrs(e.ctx, level, msg, attrs...)
}

// report writes the log line of outcome i.
func (e *executor) report(i int) {
	o := &e.res.Outcomes[i]
	switch o.Status {
	case plan.StatusApplied:
		if o.Pending {
			e.logChange(i, slog.LevelInfo, "applied change", slog.Bool("pending_restart", true))
			return
		}
		e.logChange(i, slog.LevelInfo, "applied change")
	case plan.StatusFailed:
		e.logChange(i, slog.LevelWarn, "change failed", slog.String("error", o.Error), slog.String("sqlstate", o.SQLState))
	case plan.StatusRefused:
		e.logChange(i, slog.LevelWarn, "change refused", slog.String("reason", o.Error))
	case plan.StatusSkipped:
		e.logChange(i, slog.LevelInfo, "change skipped", slog.String("reason", o.Error))
	}
}

// would logs what a dry run would execute (statements redacted).
func (e *executor) would(i int) {
	c := &e.cp.Changes[i]
	what := "run the statements"
	switch c.Kind {
	case plan.KindHBA:
		what = "write pg_hba.conf, check pg_hba_file_rules, reload, log in again"
	case plan.KindParameter:
		what = "validate against pg_settings, ALTER SYSTEM, reload, read back"
	case plan.KindPgBouncer:
		what = "render the PgBouncer files from pg_authid, lockout guard, write, RELOAD, log in again"
	}
	e.logChange(i, slog.LevelInfo, "would apply change", slog.String("would", what),
		slog.Any("statements", redactedStatements(c)))
}

func redactedStatements(c *plan.Change) []string {
	out := make([]string, len(c.Statements))
	for i, s := range c.Statements {
		out[i] = s.String()
	}
	return out
}

// resume decides whether the apply goes on after a change failed because
// its session to database db on the primary did (isFatal): the broken
// session is dropped, and the apply stops (resume returns an error) only
// when its context is done, the change log failed, the apply lock is lost
// with its session, or no new session to the primary opens. Otherwise the
// next changes run on new sessions.
func (e *executor) resume(db string, err error) error {
	var le *logError
	if e.ctx.Err() != nil || errors.As(err, &le) {
		return err
	}
	e.dropConn(e.primary, db)
	if lerr := e.lockHeld(); lerr != nil {
		return fmt.Errorf("after %s: %w", message(err), lerr)
	}
	if _, cerr := e.conn(e.primary, "postgres"); cerr != nil {
		return fmt.Errorf("reconnect after %s: %w", message(err), cerr)
	}
	e.log.Warn("session to the primary failed: going on with a new one", "cluster", e.cluster(),
		"instance", e.primary.Name(), "database", db, "error", message(err))
	return nil
}

// isFatal reports whether err stops the apply: not PostgreSQL refusing a
// statement but the session failing (connection lost, context done), or
// the change log failing.
func isFatal(err error) bool {
	var le *logError
	return err != nil && (dbconn.SQLState(err) == "" || errors.As(err, &le))
}
