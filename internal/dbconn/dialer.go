package dbconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// AppName is the application_name of every reconciler session.
const AppName = "pgreconciler"

// Settings are the libpq-style connection defaults for a fleet or a
// cluster. Empty fields fall back to the libpq environment variables and
// then to libpq's defaults.
type Settings struct {
	User           string
	Password       model.Secret
	Passfile       string
	SSLMode        string
	SSLRootCert    string
	SSLCert        string
	SSLKey         string
	ConnectTimeout time.Duration
}

// Dialer opens sessions to instances.
type Dialer struct {
	base      Settings
	clusters  map[string]Settings
	commit    string
	lookupEnv func(string) (string, bool)

	// StatementTimeout and LockTimeout bound every statement (0 = none).
	StatementTimeout time.Duration
	LockTimeout      time.Duration

	// Tracer, when set, traces every session (benchmarks count round
	// trips with it).
	Tracer pgx.QueryTracer
}

// New returns a Dialer with defaults, and per-cluster overrides (keyed by
// cluster name) whose non-empty fields win.
func New(defaults Settings, perCluster map[string]Settings) *Dialer {
	return &Dialer{base: defaults, clusters: perCluster, StatementTimeout: 5 * time.Minute, LockTimeout: 10 * time.Second}
}

// WithCommit returns a copy of d whose sessions carry the commit in their
// application_name.
func (d *Dialer) WithCommit(commit string) *Dialer {
	c := *d
	c.commit = commit
	return &c
}

// AppName returns the application_name sessions carry.
func (d *Dialer) AppName() string {
	if d.commit == "" {
		return AppName
	}
	return AppName + "@" + model.ShortHash(d.commit)
}

// Connect opens a session to database on the instance.
func (d *Dialer) Connect(ctx context.Context, in *model.Instance, database string) (*pgx.Conn, error) {
	cfg, err := d.config(in.Cluster, in.IP, in.Port, database)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", in.Name(), err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, &ConnectError{Instance: in.Name(), Addr: net.JoinHostPort(in.IP, strconv.Itoa(in.Port)),
			User: cfg.User, Database: database, Err: redact(err, cfg.Password), NoPassword: cfg.Password == ""}
	}
	return conn, nil
}

// SessionCacheCapacity bounds each session's statement and description
// caches: more than the distinct statements an inspection prepares.
const SessionCacheCapacity = 64

// config builds the pgx configuration: libpq environment and defaults,
// then the dialer's settings, then the instance's address.
func (d *Dialer) config(cluster, host string, port int, database string) (*pgx.ConnConfig, error) {
	s := d.base
	if o, ok := d.clusters[cluster]; ok {
		s = merge(s, o)
	}
	var kv []string
	add := func(k, v string) {
		if v != "" {
			kv = append(kv, k+"='"+strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v)+"'")
		}
	}
	// host and port go through the parser so that TLS settings (server name
	// for verify-full) are built for the instance, not for PGHOST.
	add("host", host)
	add("port", strconv.Itoa(port))
	add("dbname", database)
	add("user", s.User)
	add("passfile", s.Passfile)
	add("sslmode", s.SSLMode)
	add("sslrootcert", s.SSLRootCert)
	add("sslcert", s.SSLCert)
	add("sslkey", s.SSLKey)
	if s.ConnectTimeout > 0 {
		add("connect_timeout", strconv.Itoa(int(s.ConnectTimeout.Seconds())))
	}
	// pgx reads PGUSER, PGPASSWORD, PGPASSFILE, PGSSLMODE, … for what the
	// string leaves out, exactly like libpq.
	cfg, err := pgx.ParseConfig(strings.Join(kv, " "))
	if err != nil {
		return nil, fmt.Errorf("connection settings: %w", redact(err, s.Password.Reveal()))
	}
	if !s.Password.IsZero() {
		cfg.Password = s.Password.Reveal()
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	// A session sends at most a few dozen distinct prepared statements
	// (the inspection's catalog queries); pgx's default caches of 512
	// each cost ~50 KB per session up front, 50 MB for the 1,000 sessions
	// a daemon keeps between drift checks of 1,000 clusters.
	cfg.StatementCacheCapacity, cfg.DescriptionCacheCapacity = SessionCacheCapacity, SessionCacheCapacity
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 15 * time.Second}
	cfg.DialFunc = dialer.DialContext
	cfg.RuntimeParams["application_name"] = d.AppName()
	if d.StatementTimeout > 0 {
		cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(d.StatementTimeout.Milliseconds(), 10)
	}
	if d.LockTimeout > 0 {
		cfg.RuntimeParams["lock_timeout"] = strconv.FormatInt(d.LockTimeout.Milliseconds(), 10)
	}
	cfg.RuntimeParams["idle_in_transaction_session_timeout"] = "600000"
	// The server, not the client, must notice a reconciler host that
	// vanished, or its advisory lock outlives it by the OS default (~2 h):
	// server-side keepalives probe after 30 s idle, every 10 s, 6 times.
	// The lock session is idle between statements, so a server-wide
	// idle_session_timeout must not end it mid-apply.
	cfg.RuntimeParams["tcp_keepalives_idle"] = "30"
	cfg.RuntimeParams["tcp_keepalives_interval"] = "10"
	cfg.RuntimeParams["tcp_keepalives_count"] = "6"
	// idle_session_timeout, client_connection_check_interval (PostgreSQL
	// 14+) and createrole_self_grant (16+)
	// cannot go in the startup packet: an older server refuses the whole
	// login for an unknown parameter.
	cfg.AfterConnect = versionedSettings
	if d.Tracer != nil {
		cfg.Tracer = d.Tracer
	}
	return cfg, nil
}

