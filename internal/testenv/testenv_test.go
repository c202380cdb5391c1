package testenv

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgreconciler/pgreconciler/internal/testenv/runas"
	"github.com/pgreconciler/pgreconciler/internal/testenv/sockdir"
)

// TestCluster runs every check against one primary + replica cluster, the
// way a test package shares one cluster and calls Reset between tests.
func TestCluster(t *testing.T) {
	c := NewCluster(t, Options{Name: "pg-harness"})
	ctx := t.Context()

	if c.Primary.Addr != "127.0.0.1" || len(c.Replicas) != 1 || c.Replicas[0].Addr != "127.0.0.2" {
		t.Fatalf("addresses: primary %s, replicas %d", c.Primary.Addr, len(c.Replicas))
	}
	if got := c.Replicas[0].Name(); got != "pg-harness-2" {
		t.Fatalf("replica name = %q", got)
	}

	t.Run("replica streams over SSL", func(t *testing.T) {
		var state string
		var ssl bool
		queryRow(t, c.Primary, `SELECT r.state, s.ssl FROM pg_stat_replication r
			JOIN pg_stat_ssl s USING (pid) WHERE r.application_name = $1`, []any{c.Replicas[0].Name()}, &state, &ssl)
		if state != "streaming" || !ssl {
			t.Fatalf("replication state %q, ssl %t; want streaming over SSL", state, ssl)
		}
		var recovery bool
		queryRow(t, c.Replicas[0], "SELECT pg_is_in_recovery()", nil, &recovery)
		if !recovery {
			t.Fatal("replica is not in recovery")
		}
	})

	t.Run("SSL is on and verifiable", func(t *testing.T) {
		for _, s := range c.Servers() {
			var setting string
			queryRow(t, s, "SHOW ssl", nil, &setting)
			if setting != "on" {
				t.Fatalf("%s: ssl = %s", s.Name(), setting)
			}
			conn, err := pgx.Connect(ctx, s.ConnString(c.MonitorUser, c.MonitorPassword, "postgres")+
				" sslmode=verify-full sslrootcert='"+c.CACertFile+"'")
			if err != nil {
				t.Fatalf("%s: verify-full connection as %s: %v", s.Name(), c.MonitorUser, err)
			}
			var ssl bool
			err = conn.QueryRow(ctx, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl)
			conn.Close(ctx)
			if err != nil || !ssl {
				t.Fatalf("%s: session ssl = %t, %v", s.Name(), ssl, err)
			}
		}
	})

	t.Run("bootstrap passwords work", func(t *testing.T) {
		for user, pw := range map[string]string{c.SuperUser: c.SuperPassword, "postgres": c.PostgresPassword,
			c.MonitorUser: c.MonitorPassword} {
			conn, err := c.Primary.Connect(ctx, user, pw, "postgres")
			if err != nil {
				t.Fatal(err)
			}
			conn.Close(ctx)
		}
		if _, err := c.Primary.Connect(ctx, c.SuperUser, "wrong", "postgres"); err == nil {
			t.Fatal("a wrong password was accepted")
		}
	})

	t.Run("roles replicate", func(t *testing.T) {
		mustExec(t, c.Primary, "CREATE ROLE harness_replicated LOGIN")
		if err := c.WaitReplay(ctx); err != nil {
			t.Fatal(err)
		}
		var n int
		queryRow(t, c.Replicas[0], "SELECT count(*) FROM pg_roles WHERE rolname = 'harness_replicated'", nil, &n)
		if n != 1 {
			t.Fatal("role created on the primary is not on the replica after WaitReplay")
		}
	})

	t.Run("log holds statements", func(t *testing.T) {
		mustExec(t, c.Primary, "SELECT 'harness-log-marker'")
		text, err := c.Primary.Log()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, "harness-log-marker") {
			t.Fatal("statement not found in the server log")
		}
	})

	t.Run("the major asked for", func(t *testing.T) {
		want, err := Major()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range c.Servers() {
			var num int
			queryRow(t, s, "SELECT current_setting('server_version_num')::int", nil, &num)
			if num/10000 != want || c.Major != want || !strings.HasPrefix(c.Version, strconv.Itoa(want)) {
				t.Fatalf("%s runs server_version_num %d; cluster says %d (%s); want PostgreSQL %d", s.Name(), num, c.Major, c.Version, want)
			}
		}
	})

	t.Run("local session over the socket", func(t *testing.T) {
		rows, err := c.Replicas[0].LocalQuery(ctx, "postgres", "SELECT 1; SELECT current_user, NULL, 'x' UNION ALL SELECT 'b', 'c', NULL")
		if err != nil || len(rows) != 2 || strings.Join(rows[0], "|") != "postgres||x" || strings.Join(rows[1], "|") != "b|c|" {
			t.Fatalf("LocalQuery: %q, %v", rows, err)
		}
		if v, err := c.Primary.LocalValue(ctx, "template1", "SELECT current_database()"); err != nil || v != "template1" {
			t.Fatalf("LocalValue: %q, %v", v, err)
		}
		if _, err := c.Primary.LocalValue(ctx, "postgres", "SELECT 1, 2"); err == nil {
			t.Fatal("LocalValue took two columns for one value")
		}
		err = c.Primary.LocalExec(ctx, "postgres", "CREATE ROLE harness_local; SELECT 1/0")
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "22012" {
			t.Fatalf("LocalExec of a failing script: %v, want SQLSTATE 22012", err)
		}
		if v, _ := c.Primary.LocalValue(ctx, "postgres", "SELECT count(*) FROM pg_roles WHERE rolname = 'harness_local'"); v != "0" {
			t.Fatal("the statements of a failed LocalExec script were not rolled back together")
		}
		// Peer authentication, as Pigsty's "local all postgres ident": the
		// session comes from the postgres OS user when the test runs as root.
		if !c.acct.Switched {
			return
		}
		if err := os.WriteFile(c.Primary.HBAPath(), []byte("local all postgres peer\nhost all all 127.0.0.0/8 scram-sha-256\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := c.Primary.Reload(); err != nil {
			t.Fatal(err)
		}
		if v, err := c.Primary.LocalValue(ctx, "postgres", "SELECT current_user"); err != nil || v != "postgres" {
			t.Fatalf("LocalValue under peer authentication: %q, %v", v, err)
		}
		if id := os.Geteuid(); id != 0 {
			t.Fatalf("the test process runs as uid %d after a peer connection", id)
		}
		if err := c.Reset(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("reset", func(t *testing.T) { testReset(t, c) })

	t.Run("reset restarts and rebuilds", func(t *testing.T) {
		mustExec(t, c.Primary, "ALTER SYSTEM SET max_connections = 60")
		if err := c.Primary.Stop(); err != nil {
			t.Fatal(err)
		}
		if err := c.Primary.Start(); err != nil {
			t.Fatal(err)
		}
		mustExec(t, c.Replicas[0], "SELECT pg_promote()")
		if err := c.Reset(ctx); err != nil {
			t.Fatal(err)
		}
		var maxConn string
		queryRow(t, c.Primary, "SHOW max_connections", nil, &maxConn)
		var recovery bool
		queryRow(t, c.Replicas[0], "SELECT pg_is_in_recovery()", nil, &recovery)
		if maxConn != "100" || !recovery {
			t.Fatalf("after Reset: primary max_connections %s, replica in recovery %t", maxConn, recovery)
		}
	})

	t.Run("kill and restart", func(t *testing.T) {
		if err := c.Primary.Kill(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Primary.Admin(ctx); err == nil {
			t.Fatal("killed primary still accepts connections")
		}
		if err := c.Primary.Start(); err != nil {
			t.Fatal(err)
		}
		mustExec(t, c.Primary, "CREATE ROLE harness_after_crash")
		if err := c.Reset(ctx); err != nil {
			t.Fatal(err)
		}
	})

	// Bootstrap and Reset set passwords in quiet sessions.
	t.Run("no bootstrap password in any log", func(t *testing.T) {
		for _, s := range c.Servers() {
			text, err := s.Log()
			if err != nil {
				t.Fatal(err)
			}
			for _, pw := range c.passwords() {
				if strings.Contains(text, pw) {
					t.Fatalf("%s's log contains a bootstrap password", s.Name())
				}
			}
		}
	})
}

// testReset changes roles, databases, memberships, settings and pg_hba.conf,
// stops the replica, and checks Reset undoes all of it.
func testReset(t *testing.T, c *Cluster) {
	ctx := t.Context()
	p, r := c.Primary, c.Replicas[0]
	for _, sql := range []string{
		"CREATE ROLE harness_owner LOGIN PASSWORD 'x'",
		"CREATE DATABASE harness_db OWNER harness_owner",
		"CREATE TABLE harness_t (id int)",
		"ALTER TABLE harness_t OWNER TO harness_owner",
		"GRANT pg_read_all_stats TO dbuser_monitor",
		"REVOKE pg_monitor FROM dbuser_monitor",
		"ALTER ROLE dbuser_monitor VALID UNTIL '2001-01-01' CONNECTION LIMIT 3",
		"ALTER ROLE dbuser_dba SET work_mem = '7MB'",
		"ALTER DATABASE postgres SET work_mem = '9MB'",
		"ALTER SYSTEM SET work_mem = '5MB'",
	} {
		mustExec(t, p, sql)
	}
	if c.Major >= 16 { // memberships by another grantor, and changed options
		for _, sql := range []string{
			"GRANT pg_signal_backend TO dbuser_monitor WITH ADMIN OPTION",
			"GRANT pg_signal_backend TO replicator GRANTED BY dbuser_monitor",
			"GRANT pg_monitor TO dbuser_monitor WITH INHERIT FALSE",
		} {
			mustExec(t, p, sql)
		}
	}
	mustExec(t, r, "ALTER SYSTEM SET work_mem = '6MB'")
	if err := os.WriteFile(r.HBAPath(), []byte("local all all trust\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Connect(ctx, c.SuperUser, c.SuperPassword, "postgres"); err == nil {
		t.Fatal("TCP login still allowed after the replica's pg_hba.conf was cut down")
	}
	mustExec(t, p, "ALTER ROLE dbuser_dba NOSUPERUSER PASSWORD 'changed'")
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}

	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}

	for _, s := range c.Servers() {
		conn, err := s.Connect(ctx, c.SuperUser, c.SuperPassword, "postgres")
		if err != nil {
			t.Fatalf("%s: bootstrap login after Reset: %v", s.Name(), err)
		}
		conn.Close(ctx)
		hba, err := os.ReadFile(s.HBAPath())
		if err != nil || string(hba) != defaultHBA {
			t.Fatalf("%s: pg_hba.conf not restored (%v):\n%s", s.Name(), err, hba)
		}
		var workMem string
		queryRow(t, s, "SELECT setting FROM pg_settings WHERE name = 'work_mem'", nil, &workMem)
		if workMem != "4096" {
			t.Fatalf("%s: work_mem = %s kB after Reset", s.Name(), workMem)
		}
	}
	checks := []struct{ sql, want string }{
		{"SELECT count(*)::text FROM pg_roles WHERE rolname LIKE 'harness%'", "0"},
		{"SELECT count(*)::text FROM pg_database WHERE datname = 'harness_db'", "0"},
		{"SELECT count(*)::text FROM pg_class WHERE relname = 'harness_t'", "0"},
		{"SELECT count(*)::text FROM pg_db_role_setting", "0"},
		{"SELECT rolsuper::text FROM pg_roles WHERE rolname = 'dbuser_dba'", "true"},
		{`SELECT string_agg(g.rolname, ',') FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
			WHERE m.member = 'dbuser_monitor'::regrole`, "pg_monitor"},
		{"SELECT coalesce(rolvaliduntil::text, 'null') || ' ' || rolconnlimit FROM pg_roles WHERE rolname = 'dbuser_monitor'", "null -1"},
		{`SELECT count(*)::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
			WHERE g.rolname = 'pg_signal_backend'`, "0"},
	}
	if c.Major >= 16 {
		checks = append(checks, struct{ sql, want string }{`SELECT string_agg(concat_ws(' ', g.rolname,
			m.admin_option, m.inherit_option, m.set_option, pg_get_userbyid(m.grantor)), ',')
			FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
			WHERE m.member = 'dbuser_monitor'::regrole`, "pg_monitor f t t postgres"})
	}
	for _, s := range c.Servers() { // the replica has replayed it all
		for _, ch := range checks {
			var got string
			queryRow(t, s, ch.sql, nil, &got)
			if got != ch.want {
				t.Errorf("%s: %s = %q, want %q", s.Name(), ch.sql, got, ch.want)
			}
		}
	}
}

// TestDeepTMPDIR: a TMPDIR too deep for unix sockets (a checkout under a
// long home directory) still gives a working cluster, sockets and all; a
// TMPDIR the server user cannot reach is refused with the reason.
func TestDeepTMPDIR(t *testing.T) {
	t.Setenv("TMPDIR", sockdir.DeepTempDir(t))
	c := NewCluster(t, Options{Name: "pg-deep", Replicas: -1})
	if err := sockdir.Check(filepath.Join(c.Primary.SocketDir, ".s.PGSQL.65535")); err != nil {
		t.Error(err)
	}
	if v, err := c.Primary.LocalValue(t.Context(), "postgres", "SELECT 1"); err != nil || v != "1" {
		t.Fatalf("session over the unix socket: %v %s", err, v)
	}

	acct, err := runas.Lookup()
	if err != nil {
		t.Fatal(err)
	}
	if !acct.Switched {
		return // the server runs as the test's user: it reaches any TMPDIR the test can
	}
	private, err := os.MkdirTemp("/tmp", "p") // mode 0700, owned by root; short, so it is used
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(private)
	t.Setenv("TMPDIR", private)
	if c, err := StartCluster(Options{Name: "pg-p", Replicas: -1}); err == nil {
		c.Close()
		t.Fatal("a cluster started in a TMPDIR postgres cannot reach")
	} else if !strings.Contains(err.Error(), "postgres cannot reach") {
		t.Errorf("error = %v, want it to say postgres cannot reach the directory", err)
	}
	if left, _ := filepath.Glob(filepath.Join(private, staleDirPrefix+"*")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestConnString(t *testing.T) {
	s := &Server{Addr: "127.0.0.3", Port: 5433}
	got := s.ConnString("it's", `a\b c`, "db")
	want := `host='127.0.0.3' port='5433' user='it\'s' password='a\\b c' dbname='db' sslmode='require' connect_timeout='10'`
	if got != want {
		t.Fatalf("ConnString:\n got %s\nwant %s", got, want)
	}
	cfg, err := pgx.ParseConfig(got)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != "it's" || cfg.Password != `a\b c` || cfg.Port != 5433 {
		t.Fatalf("parsed back: user %q password %q port %d", cfg.User, cfg.Password, cfg.Port)
	}
}

func TestConfValue(t *testing.T) {
	for in, want := range map[string]string{"on": "'on'", "it's": "'it''s'", `C:\x`: `'C:\\x'`} {
		if got := confValue(in); got != want {
			t.Errorf("confValue(%q) = %s, want %s", in, got, want)
		}
	}
	if got := passfileLine("u:1", `p\w`); got != "*:*:*:u\\:1:p\\\\w\n" {
		t.Errorf("passfileLine = %q", got)
	}
}

func mustExec(t *testing.T, s *Server, sql string) {
	t.Helper()
	if err := s.Exec(t.Context(), sql); err != nil {
		t.Fatal(err)
	}
}

func queryRow(t *testing.T, s *Server, sql string, args []any, dest ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	conn, err := s.Admin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(ctx, sql, args...).Scan(dest...); err != nil {
		t.Fatalf("%s: %s: %v", s.Name(), sql, err)
	}
}

func TestSkipped(t *testing.T) {
	for rel, want := range map[string]bool{
		"postmaster.pid":                   true,
		"backup_label":                     true,
		"standby.signal":                   true,
		"global/pg_internal.init":          true,
		"base/1/pgsql_tmp":                 true,
		"base/5/pgsql_tmp123.4":            true,
		"pg_hba.conf.testenv-tmp":          true,
		"PG_VERSION":                       false,
		"global/pg_control":                false,
		"base/1/1259":                      false,
		"postgresql.auto.conf":             false,
		"base/1/postmaster.pid":            false, // only at the top
		"pg_logical/replorigin_checkpoint": false,
	} {
		if got := skipped(rel, filepath.Base(rel)); got != want {
			t.Errorf("skipped(%q) = %t, want %t", rel, got, want)
		}
	}
}

// TestFindBinaries: PG_BINDIR must hold the major asked for, and a major
// that is not installed is an error naming where it was looked for and
// what installs it.
func TestFindBinaries(t *testing.T) {
	major, err := Major()
	if err != nil {
		t.Fatal(err)
	}
	b, err := findBinaries(major)
	if err != nil {
		t.Fatal(err)
	}
	other := 13
	if major == 13 {
		other = 14
	}
	t.Setenv("PG_BINDIR", b.dir)
	if _, err := findBinaries(other); err == nil || !strings.Contains(err.Error(), "not "+strconv.Itoa(other)) {
		t.Errorf("PG_BINDIR with PostgreSQL %s used for %d: %v", b.version, other, err)
	}
	t.Setenv("PG_BINDIR", "")
	t.Setenv("PGRECONCILER_PG_CACHE", t.TempDir())
	if _, err := findBinaries(other); err == nil {
		t.Logf("PostgreSQL %d is installed in /usr/lib/postgresql", other)
	} else if !strings.Contains(err.Error(), "make deps") {
		t.Errorf("error does not say what installs it: %v", err)
	}
	t.Setenv(VersionEnv, "12")
	if _, err := Major(); err == nil || !strings.Contains(err.Error(), "13, 14, 15, 16, 17, 18") {
		t.Errorf("%s=12: %v", VersionEnv, err)
	}
}
