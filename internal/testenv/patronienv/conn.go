package patronienv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// appName is the application_name of the harness's own sessions.
const appName = "pgreconciler-patronienv"

// ConnString returns a postgres:// URL for TCP to the member's address and
// port with sslmode=verify-full against the cluster's CA.
func (m *Member) ConnString(user, password, db string) string {
	u := url.URL{
		Scheme: "postgres",
		User:   url.UserPassword(user, password),
		Host:   net.JoinHostPort(m.Addr, strconv.Itoa(m.Port)),
		Path:   "/" + db,
	}
	q := url.Values{}
	q.Set("sslmode", "verify-full")
	q.Set("sslrootcert", m.cl.tls.CA)
	q.Set("connect_timeout", "10")
	u.RawQuery = q.Encode()
	return u.String()
}

// Connect opens a TCP+SSL connection as user.
func (m *Member) Connect(ctx context.Context, user, password, db string) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, m.ConnString(user, password, db))
	if err != nil {
		return nil, fmt.Errorf("connect to %s as %s: %w", m.Name(), user, err)
	}
	return conn, nil
}

// Admin opens a superuser connection to the postgres database for test
// setup: dbuser_dba over TCP+SSL, falling back to postgres over the unix
// socket when that fails; the fallback only gets in when the test does not
// run as root (Pigsty's "dbsu via local ident" rule admits the postgres OS
// user, not root). Its statements are not logged.
func (m *Member) Admin(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(m.ConnString(m.cl.SuperUser, m.cl.SuperPassword, "postgres"))
	if err != nil {
		return nil, fmt.Errorf("parse connection string: %w", err)
	}
	conn, tcpErr := connectQuiet(ctx, cfg)
	if tcpErr == nil {
		return conn, nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("connect to %s as superuser: %w", m.Name(), tcpErr)
	}
	conn, sockErr := m.socketConn(ctx)
	if sockErr != nil {
		return nil, fmt.Errorf("connect to %s as superuser: %w", m.Name(), errors.Join(tcpErr, sockErr))
	}
	return conn, nil
}

// Exec runs one statement through a short-lived Admin connection.
func (m *Member) Exec(ctx context.Context, sql string, args ...any) error {
	conn, err := m.Admin(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("exec on %s: %w", m.Name(), err)
	}
	return nil
}

// socketConn connects as the bootstrap superuser postgres over the unix
// socket.
func (m *Member) socketConn(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig("")
	if err != nil {
		return nil, err
	}
	cfg.Host, cfg.Port, cfg.User, cfg.Database = m.SocketDir, uint16(m.Port), "postgres", "postgres"
	cfg.TLSConfig, cfg.Fallbacks = nil, nil
	conn, err := connectQuiet(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s over its unix socket: %w", m.Name(), err)
	}
	return conn, nil
}

// connectQuiet opens a harness session whose statements stay out of the
// server log and pg_stat_statements, so the harness never writes a password
// there (startup parameters a superuser may set).
func connectQuiet(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	for k, v := range map[string]string{
		"application_name":           appName,
		"log_statement":              "none",
		"log_min_duration_statement": "-1",
		"log_min_error_statement":    "panic",
		"pg_stat_statements.track":   "none",
	} {
		cfg.RuntimeParams[k] = v
	}
	return pgx.ConnectConfig(ctx, cfg)
}