func merge(a, b Settings) Settings {
	pick := func(x, y string) string {
		if y != "" {
			return y
		}
		return x
	}
	out := Settings{
		User: pick(a.User, b.User), Passfile: pick(a.Passfile, b.Passfile), SSLMode: pick(a.SSLMode, b.SSLMode),
		SSLRootCert: pick(a.SSLRootCert, b.SSLRootCert), SSLCert: pick(a.SSLCert, b.SSLCert), SSLKey: pick(a.SSLKey, b.SSLKey),
		Password: a.Password, ConnectTimeout: a.ConnectTimeout,
	}
	if !b.Password.IsZero() {
		out.Password = b.Password
	}
	if b.ConnectTimeout > 0 {
		out.ConnectTimeout = b.ConnectTimeout
	}
	return out
}

// ConnectError is a failure to reach or log in to an instance: a
// transient condition (retry later) unless the server refused the login.
type ConnectError struct {
	Instance, Addr, User, Database string
	Err                            error
	NoPassword                     bool // no password from the settings, PGPASSWORD or a passfile (hint.go)
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("connect to %s (%s) as %s, database %s: %s%s", e.Instance, e.Addr, e.User, e.Database, onceEach(e.Err.Error()), e.hint())
}

func (e *ConnectError) Unwrap() error { return e.Err }

// redact removes a password from an error's text.
func redact(err error, password string) error {
	if err == nil || password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return redactedError{msg: strings.ReplaceAll(err.Error(), password, model.Redacted), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }

// Unwrap keeps errors.As working (a *pgconn.PgError inside) without
// exposing the unredacted text through Error.
func (e redactedError) Unwrap() error { return e.err }

// SQLState returns the SQLSTATE of a PostgreSQL error, or "".
func SQLState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// versionedSettings sets, in one round trip at connect, what only newer
// servers have: idle_session_timeout off (14+), and createrole_self_grant
// empty (16+), so that a reconciler that is not a superuser does not
// become a member (SET, INHERIT) of every role it creates: it creates what
// the spec says, no more (the ADMIN OPTION 16 gives a role's creator stays).
func versionedSettings(ctx context.Context, pc *pgconn.PgConn) error {
	v := pc.ParameterStatus("server_version") // "13.23", "18.4", "18beta1"
	n := len(v) - len(strings.TrimLeft(v, "0123456789"))
	major, err := strconv.Atoi(v[:n])
	if err != nil || major < 14 {
		return nil
	}
	// client_connection_check_interval: a session blocked in a lock wait
	// when its reconciler died (SIGKILL, OOM) is ended within 5 s instead
	// of when the wait ends, and the apply lock with it, so that a standby
	// replica takes over (docs/daemon.md, sharding).
	sql := "SET idle_session_timeout = 0; SET client_connection_check_interval = '5s'"
	if major >= 16 {
		sql += "; SET createrole_self_grant = ''"
	}
	if _, err := pc.Exec(ctx, sql).ReadAll(); err != nil {
		return fmt.Errorf("set session parameters: %w", err)
	}
	return nil
}
