package dbconn

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// PoolerDatabase is PgBouncer's admin console.
const PoolerDatabase = "pgbouncer"

// ConnectPooler opens a session to the admin console of the PgBouncer
// beside in (its IP, pgbouncer_port, database pgbouncer), with the same
// user, password and TLS files as the instance's sessions, in pgx's
// simple protocol (the only one the console speaks) and with no startup
// parameter but application_name (PgBouncer refuses the others Pigsty's
// ignore_startup_parameters does not list). TLS follows the pooler: none
// when pgbouncer_sslmode is disable (the pooler refuses it), the
// configured sslmode otherwise.
func (d *Dialer) ConnectPooler(ctx context.Context, in *model.Instance) (*pgx.Conn, error) {
	return d.connectPooler(ctx, in, "", model.Secret{})
}

// ConnectPoolerAs is ConnectPooler as another user, with its password
// (the monitor user, to check that a reload keeps it in).
func (d *Dialer) ConnectPoolerAs(ctx context.Context, in *model.Instance, user string, password model.Secret) (*pgx.Conn, error) {
	return d.connectPooler(ctx, in, user, password)
}

func (d *Dialer) connectPooler(ctx context.Context, in *model.Instance, user string, password model.Secret) (*pgx.Conn, error) {
	cfg, err := d.config(in.Cluster, in.IP, in.Pooler.Port, PoolerDatabase)
	if err != nil {
		return nil, fmt.Errorf("connect to the PgBouncer of %s: %w", in.Name(), err)
	}
	if user != "" {
		cfg.User, cfg.Password = user, password.Reveal()
	}
	for k := range cfg.RuntimeParams {
		if k != "application_name" {
			delete(cfg.RuntimeParams, k)
		}
	}
	cfg.AfterConnect = nil
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	if in.Pooler.SSLMode == "disable" {
		cfg.TLSConfig, cfg.Fallbacks = nil, nil
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, &ConnectError{Instance: "the PgBouncer of " + in.Name(), Addr: net.JoinHostPort(in.IP, strconv.Itoa(in.Pooler.Port)),
			User: cfg.User, Database: PoolerDatabase, Err: redact(err, cfg.Password), NoPassword: cfg.Password == ""}
	}
	return conn, nil
}
