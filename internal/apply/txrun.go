package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// runSavepoint guards one attempt at a part of a run.
const runSavepoint = "pgreconciler_run"

// runTxs executes a run of consecutive transactional changes (indices into
// the plan) that all run in database db on the primary, in plan order, in
// consecutive transactions of at most Options.MaxTxChanges changes each
// (runTx), asking Options.Leader before each. A transaction commits before
// the next begins, with the change-log rows of its changes: an apply that
// stops between two leaves the earlier ones done and recorded, and the
// next run plans only the rest.
func (e *executor) runTxs(db string, idx []int) error {
	size := e.opts.MaxTxChanges
	if size <= 0 {
		size = DefaultMaxTxChanges
	}
	for len(idx) > 0 {
		n := min(size, len(idx))
		if err := e.checkLeader(); err != nil {
			return err
		}
		if err := e.runTx(db, idx[:n]); err != nil {
			return err
		}
		idx = idx[n:]
	}
	return nil
}

// runTx executes consecutive transactional changes (indices into the plan)
// that all run in database db on the primary, in one transaction: every
// change that succeeds commits, every change that fails is rolled back on
// its own and recorded with its SQLSTATE (promise P14; docs/promises.md). For runs in the postgres
// database the change-log rows are written in the same transaction; for
// runs in another database, the rows of the applied changes are written
// pending, with the run's transaction id, before it commits, and set to
// applied after (intent.go): a run that dies in between leaves rows the
// next one settles from the transaction's status.
//
// When the transaction itself is lost (the server rejected a whole message,
// so the run's savepoint never existed, or the session broke), nothing of
// it committed: the change at fault, when known, is recorded as failed with
// its own error, and the others run again in fresh transactions on a new
// session, the run split in halves until the change at fault is alone.
// A failing statement thus never takes its neighbours with it.
func (e *executor) runTx(db string, idx []int) error {
	err := e.runOnce(db, idx)
	var lost *txLost
	if !errors.As(err, &lost) {
		return err
	}
	e.dropConn(e.primary, db)
	p := slices.Index(idx, lost.change)
	if len(idx) == 1 {
		p = 0
	}
	fail := func() {
		e.done(idx[p], plan.StatusFailed, e.stmtMessage(idx[p], lost.statement, lost.message()), dbconn.SQLState(lost.err))
	}
	if lost.session {
		if err := e.lockHeld(); err != nil {
			if p >= 0 {
				fail()
			}
			return fmt.Errorf("run changes on %s, database %s: after %s: %w", e.primary.Name(), db, message(lost.err), err)
		}
	}
	if p < 0 {
		mid := len(idx) / 2
		if err := e.runTx(db, idx[:mid]); err != nil {
			return err
		}
		return e.runTx(db, idx[mid:])
	}
	if err := e.runTx(db, idx[:p]); err != nil {
		return err
	}
	fail()
	return e.runTx(db, idx[p+1:])
}

// txLost is a run whose transaction is gone: no outcome of it is recorded
// and nothing of it committed.
type txLost struct {
	err       error // the error that lost it
	change    int   // the plan index of the change at fault, or -1
	statement int   // the failing statement of that change, or -1
	session   bool  // the session ended
}

func (l *txLost) Error() string { return "transaction lost: " + l.err.Error() }
func (l *txLost) Unwrap() error { return l.err }

// message is the outcome error of the change at fault.
func (l *txLost) message() string {
	msg := message(l.err)
	switch {
	case dbconn.SQLState(l.err) == "":
		return msg + " (no SQLSTATE: the session failed)"
	case l.session:
		return msg + " (the session ended)"
	case l.statement < 0:
		return "the server refused the query message before running any statement: " + msg
	}
	return msg
}

// runOnce is one attempt at runTx: one transaction for all of idx.
func (e *executor) runOnce(db string, idx []int) error {
	if len(idx) == 0 {
		return nil
	}
	conn, err := e.conn(e.primary, db)
	if err != nil {
		e.fail(idx, err) // the database does not exist, login refused …
		if isFatal(err) {
			return err
		}
		return nil
	}
	inTxLog := db == "postgres"
	if inTxLog {
		if err := e.ensureChangeLog(e.ctx); err != nil {
			e.fail(idx, err)
			return err
		}
	}
	tx, err := conn.Begin(e.ctx)
	if err != nil {
		e.fail(idx, err)
		return fmt.Errorf("begin on %s, database %s: %w", e.primary.Name(), db, err)
	}
	defer tx.Rollback(context.WithoutCancel(e.ctx)) // no-op after Commit
	if e.facts.superuser && e.facts.pgssTracksUtility {
		// Tens of thousands of one-off utility statements would evict the
		// application's entries and triple the run's time; the change log
		// and the server log record them.
		if _, err := conn.Exec(e.ctx, untrackedSQL); err != nil {
			e.fail(idx, err)
			return fmt.Errorf("run changes on %s, database %s: %w", e.primary.Name(), db, err)
		}
	}
	failed := map[int]stmtError{}
	if err := e.isolate(conn, idx, failed); err != nil {
		var lost *txLost
		if errors.As(err, &lost) {
			return err
		}
		e.fail(idx, err)
		return fmt.Errorf("run changes on %s, database %s: %w", e.primary.Name(), db, err)
	}
	for _, i := range idx {
		if f, ok := failed[i]; ok {
			e.set(i, plan.StatusFailed, e.stmtMessage(i, f.statement, message(f.err)), dbconn.SQLState(f.err))
		} else {
			e.set(i, plan.StatusApplied, "", "")
		}
	}
	if inTxLog {
		rows := make([]logRow, 0, len(e.pending)+len(idx))
		rows = append(rows, e.pending...)
		for _, i := range idx {
			rows = append(rows, e.logRow(i))
		}
		if err := writeChangeLog(e.ctx, tx, rows); err != nil {
			e.reset(idx)
			e.fail(idx, err)
			return err
		}
	}
	var xact int64 // the transaction of a run in another database, whose applied rows are written pending before it commits
	if !inTxLog {
		if xact, err = e.intendTx(tx, idx); err != nil {
			e.reset(idx)
			e.fail(idx, err)
			return err
		}
	}
	if err := tx.Commit(e.ctx); err != nil && (xact == 0 || !e.xactCommitted(xact)) {
		msg := "commit failed: " + message(err)
		for _, i := range idx {
			if xact != 0 && e.res.Outcomes[i].Status == plan.StatusApplied {
				e.set(i, plan.StatusFailed, msg, dbconn.SQLState(err))
				e.report(i)
				continue
			}
			e.done(i, plan.StatusFailed, msg, dbconn.SQLState(err))
		}
		if xact != 0 {
			if lerr := e.settleTx(xact, "failed", msg); lerr != nil {
				return lerr
			}
		}
		if isFatal(err) {
			return fmt.Errorf("commit on %s, database %s: %w", e.primary.Name(), db, err)
		}
		return nil
	}
	if inTxLog {
		e.pending = nil
	}
	for _, i := range idx {
		e.report(i)
		if !inTxLog && (xact == 0 || e.res.Outcomes[i].Status != plan.StatusApplied) {
			e.queueLog(i)
		}
	}
	if xact != 0 {
		return e.settleTx(xact, "applied", "")
	}
	return nil
}

