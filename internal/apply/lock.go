package apply

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

// LockKey is the session-level advisory lock every reconciler takes on a
// cluster's primary for the whole apply: the first eight bytes of
// sha256("pgreconciler"), read big-endian as a signed 64-bit integer.
// pg_locks shows it as locktype advisory, classid 4151175698, objid
// 1034307952, objsubid 1.
const LockKey int64 = -617580209815271056

// ErrBusy means another reconciler holds the cluster's apply lock: report
// "busy" and try again next cycle.
var ErrBusy = errors.New("another reconciler is applying to this cluster")

// tryLock takes the apply lock on conn without waiting. The lock lives as
// long as the session: a reconciler that dies loses its session (TCP
// keepalives, see dbconn) and with it the lock.
func tryLock(ctx context.Context, conn *pgx.Conn) error {
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", LockKey).Scan(&ok); err != nil {
		return fmt.Errorf("take apply lock: %w", err)
	}
	if !ok {
		return ErrBusy
	}
	return nil
}

// unlock releases the apply lock; closing the session would too.
func unlock(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", LockKey); err != nil {
		return fmt.Errorf("release apply lock: %w", err)
	}
	return nil
}

// Lock is a held apply lock: a dedicated session on the cluster's primary.
// Package reconcile holds it across inspect, plan and apply, so that a
// plan made while another reconciler was applying is never replayed (promise P14; docs/promises.md);
// Apply requires it.
type Lock struct {
	cluster string
	conn    *pgx.Conn
}

// AcquireLock takes the cluster's apply lock without waiting; ErrBusy
// when another reconciler holds it.
func AcquireLock(ctx context.Context, d *dbconn.Dialer, c *model.Cluster) (*Lock, error) {
	p := c.Primary()
	if p == nil {
		return nil, fmt.Errorf("lock %s: the cluster has no primary instance", c.Name)
	}
	conn, err := d.Connect(ctx, p, "postgres")
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", c.Name, err)
	}
	return AcquireLockOn(ctx, conn, c)
}

// AcquireLockOn takes the cluster's apply lock, as AcquireLock does, on
// conn: a session to the cluster's primary that the caller opened (the
// one its topology check used). The Lock owns conn from then on: Release
// closes it, and so does a failure to take the lock.
func AcquireLockOn(ctx context.Context, conn *pgx.Conn, c *model.Cluster) (*Lock, error) {
	p := c.Primary()
	if p == nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("lock %s: the cluster has no primary instance", c.Name)
	}
	if err := tryLock(ctx, conn); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("lock %s on %s: %w", c.Name, p.Name(), err)
	}
	// The intent rows a run that ended left (intent.go), before anything
	// is inspected: the plan then sees what the dead run did.
	if err := resolvePending(ctx, conn, c.Name); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("lock %s on %s: %w", c.Name, p.Name(), err)
	}
	return &Lock{cluster: c.Name, conn: conn}, nil
}

// session is the lock's session, for an apply to cluster c.
func (l *Lock) session(c *model.Cluster) (*pgx.Conn, error) {
	switch {
	case l == nil:
		return nil, errors.New("the apply lock is not held (take it with AcquireLock before inspecting)")
	case l.cluster != c.Name:
		return nil, fmt.Errorf("the apply lock held is cluster %s's", l.cluster)
	}
	return l.conn, nil
}

// Release gives the lock up and closes its session.
func (l *Lock) Release(ctx context.Context) error {
	err := unlock(ctx, l.conn)
	l.conn.Close(ctx)
	return err
}

// lockHeld reports an error unless the session holding the apply lock is
// alive, and with it the lock. After another session to the primary broke
// (a restart, an administrator terminating the reconciler's backends), the
// apply goes on with new sessions only while it still holds the lock.
func (e *executor) lockHeld() error {
	conn := e.opts.Lock.conn
	if conn.IsClosed() {
		return errors.New("the apply lock's session is closed: the lock is lost")
	}
	if err := conn.PgConn().Ping(e.ctx); err != nil {
		return fmt.Errorf("the apply lock's session failed, the lock is lost: %w", err)
	}
	return nil
}
