package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
	"github.com/pgreconciler/pgreconciler/internal/testenv/bouncer"
)

// `plan --pgbouncer` shows the PgBouncer beside the primary as drift,
// `apply --pgbouncer` writes it, and the next plan is clean; without the
// flag the pooler is left alone.
func TestPgBouncerFlag(t *testing.T) {
	c := testenv.NewCluster(t, testenv.Options{Name: "pg-cli", Replicas: -1, BaseIP: 84})
	verifier := c.Primary.MustLocalValue(t, "postgres", "SELECT rolpassword FROM pg_authid WHERE rolname = '"+c.SuperUser+"'")
	b := bouncer.Start(t, c, c.Primary, bouncer.Options{Files: map[string][]byte{
		"userlist.txt": []byte(fmt.Sprintf("%q %q\n", c.SuperUser, verifier)),
		"pgb_hba.conf": []byte("host all all 127.0.0.0/8 scram-sha-256\n")}})
	dir := t.TempDir()
	spec := fmt.Sprintf(`all:
  vars: {admin_ip: 127.0.0.1, node_firewall_intranet: [127.0.0.0/8], pg_admin_password: %q}
  children:
    pg-cli:
      hosts:
        %s: {pg_seq: 1, pg_role: primary, pgbouncer_port: %d, pg_localhost: %s}
      vars: {pg_cluster: pg-cli, pg_port: %d}
`, c.SuperPassword, c.Primary.Addr, b.Port, c.Primary.Addr, c.Port)
	if err := os.WriteFile(filepath.Join(dir, "fleet.yml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	c.ReconcilerEnv(t)
	cli := func(args ...string) (string, int) {
		var stdout, stderr bytes.Buffer
		code := run(&env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}, append(args, "--repo", dir))
		return stdout.String() + stderr.String(), code
	}
	if out, _ := cli("plan"); strings.Contains(out, "pgbouncer") {
		t.Errorf("plan without --pgbouncer shows the pooler:\n%s", out)
	}
	out, code := cli("plan", "--pgbouncer", "--detailed-exitcode")
	if code != exitDrift || !strings.Contains(out, "~ pgbouncer pgb_hba.conf") || !strings.Contains(out, "~ pgbouncer userlist.txt") {
		t.Fatalf("plan --pgbouncer: exit %d, want %d and the pooler's files:\n%s", code, exitDrift, out)
	}
	if out, code := cli("apply", "--pgbouncer"); code != exitOK || !strings.Contains(out, "applied  pg-cli-1: ~ pgbouncer pgb_hba.conf") {
		t.Fatalf("apply --pgbouncer: exit %d:\n%s", code, out)
	}
	if out, code := cli("plan", "--pgbouncer", "--detailed-exitcode"); code != exitOK {
		t.Errorf("plan --pgbouncer after the apply: exit %d, want %d:\n%s", code, exitOK, out)
	}
	if strings.Contains(b.Log(), "SCRAM-SHA-256$") {
		t.Error("the pooler's log holds a verifier")
	}
}
