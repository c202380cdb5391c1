package apply

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// runSavepoint guards one attempt at a part of a run.
const runSavepoint = "pgreconciler_run"

// runTx executes consecutive transactional changes (indices into the plan)
// that all run in database db on the primary, in one transaction: every
// change that succeeds commits, every change that fails is rolled back on
// its own and recorded with its SQLSTATE (P14). For runs in the postgres
// database the change-log rows are written in the same transaction.
func (e *executor) runTx(db string, idx []int) error {
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
	failed := map[int]error{}
	if err := e.isolate(conn, idx, failed); err != nil {
		e.fail(idx, err)
		return fmt.Errorf("run changes on %s, database %s: %w", e.primary.Name(), db, err)
	}
	for _, i := range idx {
		if err, ok := failed[i]; ok {
			e.set(i, plan.StatusFailed, message(err), dbconn.SQLState(err))
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
	if err := tx.Commit(e.ctx); err != nil {
		for _, i := range idx {
			e.done(i, plan.StatusFailed, "commit failed: "+message(err), dbconn.SQLState(err))
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
		if !inTxLog {
			e.queueLog(i)
		}
	}
	return nil
}

// reset forgets tentative outcomes of a run that did not commit.
func (e *executor) reset(idx []int) {
	for _, i := range idx {
		e.set(i, 0, "", "")
	}
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
// It returns an error only when the session is unusable.
func (e *executor) isolate(conn *pgx.Conn, idx []int, failed map[int]error) error {
	if len(idx) == 0 {
		return nil
	}
	stmts := make([]string, 0, len(idx)+2)
	owner := make([]int, 0, len(idx)+2) // owner[k] = position in idx of the change stmts[k] belongs to
	stmts = append(stmts, "SAVEPOINT "+runSavepoint)
	owner = append(owner, -1)
	for p, i := range idx {
		for _, s := range e.cp.Changes[i].Statements {
			stmts = append(stmts, s.SQL)
			owner = append(owner, p)
		}
	}
	stmts = append(stmts, "RELEASE SAVEPOINT "+runSavepoint)
	owner = append(owner, -1)

	n, err := execMulti(e.ctx, conn, joinSQL(stmts))
	if err == nil {
		return nil
	}
	if isFatal(err) {
		return err
	}
	if _, rerr := conn.Exec(e.ctx, "ROLLBACK TO SAVEPOINT "+runSavepoint+"; RELEASE SAVEPOINT "+runSavepoint); rerr != nil {
		return fmt.Errorf("roll back to savepoint after %q: %w", message(err), rerr)
	}
	if n == 0 {
		return fmt.Errorf("set savepoint: %w", err)
	}
	if len(idx) == 1 {
		failed[idx[0]] = err
		return nil
	}
	p := -1
	if n < len(owner) {
		p = owner[n]
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
