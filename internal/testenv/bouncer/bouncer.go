package bouncer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// Program is Debian's PgBouncer.
const Program = "/usr/sbin/pgbouncer"

// Generous limits: they only bound how long a broken pooler is waited
// for on a busy machine; nothing is asserted about them.
const (
	startTimeout = 60 * time.Second
	stopTimeout  = 30 * time.Second
)

// Options describe the pooler. The zero value is Pigsty's default setup.
type Options struct {
	SSLMode        string // client_tls_sslmode: "disable" (default, as Pigsty) or "require" …
	Verbose        int    // PgBouncer's verbose (0, as Pigsty)
	LogConnections bool   // log_connections and log_disconnections (off, as Pigsty)
	Port           int    // listen_port; 0 = a free port

	// Files are the initial contents of userlist.txt, useropts.txt,
	// database.txt and pgb_hba.conf, by those names; a file not given
	// starts empty, except pgb_hba.conf, which starts with Pigsty's
	// "dbsu local admin access" line.
	Files map[string][]byte
}

// Bouncer is a running PgBouncer beside one test server.
type Bouncer struct {
	Server  *testenv.Server
	Addr    string // the server's loopback address
	Port    int
	Dir     string // the configuration files, Unix socket, pid file and log
	INIFile string
	LogFile string

	mu   sync.Mutex
	proc *testenv.Process // nil when stopped
}

// Start starts a pooler beside server s of cluster c and stops it when
// the test ends (before the cluster's own cleanup).
func Start(t testing.TB, c *testenv.Cluster, s *testenv.Server, opts Options) *Bouncer {
	t.Helper()
	b, err := StartBouncer(c, s, opts)
	if err != nil {
		t.Fatalf("start pgbouncer beside %s: %v", s.Name(), err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last lines of the pgbouncer log beside %s:\n%s", s.Name(), tail(b.Log(), 40))
		}
		if err := b.Stop(); err != nil {
			t.Errorf("stop pgbouncer: %v", err)
		}
	})
	return b
}

// StartBouncer is Start outside a test: call Stop when done.
func StartBouncer(c *testenv.Cluster, s *testenv.Server, opts Options) (*Bouncer, error) {
	if _, err := os.Stat(Program); err != nil {
		return nil, fmt.Errorf("pgbouncer is not installed (run scripts/install-deps.sh): %w", err)
	}
	if opts.SSLMode == "" {
		opts.SSLMode = "disable"
	}
	b := &Bouncer{Server: s, Addr: s.Addr, Dir: filepath.Join(s.Dir(), "pgbouncer")}
	b.INIFile = filepath.Join(b.Dir, "pgbouncer.ini")
	b.LogFile = filepath.Join(b.Dir, "pgbouncer.log")
	if err := s.Mkdir(b.Dir, 0o750); err != nil {
		return nil, err
	}
	for _, name := range []string{"userlist.txt", "useropts.txt", "database.txt", "pgb_hba.conf"} {
		data, ok := opts.Files[name]
		if !ok && name == "pgb_hba.conf" {
			data = []byte("local    pgbouncer          postgres                              peer\n")
		}
		if err := b.WriteFile(name, data); err != nil {
			return nil, err
		}
	}
	var err error
	for range 5 { // a port taken meanwhile by a parallel test binary: draw another
		b.Port = opts.Port
		if b.Port == 0 {
			if b.Port, err = testenv.FreePort(b.Addr); err != nil {
				return nil, err
			}
		}
		cert, key := c.TLSFiles()
		if err = s.WriteFile(b.INIFile, []byte(b.ini(opts, cert, key)), 0o640); err != nil {
			return nil, err
		}
		if err = b.start(); err == nil {
			return b, nil
		}
		if opts.Port != 0 || !strings.Contains(b.Log(), "Address already in use") {
			break
		}
	}
	return nil, err
}

// ini is Pigsty's pgbouncer.ini (roles/pgsql/templates/pgbouncer.ini) with
// the test's paths and address.
func (b *Bouncer) ini(opts Options, cert, key string) string {
	logConn := "0"
	if opts.LogConnections {
		logConn = "1"
	}
	p := func(name string) string { return filepath.Join(b.Dir, name) }
	return fmt.Sprintf(`[users]
%%include %s

[databases]
%%include %s

[pgbouncer]
pool_mode                   = transaction
listen_addr                 = %s
listen_port                 = %d
auth_type                   = hba
auth_file                   = %s
auth_hba_file               = %s
admin_users                 = postgres, dbuser_dba
stats_users                 = postgres, dbuser_monitor
server_reset_query          = DISCARD ALL
server_reset_query_always   = 0
unix_socket_dir             = %s
pidfile                     = %s
logfile                     = %s
application_name_add_host   = 0
max_client_conn             = 20000
min_pool_size               = 0
default_pool_size           = 50
reserve_pool_size           = 30
reserve_pool_timeout        = 1
server_lifetime             = 600
max_db_connections          = 100
max_user_connections        = 100
server_round_robin          = 0
log_connections             = %s
log_disconnections          = %s
ignore_startup_parameters   = extra_float_digits, application_name, TimeZone, DateStyle, IntervalStyle, search_path
client_tls_sslmode          = %s
client_tls_cert_file        = %s
client_tls_key_file         = %s
client_tls_ca_file          = %s
verbose                     = %d
`, p("useropts.txt"), p("database.txt"), b.Addr, b.Port, p("userlist.txt"), p("pgb_hba.conf"), b.Dir,
		p("pgbouncer.pid"), b.LogFile, logConn, logConn, opts.SSLMode, cert, key, cert, opts.Verbose)
}

