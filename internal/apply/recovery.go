package apply

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// ErrInRecovery means a session the apply opened to the cluster's primary
// landed on a server in recovery: the primary moved (a switchover or
// failover) since the plan was made. The apply stops; the next reconcile
// plans against the new leader.
var ErrInRecovery = errors.New("the server is in recovery: the primary moved (switchover or failover?); inspect again before applying")

// ErrLeaderChanged means the cluster's leader is no longer the instance
// the plan was made against (Options.Leader said so).
var ErrLeaderChanged = errors.New("the cluster's leader changed since the plan was made")

// writable checks that a new session to the primary is not on a server in
// recovery. PostgreSQL leaves recovery only by promotion and enters it
// only by a restart, which ends every session: a session found writable
// when it opened stays on the primary for its life, so this check on each
// new session (and the lock session's, at the start) is what keeps every
// write off a demoted server.
func writable(ctx context.Context, conn *pgx.Conn, in *model.Instance) error {
	var rec bool
	if err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&rec); err != nil {
		return fmt.Errorf("check recovery on %s: %w", in.Name(), err)
	}
	if rec {
		return fmt.Errorf("%s: %w", in.Name(), ErrInRecovery)
	}
	return nil
}

// checkLeader asks Options.Leader, before a unit of writes, whether the
// leader is still the one the plan was made against.
func (e *executor) checkLeader() error {
	if e.opts.Leader == nil {
		return nil
	}
	if err := e.opts.Leader(e.ctx); err != nil {
		return fmt.Errorf("%w: %v", ErrLeaderChanged, err)
	}
	return nil
}

// reloadConf makes in reload its configuration, through Options.Reload
// (Patroni's POST /reload) when set, else with pg_reload_conf() on conn,
// and waits until conn's session has processed the reload. When the
// reload through Patroni fails, it falls back to pg_reload_conf() and says
// so in the log: the change must not wait for Patroni's REST API.
func (e *executor) reloadConf(ctx context.Context, in *model.Instance, conn *pgx.Conn) error {
	if e.opts.Reload == nil {
		return reloadConf(ctx, conn, nil)
	}
	return reloadConf(ctx, conn, func(ctx context.Context) error {
		err := e.opts.Reload(ctx, in)
		if err != nil {
			e.log.Warn("reload through Patroni failed: reloading with pg_reload_conf()", "cluster", e.cluster(),
				"instance", in.Name(), "error", err)
			_, err = conn.Exec(ctx, "SELECT pg_reload_conf()")
		}
		return err
	})
}
