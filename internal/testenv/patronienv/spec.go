package patronienv

import (
	"fmt"
	"strings"
)

// PigstySpec is a CUE spec of the cluster as a Pigsty inventory installed
// it: the first member primary, the others replicas (whoever leads now),
// the REST API's port and credentials as patroni_port, patroni_username
// and patroni_password, patroni_ssl_enabled when the cluster has SSL, and
// vars added to the cluster's vars (a vars that sets patroni_password
// replaces the cluster's).
func (c *Cluster) PigstySpec(vars string) string {
	var hosts strings.Builder
	for _, m := range c.members {
		role := "replica"
		if m.Seq == 1 {
			role = "primary"
		}
		fmt.Fprintf(&hosts, "\t\t%q: {pg_seq: %d, pg_role: %q}\n", m.Addr, m.Seq, role)
	}
	password := fmt.Sprintf("patroni_password: %q", c.APIPassword)
	if strings.Contains(vars, "patroni_password") {
		password = ""
	}
	return fmt.Sprintf(`package fleet

all: vars: {admin_ip: %q, node_firewall_intranet: ["127.0.0.0/8"]}
all: children: infra: hosts: %q: infra_seq: 1
all: children: %q: {
	hosts: {
%s	}
	vars: {
		pg_cluster: %q
		pg_port: %d
		patroni_port: %d
		patroni_ssl_enabled: %t
		patroni_username: %q
		%s
		%s
	}
}
`, AdminIP, AdminIP, c.Name, hosts.String(), c.Name, c.Port, c.APIPort, c.opts.SSL, c.APIUser, password, vars)
}
