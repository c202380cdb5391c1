package dbconn

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// ConnectConsole opens a session to the admin console of the PgBouncer
// beside an instance: database pgbouncer on port, at the instance's
// address, as the dialer's user with its password and TLS settings, in
// pgx's simple protocol (the only one the console speaks). It sends
// none of the session parameters a PostgreSQL session gets but
// application_name: PgBouncer refuses a login with a startup parameter it
// does not know.
func (d *Dialer) ConnectConsole(ctx context.Context, in *model.Instance, port int) (*pgx.Conn, error) {
	cfg, err := d.config(in.Cluster, in.IP, port, "pgbouncer")
	if err != nil {
		return nil, fmt.Errorf("connect to the pgbouncer of %s: %w", in.Name(), err)
	}
	cfg.RuntimeParams = map[string]string{"application_name": d.AppName()}
	cfg.AfterConnect = nil
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, &ConnectError{Instance: in.Name() + " (pgbouncer)", Addr: net.JoinHostPort(in.IP, strconv.Itoa(port)),
			User: cfg.User, Database: "pgbouncer", Err: redact(err, cfg.Password), NoPassword: cfg.Password == ""}
	}
	return conn, nil
}
