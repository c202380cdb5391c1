package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// logRow is one change_log row, in the column order of writeChangeLog. It
// never holds a secret: statements are their redacted String forms.
type logRow [11]string

// logRow builds the row of outcome i. The error names the SQLSTATE, and
// every column is text PostgreSQL can hold (see printable): a change whose
// statement holds a NUL byte is logged like any other.
func (e *executor) logRow(i int) logRow {
	o := &e.res.Outcomes[i]
	c := &e.cp.Changes[i]
	in := c.Instance
	if in == "" {
		in = e.primary.Name()
	}
	msg := o.Error
	if o.SQLState != "" {
		msg += " (SQLSTATE " + o.SQLState + ")"
	}
	r := logRow{e.cluster(), in, string(c.Kind), c.Action.String(), c.Object,
		strings.Join(redactedStatements(c), ";\n"), e.opts.Provenance.Commit, e.opts.Provenance.Signer, e.opts.Provenance.Author,
		o.Status.String(), msg}
	for k := range r {
		r[k] = printable(r[k])
	}
	return r
}

// printable returns s as text any PostgreSQL database holds: a NUL byte,
// and each byte that is not valid UTF-8, becomes its \xNN escape. Text
// without them is returned unchanged.
func printable(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == 0 || r == utf8.RuneError && n == 1 {
			fmt.Fprintf(&b, `\x%02x`, s[i])
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// queueLog queues the row of outcome i if it is worth logging: applied,
// failed or refused.
func (e *executor) queueLog(i int) {
	switch e.res.Outcomes[i].Status {
	case plan.StatusApplied, plan.StatusFailed, plan.StatusRefused:
		if id, ok := e.intents[i]; ok {
			e.settled = append(e.settled, settled{id, e.logRow(i)})
			delete(e.intents, i)
			return
		}
		e.pending = append(e.pending, e.logRow(i))
	}
}

// flushLog writes the queued rows in their own transaction. The rows
// record changes already made, so a cancelled apply still writes them,
// within cleanupTimeout.
func (e *executor) flushLog() error {
	if len(e.pending) == 0 && len(e.settled) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), cleanupTimeout)
	defer cancel()
	if err := e.ensureChangeLog(ctx); err != nil {
		return err
	}
	conn, err := e.connCtx(ctx, e.primary, "postgres")
	if err != nil {
		return &logError{fmt.Errorf("write change log on %s: %w", e.primary.Name(), err)}
	}
	if err := writeChangeLog(ctx, conn, e.pending); err != nil {
		return err
	}
	e.pending = nil
	if err := writeSettled(ctx, conn, e.settled); err != nil {
		return err
	}
	e.settled = nil
	return nil
}

// ensureChangeLog creates the change log unless it exists; it writes
// nothing when it does.
func (e *executor) ensureChangeLog(ctx context.Context) error {
	if e.changeLogReady {
		return nil
	}
	conn, err := e.connCtx(ctx, e.primary, "postgres")
	if err != nil {
		return &logError{fmt.Errorf("create change log on %s: %w", e.primary.Name(), err)}
	}
	if err := createChangeLog(ctx, conn, " on "+e.primary.Name()); err != nil {
		return &logError{err}
	}
	e.changeLogReady = true
	return nil
}

// createChangeLog creates the change log in the database conn is
// connected to unless it exists; it writes nothing when it does. where
// (" on pg-test-1") completes its errors.
func createChangeLog(ctx context.Context, conn *pgx.Conn, where string) error {
	var exists bool
	if err := conn.QueryRow(ctx, changeLogExistsSQL).Scan(&exists); err != nil {
		return fmt.Errorf("look up change log%s: %w", where, err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, changeLogDDL); err != nil {
			return fmt.Errorf("create change log%s: %w", where, err)
		}
	}
	return nil
}

// StatusObserved is the status of a change-log row that records drift: an
// object changed on a server outside the reconciler, as the daemon saw it
// (and then healed it, or reported it in observe mode). `reconciler audit`
// lists these rows as out-of-band changes.
const StatusObserved = "observed"