// start runs pgbouncer in the foreground and waits until it accepts TCP
// connections.
func (b *Bouncer) start() error {
	p, err := testenv.StartProcess(b.Server.Command(b.Dir, syscall.SIGTERM, Program, b.INIFile))
	if err != nil {
		return fmt.Errorf("start pgbouncer: %w", err)
	}
	b.mu.Lock()
	b.proc = p
	b.mu.Unlock()
	deadline := time.After(startTimeout)
	addr := net.JoinHostPort(b.Addr, strconv.Itoa(b.Port))
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.Done():
			return fmt.Errorf("pgbouncer exited during startup:\n%s", tail(b.Log(), 20))
		case <-deadline:
			_ = b.Stop()
			return fmt.Errorf("pgbouncer does not accept connections on %s after %s", addr, startTimeout)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Stop shuts the pooler down (SIGTERM: immediate shutdown, then SIGKILL)
// and waits until it is gone. Stopping a stopped pooler does nothing.
func (b *Bouncer) Stop() error {
	b.mu.Lock()
	p := b.proc
	b.proc = nil
	b.mu.Unlock()
	if p == nil {
		return nil
	}
	if err := p.Stop(stopTimeout, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop pgbouncer: %w", err)
	}
	return nil
}

// Running reports whether the pooler process is alive.
func (b *Bouncer) Running() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.proc != nil && b.proc.Running()
}

// Path is the path of one of the pooler's files (userlist.txt …).
func (b *Bouncer) Path(name string) string { return filepath.Join(b.Dir, name) }

// WriteFile replaces one of the pooler's files, 0600 and owned by the
// server's OS user, as Pigsty writes them. It does not reload.
func (b *Bouncer) WriteFile(name string, data []byte) error {
	if err := b.Server.WriteFile(b.Path(name), data, 0o600); err != nil {
		return fmt.Errorf("write %s of pgbouncer: %w", name, err)
	}
	return nil
}

// ReadFile returns one of the pooler's files.
func (b *Bouncer) ReadFile(name string) ([]byte, error) { return os.ReadFile(b.Path(name)) }

// Signal sends SIGHUP (what systemctl reload pgbouncer sends: reread the
// configuration) and waits until the pooler has logged the reload.
func (b *Bouncer) Signal(ctx context.Context) error {
	b.mu.Lock()
	p := b.proc
	b.mu.Unlock()
	if p == nil {
		return errors.New("reload pgbouncer: not running")
	}
	before := strings.Count(b.Log(), "got SIGHUP, re-reading config")
	if err := syscall.Kill(p.PID, syscall.SIGHUP); err != nil {
		return fmt.Errorf("reload pgbouncer: %w", err)
	}
	for strings.Count(b.Log(), "got SIGHUP, re-reading config") == before {
		select {
		case <-ctx.Done():
			return fmt.Errorf("reload pgbouncer: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	// PgBouncer logs "got SIGHUP" before it rereads its files, in the same
	// turn of its single-threaded event loop: an answer to a new client
	// after that line means the reread, and the log lines it wrote, are done.
	if err := b.roundTrip(ctx); err != nil {
		return fmt.Errorf("reload pgbouncer: %w", err)
	}
	return nil
}

// roundTrip sends an SSLRequest to the pooler and reads its one-byte
// answer: the cheapest exchange that goes through its event loop.
func (b *Bouncer) roundTrip(ctx context.Context) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(b.Addr, strconv.Itoa(b.Port)))
	if err != nil {
		return err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	// Length 8, then the SSLRequest code 80877103.
	if _, err := conn.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}); err != nil {
		return err
	}
	answer := make([]byte, 1)
	if _, err := io.ReadFull(conn, answer); err != nil {
		return err
	}
	return nil
}

// Log returns the pooler's log so far ("" when there is none yet).
func (b *Bouncer) Log() string {
	data, _ := os.ReadFile(b.LogFile)
	return string(data)
}

// ConnString is a key=value connection string to database db through the
// pooler over TCP, with sslmode (disable, require …).
func (b *Bouncer) ConnString(user, password, db, sslmode string) string {
	esc := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	kv := [][2]string{{"host", b.Addr}, {"port", strconv.Itoa(b.Port)}, {"user", user}, {"password", password},
		{"dbname", db}, {"sslmode", sslmode}, {"connect_timeout", "10"}}
	parts := make([]string, len(kv))
	for i, p := range kv {
		parts[i] = p[0] + "='" + esc.Replace(p[1]) + "'"
	}
	return strings.Join(parts, " ")
}

// Admin opens a session to the admin console (database pgbouncer) over
// TCP as user, with pgx's simple protocol, the only one the console
// speaks.
func (b *Bouncer) Admin(ctx context.Context, user, password, sslmode string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(b.ConnString(user, password, "pgbouncer", sslmode))
	if err != nil {
		return nil, err
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to the admin console of pgbouncer beside %s as %s: %w", b.Server.Name(), user, err)
	}
	return conn, nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
