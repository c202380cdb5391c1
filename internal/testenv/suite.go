package testenv

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// PigstySpec is a CUE spec repository's one file declaring the cluster as
// a Pigsty inventory does: loopback is the intranet, so Pigsty's default
// HBA rules let the replicas stream and the reconciler log in; vars are
// spliced into the cluster's vars.
func (c *Cluster) PigstySpec(vars string) string {
	var hosts strings.Builder
	for _, s := range c.Servers() {
		role := "replica"
		if s.Primary {
			role = "primary"
		}
		fmt.Fprintf(&hosts, "\t\t%q: {pg_seq: %d, pg_role: %q}\n", s.Addr, s.Seq, role)
	}
	return fmt.Sprintf(`package fleet

all: vars: {admin_ip: "127.0.0.1", node_firewall_intranet: ["127.0.0.0/8"]}
all: children: infra: hosts: "127.0.0.1": infra_seq: 1
all: children: %q: {
	hosts: {
%s	}
	vars: {
		pg_cluster: %q
		pg_port: %d
		%s
	}
}
`, c.Name, hosts.String(), c.Name, c.Port, vars)
}

// ReconcilerEnv points the libpq environment of the test (and of the
// processes it starts) at the cluster as the reconciler's login:
// dbuser_dba over SSL, as Pigsty's "admin @ everywhere with ssl" rule
// allows.
func (c *Cluster) ReconcilerEnv(t testing.TB) {
	t.Setenv("PGUSER", c.SuperUser)
	t.Setenv("PGPASSWORD", c.SuperPassword)
	t.Setenv("PGSSLMODE", "verify-full")
	t.Setenv("PGSSLROOTCERT", c.CACertFile)
}

// Main is a package's TestMain around one cluster shared by its tests: the
// cluster is started first (one that cannot start fails the run), handed
// to set, and closed after the tests.
func Main(m *testing.M, opts Options, set func(*Cluster)) {
	c, err := StartCluster(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start test cluster:", err)
		os.Exit(1)
	}
	set(c)
	code := m.Run()
	if err := c.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// ResetForReconciler is Reset, then the reconciler's change log dropped
// (a bootstrap role's schema, which Reset keeps) and the libpq environment
// pointed at the cluster as the reconciler's login (ReconcilerEnv): a
// cluster the reconciler has never seen.
func (c *Cluster) ResetForReconciler(t testing.TB) {
	t.Helper()
	if err := c.Reset(t.Context()); err != nil {
		t.Fatal(err)
	}
	c.Primary.MustLocal(t, "postgres", "DROP SCHEMA IF EXISTS pgreconciler CASCADE")
	c.ReconcilerEnv(t)
}

// MustLocal runs SQL (one or several statements) in database db as the
// dbsu over the server's socket (LocalExec) and fails the test when it
// fails.
func (s *Server) MustLocal(t testing.TB, db, sql string) {
	t.Helper()
	if err := s.LocalExec(context.Background(), db, sql); err != nil {
		t.Fatalf("%q: %v", sql, err)
	}
}

// MustLocalValue runs a query returning one value in database db as the
// dbsu over the server's socket (LocalValue) and fails the test when it
// fails.
func (s *Server) MustLocalValue(t testing.TB, db, sql string) string {
	t.Helper()
	v, err := s.LocalValue(context.Background(), db, sql)
	if err != nil {
		t.Fatalf("%q: %v", sql, err)
	}
	return v
}

// HoldAdvisoryLock takes a session-level advisory lock on the server from
// an admin session of its own, as another reconciler would hold it, and
// returns the function that releases it (also run when the test ends).
func (s *Server) HoldAdvisoryLock(t testing.TB, key int64) (release func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := s.Admin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		conn.Close(ctx)
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { conn.Close(ctx) }) }
	t.Cleanup(release)
	return release
}