// reset forgets tentative outcomes of a run that did not commit.
func (e *executor) reset(idx []int) {
	for _, i := range idx {
		e.set(i, 0, "", "")
	}
}

// stmtError is the error of one statement of a change.
type stmtError struct {
	err       error
	statement int // index in Change.Statements, -1 when not known
}

// isolate executes the changes idx inside the open transaction on conn,
// and records in failed the error of each change that failed; those
// changes leave no trace, the others stay done.
//
// The fast path sends all statements of idx as one multi-statement query
// behind a savepoint. When a statement fails, the transaction goes back to
// the savepoint, and the changes before the failing one, the failing one
// alone, and those after it are run again the same way. Every change thus
// ends up either done or rolled back on its own, in plan order, as if each
// had its own savepoint, at the cost of one savepoint and one round trip
// per attempt instead of three statements per change.
//
// It returns a *txLost when the transaction cannot go back to the
// savepoint (the session broke, or the server rejected the message as a
// whole, before its first statement: invalid UTF-8, a protocol violation),
// and another error when the apply must stop (its context is done).
func (e *executor) isolate(conn *pgx.Conn, idx []int, failed map[int]stmtError) error {
	if len(idx) == 0 {
		return nil
	}
	stmts := make([]string, 0, len(idx)+2)
	owner := make([]int, 0, len(idx)+2) // owner[k] = position in idx of the change stmts[k] belongs to
	within := make([]int, 0, len(idx)+2)
	stmts = append(stmts, "SAVEPOINT "+runSavepoint)
	owner, within = append(owner, -1), append(within, -1)
	for p, i := range idx {
		for k, s := range e.cp.Changes[i].Statements {
			stmts = append(stmts, s.SQL)
			owner, within = append(owner, p), append(within, k)
		}
	}
	stmts = append(stmts, "RELEASE SAVEPOINT "+runSavepoint)
	owner, within = append(owner, -1), append(within, -1)

	n, err := execMulti(e.ctx, conn, joinSQL(stmts))
	if err == nil {
		return nil
	}
	if e.ctx.Err() != nil {
		return err
	}
	p, k := -1, -1
	if n < len(owner) {
		p, k = owner[n], within[n]
	}
	lost := &txLost{err: err, change: -1, statement: k, session: conn.IsClosed()}
	if p >= 0 {
		lost.change = idx[p]
	}
	if dbconn.SQLState(err) == "" || conn.IsClosed() {
		lost.session = true
		return lost
	}
	if _, rerr := conn.Exec(e.ctx, "ROLLBACK TO SAVEPOINT "+runSavepoint+"; RELEASE SAVEPOINT "+runSavepoint); rerr != nil {
		if e.ctx.Err() != nil {
			return rerr
		}
		lost.session = conn.IsClosed()
		return lost
	}
	if n == 0 {
		return lost // the SAVEPOINT itself failed
	}
	if len(idx) == 1 {
		failed[idx[0]] = stmtError{err, k}
		return nil
	}
	if p < 0 { // RELEASE failed (a deferred check?): split the run in halves
		mid := len(idx) / 2
		if err := e.isolate(conn, idx[:mid], failed); err != nil {
			return err
		}
		return e.isolate(conn, idx[mid:], failed)
	}
	for _, part := range [][]int{idx[:p], idx[p : p+1], idx[p+1:]} {
		if err := e.isolate(conn, part, failed); err != nil {
			return err
		}
	}
	return nil
}

// stmtMessage is the outcome error msg of change i, naming the failing
// statement when the change has several.
func (e *executor) stmtMessage(i, k int, msg string) string {
	stmts := e.cp.Changes[i].Statements
	if k < 0 || k >= len(stmts) || len(stmts) < 2 {
		return msg
	}
	return fmt.Sprintf("statement %d of %d (%s): %s", k+1, len(stmts), brief(stmts[k].String()), msg)
}

// brief shows a statement inside an error message: on one line, printable,
// and at most briefLen characters.
func brief(sql string) string {
	s := []rune(printable(strings.Join(strings.Fields(sql), " ")))
	if len(s) > briefLen {
		return string(s[:briefLen-1]) + "…"
	}
	return string(s)
}

const briefLen = 60
