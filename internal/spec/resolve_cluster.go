package spec

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// clusterDecl is one cluster as the inventory declares it: every host
// whose pg_cluster resolves to its name.
type clusterDecl struct {
	name    string
	namePos Pos
	group   *group // the group whose vars set pg_cluster, if one does
	hosts   []*host
}

// clusters groups the inventory's hosts by the pg_cluster each resolves
// to, in order of first appearance. A group whose vars set pg_cluster is a
// cluster even when no host ends up in it (the checks then say it has no
// hosts).
func (inv *inventory) clusters() ([]*clusterDecl, Problems) {
	var out []*clusterDecl
	var problems Problems
	byName := map[string]*clusterDecl{}
	warned := map[*node]bool{}
	decl := func(name string, v *node, g *group) *clusterDecl {
		d := byName[name]
		if d == nil {
			d = &clusterDecl{name: name, namePos: v.pos(), group: g}
			byName[name] = d
			out = append(out, d)
		}
		if d.group == nil {
			d.group = g
		}
		if g != nil && g.name != name && !warned[v] {
			warned[v] = true
			problems = append(problems, Problem{Pos: v.pos(), Rule: RuleIdentity, Severity: SeverityWarning,
				Message: fmt.Sprintf("group %q has pg_cluster %q; Pigsty expects them to be equal", g.name, name)})
		}
		return d
	}
	for _, h := range inv.hosts {
		s := scope{inv: inv, host: h}
		v := s.get("pg_cluster")
		if v == nil || v.kind != kindString {
			continue // not PostgreSQL, or refused by the schema
		}
		d := decl(v.scalar(), v, s.from("pg_cluster", v))
		d.hosts = append(d.hosts, h)
	}
	for _, g := range inv.groups {
		if v := g.vars.get("pg_cluster"); v != nil && v.kind == kindString {
			decl(v.scalar(), v, g)
		}
	}
	return out, problems
}

// clusterSrc is a decoded cluster together with the data nodes its parts
// came from, so that checks can point at the spec's lines.
type clusterSrc struct {
	c        *model.Cluster
	group    *group // the group whose vars set pg_cluster, or nil
	namePos  Pos
	roles    []*node                     // parallel to c.Roles
	dbs      []*node                     // parallel to c.Databases
	hba      map[*model.Instance][]*node // parallel to Instance.HBA
	pgbHBA   map[*model.Instance][]*node // parallel to Instance.Pooler.HBA
	hosts    map[*model.Instance]*host   // where each instance is declared
	privs    []*node                     // parallel to c.DefaultPrivileges
	params   map[*model.Instance]*node   // the pg_parameters map in effect
	primary  scope
	problems Problems
	refused  map[Pos]bool // positions the schema refused
}

// schemaRefused reports whether the schema refused n or one of its
// fields: Go checks of such an object would only repeat the schema's
// message in other words.
func (cs *clusterSrc) schemaRefused(n *node) bool {
	if len(cs.refused) == 0 { // a valid spec's first run: no positions to build
		return false
	}
	if n == nil || cs.refused[n.pos()] {
		return n != nil
	}
	for _, f := range n.fields() {
		if cs.refused[f.keyPos()] || cs.refused[f.value.pos()] {
			return true
		}
	}
	return false
}

