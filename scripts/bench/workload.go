package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// size is one workload: groups group roles and logins login roles, each
// login in five groups; every role declares every attribute a Pigsty
// pg_users entry can set on a role (and ldap2pg can express): login,
// superuser, createdb, createrole, inherit, replication, bypassrls,
// connection limit, a comment and its groups. Not the expiry: ldap2pg 6
// cannot set VALID UNTIL ("unknown key"), and both tools must reach the
// same end state; nor a password or settings, which ldap2pg's static
// rules do not manage either.
type size struct {
	Name           string
	Groups, Logins int
}

func (s size) roles() int       { return s.Groups + s.Logins }
func (s size) memberships() int { return 5 * s.Logins }

// role is one declared role, as both tools are told it.
type role struct {
	name                                                                 string
	login, superuser, createdb, createrole, inherit, replication, bypass bool
	connlimit                                                            int
	comment                                                              string
	parents                                                              []string
}

func (s size) each(f func(r role)) {
	for g := 0; g < s.Groups; g++ {
		f(role{name: fmt.Sprintf("grp_%04d", g), inherit: true, connlimit: -1, comment: fmt.Sprintf("group %d", g)})
	}
	for u := 0; u < s.Logins; u++ {
		r := role{name: fmt.Sprintf("usr_%05d", u), login: true, inherit: true, connlimit: 10,
			createdb: u%10 == 1, createrole: u%50 == 2, replication: u%100 == 3, bypass: u%100 == 4,
			comment: fmt.Sprintf("user %d", u)}
		for k := 0; k < 5; k++ {
			r.parents = append(r.parents, fmt.Sprintf("grp_%04d", (u+k*17)%s.Groups))
		}
		f(r)
	}
}

// pigstyVars are the cluster vars both specs share: only pg_users is
// managed (no default roles, privileges or extra HBA rules, so that the
// end state is the one ldap2pg reaches).
func yamlUser(r role) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{name: %s, login: %t, superuser: false, createdb: %t, createrole: %t, inherit: %t, replication: %t, bypassrls: %t, connlimit: %d, comment: '%s'",
		r.name, r.login, r.createdb, r.createrole, r.inherit, r.replication, r.bypass, r.connlimit, r.comment)
	if len(r.parents) > 0 {
		fmt.Fprintf(&b, ", roles: [%s]", strings.Join(r.parents, ", "))
	}
	b.WriteString("}")
	return b.String()
}

func cueUser(r role) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{name: %q, login: %t, superuser: false, createdb: %t, createrole: %t, inherit: %t, replication: %t, bypassrls: %t, connlimit: %d, comment: %q",
		r.name, r.login, r.createdb, r.createrole, r.inherit, r.replication, r.bypass, r.connlimit, r.comment)
	if len(r.parents) > 0 {
		q := make([]string, len(r.parents))
		for i, p := range r.parents {
			q[i] = fmt.Sprintf("%q", p)
		}
		fmt.Fprintf(&b, ", roles: [%s]", strings.Join(q, ", "))
	}
	b.WriteString("}")
	return b.String()
}

// target is where the specs point: the benchmark's one server.
type target struct {
	Cluster, Addr string
	Port          int
	Protected     []string // roles ldap2pg must leave alone (the harness's)
}

// writeYAML writes a Pigsty inventory (pigsty.yml) declaring s.
func writeYAML(dir string, t target, s size) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "all:\n  vars: {admin_ip: 127.0.0.1, node_firewall_intranet: [127.0.0.0/8]}\n  children:\n    infra: {hosts: {127.0.0.1: {infra_seq: 1}}}\n")
	fmt.Fprintf(&b, "    %s:\n      hosts:\n        %s: {pg_seq: 1, pg_role: primary}\n", t.Cluster, t.Addr)
	fmt.Fprintf(&b, "      vars:\n        pg_cluster: %s\n        pg_port: %d\n        pg_default_roles: []\n        pg_default_privileges: []\n        pg_users:\n", t.Cluster, t.Port)
	s.each(func(r role) { fmt.Fprintf(&b, "          - %s\n", yamlUser(r)) })
	return writeFile(filepath.Join(dir, "yaml", "pigsty.yml"), b.String())
}

