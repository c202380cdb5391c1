package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// Write-ahead intent rows. A change that cannot share a transaction with
// its change-log row (CREATE DATABASE, DROP DATABASE, a role removal that
// runs in several databases: the steps of steps.go) gets its row before
// its first step, committed, with status pending; the row is updated to
// the outcome after the last step. A run that dies in between (killed,
// cut off, its server crashed) leaves the pending row, and the next run,
// under the apply lock and before it inspects, resolves it from the
// catalog (resolvePending): the database exists, the role is gone.
// Nothing the reconciler did is thus ever live without its row.

// Change-log statuses of intent rows.
const (
	// StatusPending is an intent row: the change was about to run, its
	// outcome is not recorded yet.
	StatusPending = "pending"
	// StatusInterrupted is a pending row the next run could not settle
	// from the catalog: the run that made it ended before it recorded
	// the outcome, and the change may or may not be live; the next plan
	// starts from what is live.
	StatusInterrupted = "interrupted"
)

const insertIntentSQL = `INSERT INTO pgreconciler.change_log
	(cluster, instance, kind, action, object, statement, commit, signer, author, status, error)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`

const settleIntentSQL = `UPDATE pgreconciler.change_log SET status = $2, error = $3
WHERE id = $1 AND status = 'pending'`

// intend writes the pending row of change i, committed, before its first
// step. An error is a *logError: no change is made that the change log
// cannot trace.
func (e *executor) intend(i int) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), cleanupTimeout)
	defer cancel()
	if err := e.flushLog(); err != nil { // the rows before it come first
		return err
	}
	if err := e.ensureChangeLog(ctx); err != nil {
		return err
	}
	conn, err := e.connCtx(ctx, e.primary, "postgres")
	if err != nil {
		return &logError{fmt.Errorf("write change log on %s: %w", e.primary.Name(), err)}
	}
	r := e.logRow(i)
	r[9], r[10] = StatusPending, ""
	args := make([]any, len(r))
	for k, v := range r {
		args[k] = v
	}
	var id int64
	if err := conn.QueryRow(ctx, insertIntentSQL, args...).Scan(&id); err != nil {
		return &logError{fmt.Errorf("write the intent row of %s to the change log on %s: %w", e.cp.Changes[i].Object, e.primary.Name(), err)}
	}
	if e.intents == nil {
		e.intents = map[int]int64{}
	}
	e.intents[i] = id
	return nil
}

// settled is an intent row with its outcome, to be written by flushLog.
type settled struct {
	id  int64
	row logRow
}

// writeSettled updates the intent rows of settled changes.
func writeSettled(ctx context.Context, conn *pgx.Conn, rows []settled) error {
	for _, s := range rows {
		if _, err := conn.Exec(ctx, settleIntentSQL, s.id, s.row[9], s.row[10]); err != nil {
			return &logError{fmt.Errorf("record the outcome of change-log row %d: %w", s.id, err)}
		}
	}
	return nil
}

// pendingRow is an intent row a run left behind.
type pendingRow struct {
	id                         int64
	kind, action, object, stmt string
	xact                       *int64 // the transaction of a change in another database
}

// pendingWait bounds how long the next run waits for a statement of a
// dead run that still runs on the server (a CREATE DATABASE copying a big
// template) before it reports it and stops.
var pendingWait = 2 * time.Minute

const pendingRowsSQL = `SELECT id, coalesce(kind, ''), coalesce(action, ''), coalesce(object, ''), coalesce(statement, ''), xact
FROM pgreconciler.change_log WHERE status = 'pending' AND cluster = $1 ORDER BY id`

// stillRunningSQL finds another session running one of the statements of
// an intent row ($1: the row's statements).
const stillRunningSQL = `SELECT pid FROM pg_stat_activity
WHERE pid <> pg_backend_pid() AND state = 'active' AND backend_type = 'client backend'
  AND query = ANY($1)
LIMIT 1`

