package spec

import (
	"strings"
	"testing"
)

// TestPGVersion: pg_version is read per host with Ansible's precedence
// (0 when not declared: the plan compares only a declared one with the
// server's major), and a pg_version that is not a major number is refused.
func TestPGVersion(t *testing.T) {
	d := mustLoadYAML(t, `
all:
  children:
    pg-a:
      hosts:
        10.0.0.1: {pg_seq: 1, pg_role: primary}
        10.0.0.2: {pg_seq: 2, pg_role: replica, pg_version: 17}
      vars: {pg_cluster: pg-a, pg_version: 18}
    pg-b:
      hosts:
        10.0.1.1: {pg_seq: 1, pg_role: primary}
      vars: {pg_cluster: pg-b}
`)
	a, b := d.Cluster("pg-a"), d.Cluster("pg-b")
	if got := [3]int{a.Instance("10.0.0.1").PGVersion, a.Instance("10.0.0.2").PGVersion, b.Instance("10.0.1.1").PGVersion}; got != [3]int{18, 17, 0} {
		t.Errorf("pg_version: %v, want [18 17 0]", got)
	}
	for _, bad := range []string{`"18"`, `180`} {
		res := loadYAML(t, `
all:
  children:
    pg-a:
      hosts: {10.0.0.1: {pg_seq: 1, pg_role: primary}}
      vars: {pg_cluster: pg-a, pg_version: `+bad+`}
`)
		if err := res.Err(); err == nil || !strings.Contains(err.Error(), "pg_version") {
			t.Errorf("pg_version %s: %v", bad, err)
		}
	}
}
