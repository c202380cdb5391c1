package audit

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// cluster is the primary + replica the tests of the package share; each
// test starts with fresh.
var cluster *testenv.Cluster

func TestMain(m *testing.M) {
	// PostgreSQL 15 from Debian for now: its build has pgaudit, pg_checksums
	// and LDAP, which the checks' both-ways cases need; the other majors
	// come with issue #15's second part.
	c, err := testenv.StartCluster(testenv.Options{Name: "pg-audit", BaseIP: 121})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cluster = c
	code := m.Run()
	if err := c.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	if err := closePatroni(); err != nil {
		fmt.Fprintln(os.Stderr, "close Patroni cluster:", err)
		code = 1
	}
	os.Exit(code)
}

// fresh returns the shared cluster in its bootstrap state, without a
// change log (Reset keeps what was created inside the postgres database).
func fresh(tb testing.TB) *testenv.Cluster {
	tb.Helper()
	if err := cluster.Reset(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	if err := cluster.Primary.Exec(tb.Context(), "DROP SCHEMA IF EXISTS pgreconciler CASCADE"); err != nil {
		tb.Fatal(err)
	}
	return cluster
}

func ptr[T any](v T) *T { return &v }

// specOf is the spec of a test cluster, the way a Pigsty inventory would
// declare it: the default tiers and system users, and HBA rules that keep
// the harness (dbuser_dba over SSL) and the replicas (replicator) in.
func specOf(c *testenv.Cluster) *model.Cluster {
	cl := &model.Cluster{Name: c.Name, Globals: model.Globals{
		AdminIP: "10.10.10.10", Intranet: []string{"10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12"},
		DBSU: "postgres", ReplicationUser: "replicator", AdminUser: c.SuperUser, MonitorUser: c.MonitorUser,
		PasswordEncryption: "scram-sha-256",
	}}
	member := func(roles ...string) []model.Membership {
		var ms []model.Membership
		for _, r := range roles {
			ms = append(ms, model.Membership{Role: r})
		}
		return ms
	}
	cl.Roles = []*model.Role{
		{Name: "dbrole_readonly", Login: ptr(false), System: true},
		{Name: "dbrole_offline", Login: ptr(false), System: true},
		{Name: "dbrole_readwrite", Login: ptr(false), MemberOf: member("dbrole_readonly"), System: true},
		{Name: "dbrole_admin", Login: ptr(false), MemberOf: member("pg_monitor", "dbrole_readwrite"), System: true},
		{Name: "postgres", Superuser: ptr(true), System: true},
		{Name: "replicator", Replication: ptr(true), MemberOf: member("pg_monitor", "dbrole_readonly"), System: true},
		{Name: c.SuperUser, Superuser: ptr(true), MemberOf: member("dbrole_admin"), System: true},
		{Name: c.MonitorUser, MemberOf: member("pg_monitor", "dbrole_readonly"), System: true},
	}
	rules := []model.HBARule{
		{User: "${dbsu}", DB: "all", Addr: "local", Auth: "ident", Title: "dbsu local ident", Default: true},
		{User: "${repl}", DB: "replication", Addr: "127.0.0.0/8", Auth: "ssl", Title: "replicator over ssl", Default: true},
		{User: "${monitor}", DB: "all", Addr: "localhost", Auth: "pwd", Title: "monitor local password", Default: true},
		{User: "${admin}", DB: "all", Addr: "world", Auth: "ssl", Title: "admin global ssl", Default: true},
		{User: "+dbrole_readonly", DB: "all", Addr: "intra", Auth: "pwd", Title: "readonly intranet", Default: true},
	}
	for _, s := range c.Servers() {
		role := model.RoleReplica
		if s.Primary {
			role = model.RolePrimary
		}
		cl.Instances = append(cl.Instances, &model.Instance{Cluster: c.Name, Seq: s.Seq, IP: s.Addr, Role: role,
			Port: s.Port, HBA: append([]model.HBARule(nil), rules...)})
	}
	return cl
}

// collector reads as the harness's superuser (libpq's sslmode prefer, so
// a server with ssl off is read too), and checks certificates against
// the cluster's CA.
func collector(tb testing.TB, c *testenv.Cluster, user, password string) *Collector {
	tb.Helper()
	pem, err := os.ReadFile(c.CACertFile)
	if err != nil {
		tb.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	d := dbconn.New(dbconn.Settings{User: user, Password: model.NewSecret(password), SSLMode: "prefer",
		Passfile: filepath.Join(tb.TempDir(), "none"), ConnectTimeout: 10 * time.Second}, nil)
	return &Collector{Connect: d.Connect, Roots: roots, RootsName: "the test CA"}
}

func superCollector(tb testing.TB, c *testenv.Cluster) *Collector {
	return collector(tb, c, c.SuperUser, c.SuperPassword)
}

// judge collects the evidence of instance seq (1 = primary) and judges
// the check called id.
func judge(tb testing.TB, col *Collector, spec *model.Cluster, seq int, id string) (Verdict, *Evidence) {
	tb.Helper()
	in := spec.Instances[seq-1]
	ev := col.Collect(tb.Context(), spec, in)
	for _, c := range Checks() {
		if c.ID == id {
			return c.Judge(&Subject{Cluster: spec, Instance: in, Evidence: ev}), ev
		}
	}
	tb.Fatalf("no check %s", id)
	return Verdict{}, nil
}

// exec runs statements one by one as superuser on s.
func execSQL(tb testing.TB, s *testenv.Server, stmts ...string) {
	tb.Helper()
	conn, err := s.Admin(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, sql := range stmts {
		if _, err := conn.Exec(tb.Context(), sql); err != nil {
			tb.Fatalf("%s: %v", sql, err)
		}
	}
}

// alterSystem sets parameters with ALTER SYSTEM and reloads.
func alterSystem(tb testing.TB, s *testenv.Server, kv ...string) {
	tb.Helper()
	var stmts []string
	quote := func(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" }
	for i := 0; i < len(kv); i += 2 {
		value := quote(kv[i+1])
		if kv[i] == "shared_preload_libraries" { // a list: one literal per element
			var elems []string
			for _, e := range strings.Split(kv[i+1], ",") {
				elems = append(elems, quote(strings.TrimSpace(e)))
			}
			value = strings.Join(elems, ", ")
		}
		stmts = append(stmts, fmt.Sprintf("ALTER SYSTEM SET %s = %s", kv[i], value))
	}
	execSQL(tb, s, stmts...)
	reload(tb, s)
}

func reload(tb testing.TB, s *testenv.Server) {
	tb.Helper()
	if err := s.Reload(); err != nil {
		tb.Fatal(err)
	}
}

func restart(tb testing.TB, s *testenv.Server) {
	tb.Helper()
	if err := s.Stop(); err != nil {
		tb.Fatal(err)
	}
	if err := s.Start(); err != nil {
		tb.Fatal(err)
	}
}

// writeServerFile writes a file the server's OS user owns (mode 0600).
func writeServerFile(tb testing.TB, s *testenv.Server, path string, data []byte) {
	tb.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	giveToServer(tb, s, path)
}

// giveToServer makes the owner of the server's data directory own path.
func giveToServer(tb testing.TB, s *testenv.Server, path string) {
	tb.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(s.DataDir, &st); err != nil {
		tb.Fatal(err)
	}
	if err := os.Chown(path, int(st.Uid), int(st.Gid)); err != nil {
		tb.Fatal(err)
	}
}

// mkServerDir makes a directory the server's OS user owns.
func mkServerDir(tb testing.TB, s *testenv.Server, path string) {
	tb.Helper()
	if err := os.MkdirAll(path, 0o700); err != nil {
		tb.Fatal(err)
	}
	giveToServer(tb, s, path)
}

// setHBA replaces the server's pg_hba.conf and reloads.
func setHBA(tb testing.TB, s *testenv.Server, text string) {
	tb.Helper()
	writeServerFile(tb, s, s.HBAPath(), []byte(text))
	reload(tb, s)
}

// waitStreaming waits until every replica streams from the primary again
// (after a restart of the primary a replica reconnects within
// wal_retrieve_retry_interval).
func waitStreaming(tb testing.TB, c *testenv.Cluster) {
	tb.Helper()
	conn, err := c.Primary.Admin(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(context.Background())
	deadline := time.Now().Add(90 * time.Second)
	for {
		var n int
		if err := conn.QueryRow(tb.Context(), "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'").Scan(&n); err != nil {
			tb.Fatal(err)
		}
		if n == len(c.Replicas) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d replicas stream", n, len(c.Replicas))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// installed reports whether the server's build has library lib (a
// shared_preload_libraries name), looked up as the server would: in its
// pkglibdir (the pg_config view), with pg_stat_file.
func installed(tb testing.TB, s *testenv.Server, lib string) bool {
	tb.Helper()
	conn, err := s.Admin(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(context.Background())
	var found bool
	err = conn.QueryRow(tb.Context(), `SELECT (pg_catalog.pg_stat_file(setting || '/' || $1 || '.so', true)).size IS NOT NULL
		FROM pg_catalog.pg_config WHERE name = 'PKGLIBDIR'`, lib).Scan(&found)
	if err != nil {
		tb.Fatal(err)
	}
	return found
}