const resolvedSQL = `SELECT CASE
	WHEN $1 = 'database' AND $2 = 'create' THEN EXISTS (SELECT FROM pg_database WHERE datname = $3)
	WHEN $1 = 'database' AND $2 = 'remove' THEN NOT EXISTS (SELECT FROM pg_database WHERE datname = $3)
	WHEN $1 = 'role' AND $2 = 'remove' THEN NOT EXISTS (SELECT FROM pg_roles WHERE rolname = $3)
END`

// resolvePending settles the intent rows of cluster that a run which ended
// left in the change log of the database conn is connected to (the
// primary's postgres database). It runs under the apply lock, before the
// inspection: a statement of the dead run that still runs on the server is
// waited for (up to pendingWait), so that the plan sees its effect instead
// of sending it again; then the catalog says whether it took effect. It
// writes nothing when there is no change log or no pending row.
func resolvePending(ctx context.Context, conn *pgx.Conn, cluster string) error {
	rows, err := conn.Query(ctx, pendingRowsSQL, cluster)
	if st := dbconn.SQLState(err); st == "42P01" || st == "42703" { // no change log, or one older than intent rows
		return nil
	}
	if err != nil {
		return fmt.Errorf("read pending change-log rows: %w", err)
	}
	var pend []pendingRow
	for rows.Next() {
		var p pendingRow
		if err := rows.Scan(&p.id, &p.kind, &p.action, &p.object, &p.stmt, &p.xact); err != nil {
			rows.Close()
			return fmt.Errorf("read pending change-log rows: %w", err)
		}
		pend = append(pend, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		if st := dbconn.SQLState(err); st == "42P01" || st == "42703" {
			return nil
		}
		return fmt.Errorf("read pending change-log rows: %w", err)
	}
	for _, p := range pend {
		var done *bool
		if p.xact != nil {
			if done, err = waitXact(ctx, conn, p); err != nil {
				return err
			}
		} else {
			if err := waitStatement(ctx, conn, p); err != nil {
				return err
			}
			if err := conn.QueryRow(ctx, resolvedSQL, p.kind, p.action, p.object).Scan(&done); err != nil {
				return fmt.Errorf("resolve change-log row %d (%s %s): %w", p.id, p.action, p.object, err)
			}
		}
		status, why := StatusInterrupted, "the run that made it ended before it recorded the outcome; the catalog cannot tell whether it took effect, the next plan starts from what is live"
		switch {
		case done != nil && *done:
			status, why = "applied", "recorded by the next run: the run that made it ended before it recorded the outcome, and the catalog (or its transaction's status) shows it took effect"
		case done != nil:
			status, why = "failed", "recorded by the next run: the run that made it ended before it completed, and the catalog (or its transaction's status) shows it took no effect"
		}
		if _, err := conn.Exec(ctx, settleIntentSQL, p.id, status, why); err != nil {
			return fmt.Errorf("resolve change-log row %d (%s %s): %w", p.id, p.action, p.object, err)
		}
	}
	return nil
}

// waitXact waits while the transaction of intent row p is in progress
// (the dead run's backend has not noticed yet that its client is gone)
// and returns whether it committed; nil when the server no longer knows
// (a transaction older than the commit log it keeps).
func waitXact(ctx context.Context, conn *pgx.Conn, p pendingRow) (*bool, error) {
	deadline := time.Now().Add(pendingWait)
	for {
		var st *string
		if err := conn.QueryRow(ctx, "SELECT txid_status($1)", *p.xact).Scan(&st); err != nil {
			return nil, fmt.Errorf("resolve change-log row %d (%s %s): status of transaction %d: %w", p.id, p.action, p.object, *p.xact, err)
		}
		switch {
		case st == nil:
			return nil, nil
		case *st != "in progress":
			done := *st == "committed"
			return &done, nil
		case time.Now().After(deadline):
			return nil, fmt.Errorf("the transaction %d of a run that ended (change-log row %d: %s %s) is still in progress after %s: try again when it ends, or end its session",
				*p.xact, p.id, p.action, p.object, pendingWait)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// waitStatement waits while another session runs a statement of intent
// row p, and says so clearly when it is still running after pendingWait.
func waitStatement(ctx context.Context, conn *pgx.Conn, p pendingRow) error {
	deadline := time.Now().Add(pendingWait)
	for {
		var pid int32
		err := conn.QueryRow(ctx, stillRunningSQL, strings.Split(p.stmt, ";\n")).Scan(&pid)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return nil
		case err != nil:
			return fmt.Errorf("look for the statement of change-log row %d in pg_stat_activity: %w", p.id, err)
		case time.Now().After(deadline):
			return fmt.Errorf("the statement of a run that ended (change-log row %d: %s) still runs on the server in session %d after %s: try again when it ends, or cancel it (pg_cancel_backend(%d))",
				p.id, brief(strings.SplitN(p.stmt, ";\n", 2)[0]), pid, pendingWait, pid)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// intendTx writes the change-log rows of the changes of a run in another
// database than postgres that are applied inside its open transaction tx,
// as pending with tx's transaction id, committed on the primary's postgres
// session before tx commits. It returns the transaction id, or 0 when no
// change of the run is applied.
func (e *executor) intendTx(tx pgx.Tx, idx []int) (int64, error) {
	var rows []logRow
	for _, i := range idx {
		if e.res.Outcomes[i].Status == plan.StatusApplied {
			r := e.logRow(i)
			r[9] = StatusPending
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return 0, nil
	}
	var xact int64
	if err := tx.QueryRow(e.ctx, "SELECT txid_current()").Scan(&xact); err != nil {
		return 0, fmt.Errorf("read the transaction id on %s: %w", e.primary.Name(), err)
	}
	if err := e.flushLog(); err != nil {
		return 0, err
	}
	if err := e.ensureChangeLog(e.ctx); err != nil {
		return 0, err
	}
	conn, err := e.conn(e.primary, "postgres")
	if err != nil {
		return 0, &logError{fmt.Errorf("write change log on %s: %w", e.primary.Name(), err)}
	}
	columns := []string{"cluster", "instance", "kind", "action", "object", "statement", "commit", "signer", "author", "status", "error", "xact"}
	_, err = conn.CopyFrom(e.ctx, pgx.Identifier{"pgreconciler", "change_log"}, columns, pgx.CopyFromSlice(len(rows), func(k int) ([]any, error) {
		r := make([]any, 0, len(columns))
		for _, v := range rows[k] {
			r = append(r, v)
		}
		return append(r, xact), nil
	}))
	if err != nil {
		return 0, &logError{fmt.Errorf("write the intent rows to the change log on %s: %w", e.primary.Name(), err)}
	}
	return xact, nil
}

const settleTxSQL = `UPDATE pgreconciler.change_log SET status = $2, error = $3
WHERE xact = $1 AND status = 'pending'`

// settleTx sets the pending rows of transaction xact to status, with
// error msg. A failure is a *logError; the rows stay pending, and the next
// run settles them from the transaction's status.
func (e *executor) settleTx(xact int64, status, msg string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), cleanupTimeout)
	defer cancel()
	conn, err := e.connCtx(ctx, e.primary, "postgres")
	if err == nil {
		_, err = conn.Exec(ctx, settleTxSQL, xact, status, msg)
	}
	if err != nil {
		return &logError{fmt.Errorf("record the outcome of transaction %d in the change log on %s: %w", xact, e.primary.Name(), err)}
	}
	return nil
}

// xactCommitted reports whether transaction xact committed although its
// COMMIT returned an error (the answer was lost with the session): the
// server, asked on another session, knows.
func (e *executor) xactCommitted(xact int64) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), cleanupTimeout)
	defer cancel()
	conn, err := e.connCtx(ctx, e.primary, "postgres")
	if err != nil {
		return false
	}
	var st *string
	if err := conn.QueryRow(ctx, "SELECT txid_status($1)", xact).Scan(&st); err != nil {
		return false
	}
	return st != nil && *st == "committed"
}