// writeCUE writes the same inventory as one CUE file.
func writeCUE(dir string, t target, s size) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "package fleet\n\nall: vars: {admin_ip: \"127.0.0.1\", node_firewall_intranet: [\"127.0.0.0/8\"]}\nall: children: infra: hosts: \"127.0.0.1\": infra_seq: 1\n")
	fmt.Fprintf(&b, "all: children: %q: {\n\thosts: %q: {pg_seq: 1, pg_role: \"primary\"}\n", t.Cluster, t.Addr)
	fmt.Fprintf(&b, "\tvars: {\n\t\tpg_cluster: %q\n\t\tpg_port: %d\n\t\tpg_default_roles: []\n\t\tpg_default_privileges: []\n\t\tpg_users: [\n", t.Cluster, t.Port)
	s.each(func(r role) { fmt.Fprintf(&b, "\t\t\t%s,\n", cueUser(r)) })
	b.WriteString("\t\t]\n\t}\n}\n")
	return writeFile(filepath.Join(dir, "cue", "fleet.cue"), b.String())
}

// writeLdap2pg writes ldap2pg's configuration for the same roles: one
// static rule, no LDAP, no privileges.
func writeLdap2pg(dir string, t target, s size) (string, error) {
	var b strings.Builder
	b.WriteString("version: 6\npostgres:\n  roles_blacklist_query: [postgres, pg_*")
	for _, p := range t.Protected {
		fmt.Fprintf(&b, ", %s", p)
	}
	b.WriteString("]\nrules:\n- roles:\n")
	yn := func(v bool) string {
		if v {
			return "yes"
		}
		return "no"
	}
	s.each(func(r role) {
		fmt.Fprintf(&b, "  - name: %s\n    comment: '%s'\n    options: {LOGIN: %s, SUPERUSER: no, CREATEDB: %s, CREATEROLE: %s, INHERIT: %s, REPLICATION: %s, BYPASSRLS: %s, CONNECTION LIMIT: %d}\n",
			r.name, r.comment, yn(r.login), yn(r.createdb), yn(r.createrole), yn(r.inherit), yn(r.replication), yn(r.bypass), r.connlimit)
		if len(r.parents) > 0 {
			fmt.Fprintf(&b, "    parents: [%s]\n", strings.Join(r.parents, ", "))
		}
	})
	return writeFile(filepath.Join(dir, "ldap2pg.yml"), b.String())
}

// driftSQL makes 100 drifts on a converged server: 50 connection limits,
// 50 missing memberships.
func driftSQL(s size) string {
	var b strings.Builder
	for u := 0; u < 50; u++ {
		fmt.Fprintf(&b, "ALTER ROLE usr_%05d CONNECTION LIMIT 3;\n", (u*7)%s.Logins)
		v := (s.Logins/2 + u) % s.Logins
		fmt.Fprintf(&b, "REVOKE grp_%04d FROM usr_%05d;\n", v%s.Groups, v)
	}
	return b.String()
}

// dropSQL removes every benchmark role: back to empty, in transactions of
// 1,000 roles (each DROP ROLE holds a lock on its role until its
// transaction ends, and 50,000 exhaust the server's lock table).
func dropSQL(s size) string {
	var names []string
	for u := 0; u < s.Logins; u++ {
		names = append(names, fmt.Sprintf("usr_%05d", u))
	}
	for g := 0; g < s.Groups; g++ {
		names = append(names, fmt.Sprintf("grp_%04d", g))
	}
	var b strings.Builder
	for k, n := range names {
		if k%1000 == 0 {
			b.WriteString("BEGIN;\n")
		}
		fmt.Fprintf(&b, "DROP ROLE IF EXISTS %s;\n", n)
		if k%1000 == 999 || k == len(names)-1 {
			b.WriteString("COMMIT;\n")
		}
	}
	return b.String()
}

func writeFile(p, content string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	return filepath.Dir(p), os.WriteFile(p, []byte(content), 0o644)
}
