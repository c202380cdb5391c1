package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// A connection error is printed once — by plan and apply, in every
// format — and says when no password was supplied, against a real server.
func TestConnectErrorOnce(t *testing.T) {
	c := testenv.NewCluster(t, testenv.Options{Name: "pg-cli", Replicas: -1, BaseIP: 81})
	repo := writeSpec(t, c.Primary.Addr, c.Port)
	closed := writeSpec(t, "127.0.0.1", closedPort(t))
	t.Setenv("PGUSER", c.SuperUser)
	t.Setenv("PGSSLMODE", "verify-full")
	t.Setenv("PGSSLROOTCERT", c.CACertFile)
	t.Setenv("PGPASSFILE", filepath.Join(t.TempDir(), "none")) // not ~/.pgpass
	hint := "no password was supplied"
	for _, tc := range []struct {
		name, password, repo, sslmode string
		args                          []string
		once                          string // printed exactly once
		hint                          bool
	}{
		{name: "plan, no password", repo: repo, args: []string{"plan"}, once: "connect to pg-cli-1", hint: true},
		{name: "plan json, no password", repo: repo, args: []string{"plan", "--format", "json"}, once: "connect to pg-cli-1", hint: true},
		{name: "apply, no password", repo: repo, args: []string{"apply"}, once: "connect to pg-cli-1", hint: true},
		{name: "apply dry run, no password", repo: repo, args: []string{"apply", "--dry-run"}, once: "connect to pg-cli-1", hint: true},
		{name: "plan, wrong password", password: "wrong", repo: repo, args: []string{"plan"}, once: "password authentication failed"},
		// sslmode=prefer tries twice, with and without TLS.
		{name: "plan, refused, prefer", repo: closed, sslmode: "prefer", args: []string{"plan"}, once: "connection refused"},
		{name: "apply, refused, prefer", repo: closed, sslmode: "prefer", args: []string{"apply"}, once: "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PGPASSWORD", tc.password) // empty: unset, for libpq and pgx
			if tc.sslmode != "" {
				t.Setenv("PGSSLMODE", tc.sslmode)
			}
			var stdout, stderr bytes.Buffer
			code := run(&env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}, append(tc.args, "--repo", tc.repo))
			all := stdout.String() + stderr.String()
			if code != exitFail {
				t.Errorf("exit %d, want %d", code, exitFail)
			}
			if n := strings.Count(all, tc.once); n != 1 {
				t.Errorf("%q printed %d times, want once:\n%s", tc.once, n, all)
			}
			if got := strings.Contains(all, hint); got != tc.hint {
				t.Errorf("hint %q shown: %v, want %v:\n%s", hint, got, tc.hint, all)
			}
			if strings.Contains(all, c.SuperPassword) {
				t.Error("the password is in the output")
			}
		})
	}
}

func writeSpec(t *testing.T, addr string, port int) string {
	t.Helper()
	dir := t.TempDir()
	spec := fmt.Sprintf(`all:
  vars: {admin_ip: 127.0.0.1, node_firewall_intranet: [127.0.0.0/8]}
  children:
    pg-cli:
      hosts:
        %s: {pg_seq: 1, pg_role: primary}
      vars: {pg_cluster: pg-cli, pg_port: %d}
`, addr, port)
	if err := os.WriteFile(filepath.Join(dir, "fleet.yml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}
