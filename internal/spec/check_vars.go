package spec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Variables are resolved per host (resolve_inventory.go), but some of them
// describe the whole cluster. The checks below say so where a host's value
// differs from the primary's, naming the variable and the host, instead of
// letting the difference show up later as a consequence.

// clusterIdentity are Patroni's view of the cluster (its scope, Citus group
// and database, pg_mode): hosts that disagree would not form one cluster.
// pg_shard and pg_group matter only with pg_mode citus.
var clusterIdentity = []string{"pg_mode", "pg_primary_db", "pg_shard", "pg_group"}

// primaryOnly are read by Pigsty on the primary only (its user, database
// and pg-init SQL runs there), and so by pgreconciler.
var primaryOnly = []string{"pg_default_roles", "pg_users", "pg_databases", "pg_default_privileges",
	"pg_dbsu_password", "pg_replication_password", "pg_admin_password", "pg_monitor_password"}

// clusterGlobals are read by Pigsty per host (pg_hba.conf is rendered with
// each host's values) but resolved by pgreconciler once per cluster, with
// the primary's values: HBA aliases, protected system roles, hashing.
var clusterGlobals = []string{"admin_ip", "node_firewall_intranet", "pg_dbsu", "pg_replication_username",
	"pg_admin_username", "pg_monitor_username", "pg_pwd_enc"}

// pgModes are Pigsty's pg_mode values (roles/pgsql/defaults/main.yml).
var pgModes = map[string]bool{"pgsql": true, "citus": true, "mssql": true, "mysql": true, "ivory": true,
	"polar": true, "oracle": true, "gpsql": true}

func sameValue(a, b *node) bool {
	return a == b || a != nil && b != nil && a.equal(b)
}

// citus reports whether the cluster runs in Citus mode.
func (cs *clusterSrc) citus() bool { return cs.primary.str("pg_mode") == "citus" }

// checkClusterVars compares every host's cluster-wide variables with the
// primary's, and checks pg_mode.
func (cs *clusterSrc) checkClusterVars() {
	p := cs.primary
	if p.host == nil {
		return
	}
	if v := p.get("pg_mode"); v != nil && v.kind == kindString && v.scalar() != "pgsql" && v.scalar() != "citus" {
		what := "an unknown pg_mode"
		if pgModes[v.scalar()] {
			what = "the " + v.scalar() + " kernel"
		}
		cs.problems = append(cs.problems, Problem{Pos: cs.at(v.pos()), Rule: RuleIdentity, Severity: SeverityWarning,
			Message: fmt.Sprintf("cluster %s: pg_mode %q is not supported as such: pgreconciler manages it as plain PostgreSQL (roles, databases, HBA, parameters), and what %s adds is not managed", cs.c.Name, v.scalar(), what)})
	}
	if cs.citus() {
		cs.checkCitusDB()
	}
	if v := p.get("pg_upstream"); v != nil && !v.isNull() && instanceOf(cs, p.host).Role == model.RolePrimary {
		cs.problems = append(cs.problems, Problem{Pos: cs.at(v.pos()), Rule: RuleIdentity, Severity: SeverityWarning,
			Message: fmt.Sprintf("cluster %s is a standby cluster (pg_upstream on its primary %s): its leader replays another cluster and is read-only, so pgreconciler plans its drift but cannot apply to it (apply refuses an instance in recovery)", cs.c.Name, p.host.ip)})
	}
	primary := p.host.ip
	for _, in := range cs.c.Instances {
		h := cs.hosts[in]
		if h == p.host {
			continue
		}
		hs := scope{inv: p.inv, host: h}
		at := func(v *node) Pos {
			if v == nil || strings.HasPrefix(v.pos().File, schemaPrefix) {
				return h.pos
			}
			return v.pos()
		}
		for _, name := range clusterIdentity {
			if (name == "pg_shard" || name == "pg_group") && !cs.citus() {
				continue
			}
			want, got := p.get(name), hs.get(name)
			if sameValue(want, got) {
				continue
			}
			cs.fail(at(got), RuleIdentity, "host %s of cluster %s has %s %s, but the primary %s has %s: every host of a cluster needs the same %s (Patroni's cluster identity)",
				h.ip, cs.c.Name, name, describeVar(got), primary, describeVar(want), name)
		}
		for _, name := range clusterGlobals {
			if want, got := p.get(name), hs.get(name); !sameValue(want, got) {
				cs.fail(at(got), RuleIdentity, "host %s of cluster %s resolves %s differently from the primary %s: not supported, pgreconciler renders every instance's HBA and protects the system roles with the primary's value; set %s for the whole cluster",
					h.ip, cs.c.Name, name, primary, name)
			}
		}
		for _, name := range primaryOnly {
			if want, got := p.get(name), hs.get(name); !sameValue(want, got) {
				cs.problems = append(cs.problems, Problem{Pos: cs.at(at(got)), Rule: RuleIdentity, Severity: SeverityWarning,
					Message: fmt.Sprintf("host %s (%s of cluster %s) resolves %s differently from the primary %s: Pigsty applies %s on the primary only, so this host's value counts only once it is the primary",
						h.ip, in.Role, cs.c.Name, name, primary, name)})
			}
		}
	}
}

// instanceOf returns the instance declared by h.
func instanceOf(cs *clusterSrc, h *host) *model.Instance {
	for i, hh := range cs.hosts {
		if hh == h {
			return i
		}
	}
	return &model.Instance{}
}

// describeVar shows an identity variable's value (never a secret).
func describeVar(v *node) string {
	if v == nil {
		return "unset"
	}
	return v.describe()
}

// checkCitusDB: in Citus mode Patroni creates pg_primary_db, and Pigsty's
// pg-init runs pg-init-template.sql in it (the default privileges);
// pgreconciler manages those only in postgres and the declared databases.
func (cs *clusterSrc) checkCitusDB() {
	v := cs.primary.get("pg_primary_db")
	if v == nil || v.kind != kindString || v.scalar() == "postgres" {
		return
	}
	for _, d := range cs.c.Databases {
		if d.Name == v.scalar() {
			return
		}
	}
	cs.problems = append(cs.problems, Problem{Pos: cs.at(v.pos()), Rule: RuleDatabase, Severity: SeverityWarning,
		Message: fmt.Sprintf("cluster %s: pg_primary_db %s (created by Patroni in Citus mode) is not in pg_databases, so pgreconciler does not manage its default privileges; declare it there", cs.c.Name, strconv.Quote(v.scalar()))})
}

// checkShards: the clusters of one Citus shard (pg_shard, Patroni's scope)
// are told apart by pg_group; two with the same group would be one Patroni
// cluster.
func checkShards(clusters []*clusterSrc) Problems {
	var out Problems
	type key struct {
		shard string
		group string
	}
	seen := map[key]*clusterSrc{}
	for _, cs := range clusters {
		if cs.primary.host == nil || !cs.citus() {
			continue
		}
		shard := cs.primary.str("pg_shard")
		if shard == "" {
			shard = cs.c.Name // pg_id's default
		}
		group, pos := "0", cs.namePos
		if v := cs.primary.get("pg_group"); v != nil && v.kind == kindInt {
			group, pos = v.scalar(), cs.at(v.pos())
		}
		k := key{shard, group}
		if prev := seen[k]; prev != nil {
			out = append(out, Problem{Pos: pos, Rule: RuleIdentity,
				Message: fmt.Sprintf("clusters %s and %s are both pg_group %s of Citus shard %s: each group of a shard is its own Patroni cluster and needs its own pg_group", prev.c.Name, cs.c.Name, group, shard)})
			continue
		}
		seen[k] = cs
	}
	return out
}
