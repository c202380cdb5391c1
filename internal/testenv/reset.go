package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
)

const resetTimeout = 3 * time.Minute

// Reset returns the cluster to its bootstrap state, so one cluster per test
// package can serve many tests:
//   - on every server: the configuration files as set up (pg_hba.conf,
//     pg_ident.conf, postgresql.conf, and postgresql.auto.conf, which is
//     what ALTER SYSTEM RESET ALL does), reloaded; stopped servers started,
//     servers with a pending restart restarted, a promoted replica rebuilt;
//   - on the primary: every non-system database dropped (sessions
//     terminated), every role not created by the harness dropped (after
//     DROP OWNED and REASSIGN OWNED), the bootstrap roles' attributes,
//     passwords and memberships restored, every per-role and per-database
//     setting removed, postgres and template1 restored;
//   - then it waits until every replica has replayed the primary's WAL.
//
// Without a deadline in ctx, Reset gives up after three minutes.
func (c *Cluster) Reset(ctx context.Context) error {
	ctx, cancel := withDefaultTimeout(ctx, resetTimeout)
	defer cancel()
	for _, s := range c.Servers() { // primary first: a rebuilt replica copies it
		if err := c.resetServer(ctx, s); err != nil {
			return fmt.Errorf("reset cluster %s: %w", c.Name, err)
		}
	}
	if err := c.resetCatalog(ctx); err != nil {
		return fmt.Errorf("reset cluster %s: %w", c.Name, err)
	}
	if err := c.WaitReplay(ctx); err != nil {
		return fmt.Errorf("reset cluster %s: %w", c.Name, err)
	}
	return nil
}

// resetServer restores s's configuration and makes sure it runs with it.
func (c *Cluster) resetServer(ctx context.Context, s *Server) error {
	if !s.Primary {
		if _, err := os.Stat(filepath.Join(s.DataDir, "standby.signal")); err != nil { // promoted
			if err := s.Stop(); err != nil {
				return err
			}
			if err := os.RemoveAll(s.DataDir); err != nil {
				return fmt.Errorf("remove data directory of %s: %w", s.Name(), err)
			}
			return c.buildReplica(s)
		}
	}
	if err := s.restoreFiles(); err != nil {
		return err
	}
	if s.PID() == 0 {
		return s.Start()
	}
	if err := s.reload(ctx); err != nil {
		return err
	}
	pending, err := s.pendingRestart(ctx)
	if err != nil || !pending {
		return err
	}
	if err := s.Stop(); err != nil {
		return err
	}
	return s.Start()
}

func (s *Server) pendingRestart(ctx context.Context) (bool, error) {
	conn, err := s.admin(ctx, "postgres", true)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	var pending bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_settings WHERE pending_restart)").Scan(&pending)
	if err != nil {
		return false, fmt.Errorf("check pending restart of %s: %w", s.Name(), err)
	}
	return pending, nil
}

// WaitReplay waits until every running replica has replayed everything
// committed on the primary so far. Without a deadline in ctx it gives up
// after 90 s.
func (c *Cluster) WaitReplay(ctx context.Context) error {
	ctx, cancel := withDefaultTimeout(ctx, startTimeout)
	defer cancel()
	conn, err := c.Primary.admin(ctx, "postgres", true)
	if err != nil {
		return fmt.Errorf("wait for replay: %w", err)
	}
	// With synchronous_commit off, pg_current_wal_lsn() can lag behind
	// commits still in WAL buffers. A transactional WAL message committed
	// synchronously is flushed (so it reaches the replicas) and comes after
	// every commit so far: a replica that replayed up to its start has
	// replayed them all.
	var target string
	_, err = conn.Exec(ctx, "SET synchronous_commit = on")
	if err == nil {
		err = conn.QueryRow(ctx, "SELECT pg_logical_emit_message(true, $1, 'wait replay')::text", harnessAppName).Scan(&target)
	}
	conn.Close(context.Background())
	if err != nil {
		return fmt.Errorf("wait for replay: mark primary WAL: %w", err)
	}
	for _, r := range c.Replicas {
		if r.PID() == 0 {
			continue // stopped by the test
		}
		if err := r.waitReplayed(ctx, target); err != nil {
			return fmt.Errorf("wait for replay: %w", err)
		}
	}
	return nil
}

func (s *Server) waitReplayed(ctx context.Context, lsn string) error {
	conn, err := s.admin(ctx, "postgres", true)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for {
		var done bool
		err := conn.QueryRow(ctx, "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)", lsn).Scan(&done)
		if err != nil {
			return fmt.Errorf("read replay LSN of %s: %w", s.Name(), err)
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s has not replayed %s: %w", s.Name(), lsn, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func withDefaultTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// ident quotes an SQL identifier.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }
