package testenv

import (
	"fmt"
	"strings"
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
