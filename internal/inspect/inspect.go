package inspect

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Options name the instance and say which databases to enter.
type Options struct {
	Cluster, Instance string // names for model.InstanceState and errors
	Addr              string // copied into the state
	Port              int    // copied into the state

	// Databases are the managed databases to enter (schemas, extensions,
	// default privileges). Those that do not exist or do not allow
	// connections are skipped (LiveDatabase.Inside stays false).
	Databases []string

	// Connect opens a session to another database of the same instance
	// (the caller passes a closure over dbconn.Dialer.Connect). Inspect
	// closes the sessions it opens. Up to 4 may be open at once.
	Connect func(ctx context.Context, database string) (*pgx.Conn, error)

	// LogWindow, when positive, also reads the connections the server
	// logged (log_connections, csvlog) in its log files modified within
	// it, where the session may read them (model.InstanceState.Logged).
	LogWindow time.Duration
}

// Inspect reads the state of the instance conn is connected to: round
// trip 1 for the session, round trip 2 for the instance-wide catalogs,
// then one round trip per managed database (the session's own database
// through conn, the others through opts.Connect). conn must be idle, not
// inside a transaction; Inspect only reads.
//
// On success the error is nil. When some managed databases could not be
// entered, the state is returned with a *PartialError naming them. Any
// other error comes with a nil state.
func Inspect(ctx context.Context, conn *pgx.Conn, opts Options) (*model.InstanceState, error) {
	s, err := readSession(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", opts.Instance, err)
	}
	c, err := readCatalog(ctx, conn, s, opts.LogWindow)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", opts.Instance, err)
	}
	st := &model.InstanceState{
		Cluster:        opts.Cluster,
		Instance:       opts.Instance,
		Addr:           opts.Addr,
		Port:           opts.Port,
		Version:        s.version,
		InRecovery:     s.inRecovery,
		Now:            s.now,
		DataDir:        s.dataDir,
		HBAFile:        s.hbaFile,
		Session:        s.info,
		AuthidReadable: s.authid,
	}
	c.fill(st)
	failed := enterDatabases(ctx, conn, s.info.Database, opts, st.Databases)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("inspect %s: %w", opts.Instance, err)
	}
	if len(failed) > 0 {
		return st, &PartialError{Instance: opts.Instance, Databases: failed}
	}
	return st, nil
}
