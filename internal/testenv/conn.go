package testenv

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// harnessAppName is the application_name of the harness's own sessions, so
// tests can tell them apart in the server log.
const harnessAppName = "pgreconciler-testenv"

// quietParams keep the harness's internal sessions (bootstrap, Reset,
// waits) out of the statement log and pg_stat_statements, so the harness
// never writes a password there. They are startup parameters, allowed
// because those sessions are superuser sessions.
func quietParams() map[string]string {
	return map[string]string{
		"log_statement":              "none",
		"log_min_duration_statement": "-1",
		"log_min_error_statement":    "panic",
		"log_min_messages":           "panic",
		"pg_stat_statements.track":   "none",
	}
}

// ConnString returns a key=value connection string for TCP to the server's
// address and port with sslmode=require.
func (s *Server) ConnString(user, password, db string) string {
	return connString([][2]string{
		{"host", s.Addr},
		{"port", strconv.Itoa(s.Port)},
		{"user", user},
		{"password", password},
		{"dbname", db},
		{"sslmode", "require"},
		{"connect_timeout", "10"},
	})
}

// socketConnString connects to the unix socket as the bootstrap superuser
// postgres, trusted by the default pg_hba.conf.
func (s *Server) socketConnString(db string) string {
	return connString([][2]string{
		{"host", s.SocketDir},
		{"port", strconv.Itoa(s.Port)},
		{"user", "postgres"},
		{"dbname", db},
		{"sslmode", "disable"},
		{"connect_timeout", "10"},
	})
}

func connString(kvs [][2]string) string {
	esc := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	parts := make([]string, len(kvs))
	for i, kv := range kvs {
		parts[i] = kv[0] + "='" + esc.Replace(kv[1]) + "'"
	}
	return strings.Join(parts, " ")
}

// Connect opens a TCP+SSL connection as user.
func (s *Server) Connect(ctx context.Context, user, password, db string) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, s.ConnString(user, password, db))
	if err != nil {
		return nil, fmt.Errorf("connect to %s as %s: %w", s.Name(), user, err)
	}
	return conn, nil
}

// Admin opens a superuser connection to the postgres database for test
// setup: as dbuser_dba over TCP+SSL with the bootstrap password, falling
// back to postgres over the unix socket when that fails (say, a test changed
// pg_hba.conf, the password or dbuser_dba's SUPERUSER attribute). Its
// application_name is "pgreconciler-testenv".
func (s *Server) Admin(ctx context.Context) (*pgx.Conn, error) {
	return s.admin(ctx, "postgres", false)
}

// admin is Admin for any database; quiet sessions are not logged.
func (s *Server) admin(ctx context.Context, db string, quiet bool) (*pgx.Conn, error) {
	conn, tcpErr := s.connectAs(ctx, s.ConnString(s.cl.SuperUser, s.cl.SuperPassword, db), quiet)
	if tcpErr == nil {
		if conn.PgConn().ParameterStatus("is_superuser") == "on" {
			return conn, nil
		}
		conn.Close(context.Background())
		tcpErr = fmt.Errorf("%s is no longer a superuser", s.cl.SuperUser)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("connect to %s as superuser: %w", s.Name(), tcpErr)
	}
	conn, sockErr := s.connectAs(ctx, s.socketConnString(db), quiet)
	if sockErr != nil {
		return nil, fmt.Errorf("connect to %s as superuser: %w", s.Name(), errors.Join(tcpErr, sockErr))
	}
	return conn, nil
}

// connectAs opens a harness session (application_name set, quiet if
// asked); over the unix socket, as the server account.
func (s *Server) connectAs(ctx context.Context, connString string, quiet bool) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("parse connection string: %w", err)
	}
	acct, tcp := s.cl.acct, cfg.DialFunc
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if network == "unix" {
			return acct.DialUnix(ctx, addr)
		}
		return tcp(ctx, network, addr)
	}
	cfg.RuntimeParams["application_name"] = harnessAppName
	if quiet {
		maps.Copy(cfg.RuntimeParams, quietParams())
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// Exec runs one statement through a short-lived Admin connection.
func (s *Server) Exec(ctx context.Context, sql string, args ...any) error {
	conn, err := s.Admin(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("exec on %s: %w", s.Name(), err)
	}
	return nil
}

// Local opens a session as the bootstrap superuser postgres over the unix
// socket, from the postgres OS user (trusted by the harness's pg_hba.conf,
// and by peer or ident rules such as Pigsty's): emergency access that does
// not depend on the TCP rules of pg_hba.conf, nor on dbuser_dba. Its
// statements are logged; its application_name is "pgreconciler-testenv".
func (s *Server) Local(ctx context.Context, db string) (*pgx.Conn, error) {
	conn, err := s.connectAs(ctx, s.socketConnString(db), false)
	if err != nil {
		return nil, fmt.Errorf("connect to %s over its socket: %w", s.Name(), err)
	}
	return conn, nil
}

// LocalExec runs sql, which may hold several statements (as one simple
// query: one implicit transaction unless it has BEGIN/COMMIT of its own),
// in db through a short-lived Local session.
func (s *Server) LocalExec(ctx context.Context, db, sql string) error {
	_, err := s.LocalQuery(ctx, db, sql)
	return err
}

// LocalQuery runs sql like LocalExec and returns the rows of its last
// result as text (NULL is ""), the way psql -At shows them.
func (s *Server) LocalQuery(ctx context.Context, db, sql string) ([][]string, error) {
	conn, err := s.Local(ctx, db)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	results, err := conn.PgConn().Exec(ctx, sql).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("run on %s: %w", s.Name(), err)
	}
	var rows [][]string
	if len(results) > 0 {
		for _, r := range results[len(results)-1].Rows {
			row := make([]string, len(r))
			for i, v := range r {
				row[i] = string(v)
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// LocalValue runs a query returning one value (one row, one column) like
// LocalQuery and returns it as text.
func (s *Server) LocalValue(ctx context.Context, db, sql string) (string, error) {
	rows, err := s.LocalQuery(ctx, db, sql)
	if err != nil {
		return "", err
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		return "", fmt.Errorf("run on %s: %d rows, want one value: %s", s.Name(), len(rows), sql)
	}
	return rows[0][0], nil
}
