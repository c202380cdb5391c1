package apply

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

// connKey names a cached session.
type connKey struct{ instance, database string }

// conn returns the apply's session to database on in, opening it on first
// use. A session that broke is replaced.
func (e *executor) conn(in *model.Instance, database string) (*pgx.Conn, error) {
	return e.connCtx(e.ctx, in, database)
}

// connCtx is conn, dialling (if it must) under ctx.
func (e *executor) connCtx(ctx context.Context, in *model.Instance, database string) (*pgx.Conn, error) {
	k := connKey{in.Name(), database}
	if c, ok := e.conns[k]; ok {
		if !c.IsClosed() {
			return c, nil
		}
		delete(e.conns, k)
	}
	c, err := e.t.Dialer.Connect(ctx, in, database)
	if err != nil {
		return nil, err
	}
	if e.primary != nil && in.Name() == e.primary.Name() {
		if err := writable(ctx, c, in); err != nil {
			c.Close(context.WithoutCancel(ctx))
			return nil, err
		}
	}
	e.conns[k] = c
	return c, nil
}

// dropConn closes and forgets the apply's session to database on in, so
// that the next use opens a new one.
func (e *executor) dropConn(in *model.Instance, database string) {
	k := connKey{in.Name(), database}
	if c, ok := e.conns[k]; ok {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), cleanupTimeout)
		defer cancel()
		c.Close(ctx)
		delete(e.conns, k)
	}
}

// closeOthers closes the apply's sessions on in to every database but
// keep: CREATE DATABASE (from a template) and DROP DATABASE fail while a
// session is connected to the database they copy or drop.
func (e *executor) closeOthers(in *model.Instance, keep string) {
	for k, c := range e.conns {
		if k.instance == in.Name() && k.database != keep {
			c.Close(e.ctx)
			delete(e.conns, k)
		}
	}
}

// execMulti sends sql, one or more statements separated by semicolons, as
// one simple-protocol query: a single round trip, logged by the server as
// one statement. It returns how many statements completed; when err is
// set, the statement at that index failed and none after it ran.
func execMulti(ctx context.Context, conn *pgx.Conn, sql string) (int, error) {
	mrr := conn.PgConn().Exec(ctx, sql)
	n := 0
	for mrr.NextResult() {
		if _, err := mrr.ResultReader().Close(); err != nil {
			_ = mrr.Close()
			return n, err
		}
		n++
	}
	return n, mrr.Close()
}

// joinSQL joins statements for execMulti. The newline ends a trailing line
// comment that would otherwise swallow the separator.
func joinSQL(stmts []string) string { return strings.Join(stmts, "\n;") }

// message is the text of an error for an Outcome: PostgreSQL's message and
// detail (not the statement), or the error itself.
func message(err error) string {
	var ce *dbconn.ConnectError
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &ce):
		return err.Error()
	case errors.As(err, &pe):
		if pe.Detail != "" {
			return pe.Message + " (" + pe.Detail + ")"
		}
		return pe.Message
	}
	return err.Error()
}
