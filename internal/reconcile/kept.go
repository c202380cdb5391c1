package reconcile

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Sessions lends a reconcile the sessions an earlier one kept, and keeps
// the ones a ModePlan reconcile is done with, so that successive drift
// checks of a cluster read each instance on one session instead of
// opening their own (Options.Sessions). A session kept by something else
// made for the same commit (the daemon's change-log read, which comes just
// before the reconcile of a new commit) is lent the same way, to an apply
// too: the apply then owns it, and closes it at the end. Only the session to database postgres of each
// instance is lent and kept: the topology check's, on which the instance
// is then inspected. The other managed databases of the primary are
// entered on sessions of their own, closed after, as without Sessions.
//
// A session taken belongs to the reconcile; one given to Keep belongs to
// the Sessions again, which keeps it for the next reconcile or closes it.
// The Sessions decides whether a kept session was made with what the
// reconcile would dial now (the instance's address, the commit in its
// application_name, the connection settings) and returns nil when not;
// the reconcile checks the rest (reusable).
type Sessions interface {
	// Take returns the session kept for in, or nil.
	Take(in *model.Instance) *pgx.Conn
	// Reused is told that the session taken for in passed the checks
	// (reusable) and is used in place of a new one.
	Reused(in *model.Instance)
	// Keep is given the session in was inspected on, without error.
	Keep(in *model.Instance, conn *pgx.Conn)
}

// taking reports whether this reconcile takes kept sessions: in every
// mode, since one taken is checked to be as good as a new one (kept).
func (r *run) taking() bool { return r.opts.Sessions != nil }

// keeping reports whether this reconcile keeps its sessions: only a plan
// (no lock, nothing executed) does. An apply's sessions stay its own:
// the lock's is held to the end, the writes' may be ended by what they
// execute.
func (r *run) keeping() bool { return r.taking() && r.opts.Mode == ModePlan }

// reuseCheck is the first query on a kept session, in place of the
// topology check's pg_is_in_recovery(): whether the server still answers
// on it, and whether the session processed a reload since it started, in
// which case it is not reused — the inspection works out the backend
// parameters of such a session from the configuration files instead of
// reading them (inspect/sql/session.sql, reloaded), so a kept session
// must not read differently from a new one.
const reuseCheck = `SELECT pg_catalog.pg_is_in_recovery(),
       coalesce(pg_catalog.pg_conf_load_time() > (SELECT backend_start FROM pg_catalog.pg_stat_activity
                                                   WHERE pid = pg_catalog.pg_backend_pid()), false)`

// reuseTimeout bounds reuseCheck: a kept session to a server that vanished
// without a word (no RST) must not cost the new session its own timeout.
const reuseTimeout = 3 * time.Second

// kept returns the session kept for in that may be reused, with its
// pg_is_in_recovery(), or nil. A session that is closed, inside a
// transaction, that processed a reload or whose first query fails (the
// server restarted, a pg_terminate_backend) is closed: the caller opens a
// new one, once, as if none had been kept.
func (r *run) kept(ctx context.Context, in *model.Instance) (*pgx.Conn, bool) {
	if !r.taking() {
		return nil, false
	}
	conn := r.opts.Sessions.Take(in)
	if conn == nil {
		return nil, false
	}
	if !idle(conn) {
		conn.Close(context.WithoutCancel(ctx))
		return nil, false
	}
	check, cancel := context.WithTimeout(ctx, reuseTimeout)
	defer cancel()
	var rec, reloaded bool
	if err := conn.QueryRow(check, reuseCheck).Scan(&rec, &reloaded); err != nil || reloaded {
		conn.Close(context.WithoutCancel(ctx))
		return nil, false
	}
	r.opts.Sessions.Reused(in)
	return conn, rec
}

// idle reports whether conn is open and outside any transaction.
func idle(conn *pgx.Conn) bool {
	return !conn.IsClosed() && conn.PgConn().TxStatus() == 'I'
}

// release ends the inspection's use of a session the topology check
// handed over: kept when this reconcile keeps sessions and the inspection
// read without error on it, closed otherwise.
func (r *run) release(ctx context.Context, in *model.Instance, conn *pgx.Conn, err error) {
	if err == nil && r.keeping() && idle(conn) {
		r.opts.Sessions.Keep(in, conn)
		return
	}
	conn.Close(context.WithoutCancel(ctx))
}