func (cs *clusterSrc) fail(p Pos, rule, format string, args ...any) {
	cs.problems = append(cs.problems, Problem{Pos: cs.at(p), Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// at maps a position inside the schema (a value that comes from Pigsty's
// defaults) to the cluster's declaration, so every problem points into the
// spec repository.
func (cs *clusterSrc) at(p Pos) Pos {
	if p.File == "" || strings.HasPrefix(p.File, schemaPrefix) {
		return cs.namePos
	}
	return p
}

// resolveCluster builds the model of one cluster.
func resolveCluster(inv *inventory, d *clusterDecl) *clusterSrc {
	cs := &clusterSrc{group: d.group, namePos: d.namePos, hba: map[*model.Instance][]*node{}, hosts: map[*model.Instance]*host{},
		params: map[*model.Instance]*node{}, pgbHBA: map[*model.Instance][]*node{}}
	c := &model.Cluster{Name: d.name}
	cs.c = c

	// Instances.
	for _, h := range d.hosts {
		hs := scope{inv: inv, host: h}
		in := &model.Instance{Cluster: c.Name, IP: h.ip, Port: 5432}
		cs.hosts[in] = h
		if ip, err := netip.ParseAddr(h.ip); err != nil || !ip.Is4() {
			cs.fail(h.pos, RuleIdentity, "host %q: Pigsty keys hosts by IPv4 address", h.ip)
		}
		seq, role := hs.get("pg_seq"), hs.get("pg_role")
		if seq == nil || seq.kind != kindInt {
			cs.fail(h.pos, RuleIdentity, "host %s of cluster %s: pg_seq is required", h.ip, c.Name)
		} else {
			in.Seq, _ = cs.integer(seq)
		}
		if role == nil || role.kind != kindString {
			cs.fail(h.pos, RuleIdentity, "host %s of cluster %s: pg_role is required", h.ip, c.Name)
		} else {
			in.Role = model.InstanceRole(role.scalar())
		}
		if v := hs.get("pg_offline_query"); v != nil {
			in.OfflineQuery = v.boolean()
		}
		if v := hs.get("pg_port"); v != nil && v.kind == kindInt {
			if port, ok := cs.integer(v); ok {
				in.Port = port
			}
		}
		if v := hs.get("pg_version"); v != nil && v.kind == kindInt {
			in.PGVersion, _ = cs.integer(v)
		}
		c.Instances = append(c.Instances, in)
	}
	slices.SortStableFunc(c.Instances, func(a, b *model.Instance) int { return a.Seq - b.Seq })

	// Cluster-wide objects are resolved with the primary's variables:
	// Pigsty runs their SQL there.
	// Without a primary (an error), the first instance stands in.
	cs.primary = scope{inv: inv, group: d.group}
	for i, in := range c.Instances {
		if i == 0 || in.Role == model.RolePrimary {
			cs.primary = scope{inv: inv, host: cs.hosts[in]}
		}
		if in.Role == model.RolePrimary {
			break
		}
	}
	c.Globals = resolveGlobals(cs.primary, inv)
	cs.decodePatroni()
	cs.decodeRoles()
	cs.decodeDatabases()
	if v := cs.primary.get("pg_default_privileges"); v != nil && v.kind == kindList {
		c.DefaultPrivileges = []string{}
		for _, it := range v.items() {
			c.DefaultPrivileges = append(c.DefaultPrivileges, strings.Join(strings.Fields(it.scalar()), " "))
			cs.privs = append(cs.privs, it)
		}
	}

	// Per-instance HBA rules, parameters and PgBouncer.
	for _, in := range c.Instances {
		hs := scope{inv: inv, host: cs.hosts[in]}
		in.HBA, cs.hba[in] = cs.decodeHBALists(hs, "pg_default_hba_rules", "pg_hba_rules")
		in.Parameters = cs.decodeParameters(hs, in)
		cs.decodePooler(hs, in)
	}
	return cs
}

func resolveGlobals(s scope, inv *inventory) model.Globals {
	g := model.Globals{
		AdminIP:            s.str("admin_ip"),
		InfraIPs:           inv.infraIPs,
		DBSU:               s.str("pg_dbsu"),
		ReplicationUser:    s.str("pg_replication_username"),
		AdminUser:          s.str("pg_admin_username"),
		MonitorUser:        s.str("pg_monitor_username"),
		PasswordEncryption: s.str("pg_pwd_enc"),
	}
	if v := s.get("node_firewall_intranet"); v != nil {
		for _, it := range v.items() {
			g.Intranet = append(g.Intranet, it.scalar())
		}
	}
	return g
}

// decodeParameters resolves pg_parameters and pg_libs for one host.
func (cs *clusterSrc) decodeParameters(hs scope, in *model.Instance) []model.Parameter {
	var out []model.Parameter
	seen := map[string]bool{}
	if m := hs.get("pg_parameters"); m != nil && m.kind == kindMap {
		cs.params[in] = m
		for _, f := range m.fields() {
			if f.value.isNull() {
				continue
			}
			out = append(out, model.Parameter{Name: f.key, Value: f.value.text()})
			seen[f.key] = true
		}
	}
	if libs := hs.get("pg_libs"); libs != nil && libs.kind == kindString && !seen["shared_preload_libraries"] {
		out = append(out, model.Parameter{Name: "shared_preload_libraries", Value: joinList(libs.scalar())})
	}
	slices.SortFunc(out, func(a, b model.Parameter) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// joinList normalises a comma-separated list the way PostgreSQL shows it.
func joinList(s string) string {
	var parts []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}