// Observed is one object found changed outside the reconciler.
type Observed struct {
	At       time.Time // when it was observed; zero: now
	Cluster  string
	Instance string
	Kind     string // the plan kind of the object: role, parameter, hba …
	Object   string
	// Action is the plan action that heals it ("alter", "drop" …), or ""
	// when it is only reported (observe mode).
	Action string
	// What says what differed from the spec, for humans: "rolcreaterole:
	// false -> true", "password changed". It must never hold a secret: a
	// password, a verifier, a connection string.
	What string
	// Commit is the commit whose spec the object drifted from.
	Commit string
}

// RecordObserved writes one change-log row, status observed, per
// observation, in one COPY, into the database conn is connected to (the
// primary's postgres database), creating the change log when missing.
// The daemon calls it for the out-of-band changes it heals (daemon's
// observed.go); the rows carry no signer or author, since nobody the
// reconciler knows made the change.
func RecordObserved(ctx context.Context, conn *pgx.Conn, obs []Observed) error {
	if len(obs) == 0 {
		return nil
	}
	if err := createChangeLog(ctx, conn, ""); err != nil {
		return err
	}
	columns := []string{"at", "cluster", "instance", "kind", "action", "object", "statement", "commit", "signer", "author", "status", "error"}
	_, err := conn.CopyFrom(ctx, pgx.Identifier{"pgreconciler", "change_log"}, columns, pgx.CopyFromSlice(len(obs), func(i int) ([]any, error) {
		o := obs[i]
		at := o.At
		if at.IsZero() {
			at = time.Now()
		}
		return []any{at, printable(o.Cluster), printable(o.Instance), printable(o.Kind), printable(o.Action),
			printable(o.Object), printable(o.What), printable(o.Commit), "", "", StatusObserved, ""}, nil
	}))
	if err != nil {
		return fmt.Errorf("write observed changes to the change log: %w", err)
	}
	return nil
}

// logError is a failure to write the change log. It stops the apply: no
// change is made that the change log cannot trace (promise P16; docs/promises.md).
type logError struct{ err error }

func (e *logError) Error() string { return e.err.Error() }
func (e *logError) Unwrap() error { return e.err }

// copier is a session or a transaction.
type copier interface {
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

func writeChangeLog(ctx context.Context, w copier, rows []logRow) error {
	if len(rows) == 0 {
		return nil
	}
	columns := []string{"cluster", "instance", "kind", "action", "object", "statement", "commit", "signer", "author", "status", "error"}
	_, err := w.CopyFrom(ctx, pgx.Identifier{"pgreconciler", "change_log"}, columns, pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		r := make([]any, len(rows[i]))
		for k, v := range rows[i] {
			r[k] = v
		}
		return r, nil
	}))
	if err != nil {
		return &logError{fmt.Errorf("write change log: %w", err)}
	}
	return nil
}

// AppliedCommit is the newest change a change log records as applied from
// a commit.
type AppliedCommit struct {
	Commit string    // as recorded: a full hash, unless someone wrote the table by hand
	At     time.Time // when it was applied, by the primary's clock
}

// LastApplied returns the commit of the most recent applied change recorded
// in the change log of the database conn is connected to (the primary's
// postgres database), and when it was applied; the zero AppliedCommit when
// there is none or no change log yet.
func LastApplied(ctx context.Context, conn *pgx.Conn) (AppliedCommit, error) {
	var a AppliedCommit
	err := conn.QueryRow(ctx, lastAppliedSQL).Scan(&a.Commit, &a.At)
	switch {
	case errors.Is(err, pgx.ErrNoRows), dbconn.SQLState(err) == "42P01": // undefined_table: no change log yet
		return AppliedCommit{}, nil
	case err != nil:
		return AppliedCommit{}, fmt.Errorf("read last applied commit: %w", err)
	}
	return a, nil
}
