package spec

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// inventory is the merged data tree split into Ansible's layers.
type inventory struct {
	globals  *node // all.vars
	defaults *node // schema #Defaults
	groups   []*group
	infraIPs []string
}

type group struct {
	name    string
	namePos Pos
	vars    *node
	hosts   []*host
}

type host struct {
	ip   string
	pos  Pos
	vars *node
}

// scope answers variable lookups for one host with Pigsty's precedence:
// host vars > group vars > all.vars > defaults. Lists and maps replace.
type scope struct {
	inv   *inventory
	group *group
	host  *host
}

func (s scope) get(name string) *node {
	if s.host != nil {
		if v := s.host.vars.get(name); v != nil {
			return v
		}
	}
	if s.group != nil {
		if v := s.group.vars.get(name); v != nil {
			return v
		}
	}
	if v := s.inv.globals.get(name); v != nil {
		return v
	}
	return s.inv.defaults.get(name)
}

func (s scope) str(name string) string {
	if v := s.get(name); v != nil && v.kind == kindString {
		return v.scalar
	}
	return ""
}

func splitInventory(root, defaults *node) *inventory {
	all := root.get("all")
	inv := &inventory{globals: all.get("vars"), defaults: defaults}
	children := all.get("children")
	if children == nil {
		return inv
	}
	for _, f := range children.fields {
		g := &group{name: f.key, namePos: f.keyPos, vars: f.value.get("vars")}
		if hosts := f.value.get("hosts"); hosts != nil {
			for _, h := range hosts.fields {
				g.hosts = append(g.hosts, &host{ip: h.key, pos: h.keyPos, vars: h.value})
			}
		}
		if g.name == "infra" {
			for _, h := range g.hosts {
				inv.infraIPs = append(inv.infraIPs, h.ip)
			}
		}
		inv.groups = append(inv.groups, g)
	}
	sort.Strings(inv.infraIPs)
	return inv
}

// isCluster reports whether a group is a PostgreSQL cluster: its vars,
// or one of its hosts, set pg_cluster.
func (g *group) isCluster() bool {
	if g.vars.get("pg_cluster") != nil {
		return true
	}
	for _, h := range g.hosts {
		if h.vars.get("pg_cluster") != nil {
			return true
		}
	}
	return false
}

// clusterSrc is a decoded cluster together with the data nodes its parts
// came from, so that checks can point at the spec's lines.
type clusterSrc struct {
	c        *model.Cluster
	group    *group
	namePos  Pos
	roles    []*node                     // parallel to c.Roles
	dbs      []*node                     // parallel to c.Databases
	hba      map[*model.Instance][]*node // parallel to Instance.HBA
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
	if n == nil || cs.refused[n.pos] {
		return n != nil
	}
	for _, f := range n.fields {
		if cs.refused[f.keyPos] || cs.refused[f.value.pos] {
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

// resolveCluster builds the model of one cluster group.
func resolveCluster(inv *inventory, g *group) *clusterSrc {
	gs := scope{inv: inv, group: g}
	nameNode := gs.get("pg_cluster")
	cs := &clusterSrc{group: g, hba: map[*model.Instance][]*node{}, hosts: map[*model.Instance]*host{}, params: map[*model.Instance]*node{}}
	c := &model.Cluster{Name: g.name}
	cs.c = c
	cs.namePos = g.namePos
	if nameNode != nil && nameNode.kind == kindString {
		c.Name = nameNode.scalar
		cs.namePos = nameNode.pos
		if c.Name != g.name {
			cs.problems = append(cs.problems, Problem{Pos: nameNode.pos, Rule: RuleIdentity, Severity: SeverityWarning,
				Message: fmt.Sprintf("group %q has pg_cluster %q; Pigsty expects them to be equal", g.name, c.Name)})
		}
	}

	// Instances.
	for _, h := range g.hosts {
		hs := scope{inv: inv, group: g, host: h}
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
			in.Role = model.InstanceRole(role.scalar)
		}
		if v := hs.get("pg_offline_query"); v != nil {
			in.OfflineQuery = v.boolean()
		}
		if v := hs.get("pg_port"); v != nil && v.kind == kindInt {
			if port, ok := cs.integer(v); ok {
				in.Port = port
			}
		}
		c.Instances = append(c.Instances, in)
	}
	slices.SortStableFunc(c.Instances, func(a, b *model.Instance) int { return a.Seq - b.Seq })

	// Cluster-wide objects are resolved with the primary's variables:
	// Pigsty runs their SQL there.
	cs.primary = gs
	for _, in := range c.Instances {
		if in.Role == model.RolePrimary {
			cs.primary = scope{inv: inv, group: g, host: cs.hosts[in]}
			break
		}
	}
	c.Globals = resolveGlobals(cs.primary, inv)
	cs.decodeRoles()
	cs.decodeDatabases()
	if v := cs.primary.get("pg_default_privileges"); v != nil && v.kind == kindList {
		c.DefaultPrivileges = []string{}
		for _, it := range v.items {
			c.DefaultPrivileges = append(c.DefaultPrivileges, strings.Join(strings.Fields(it.scalar), " "))
			cs.privs = append(cs.privs, it)
		}
	}

	// Per-instance HBA rules and parameters.
	for _, in := range c.Instances {
		hs := scope{inv: inv, group: g, host: cs.hosts[in]}
		for _, list := range []struct {
			name string
			def  bool
		}{{"pg_default_hba_rules", true}, {"pg_hba_rules", false}} {
			v := hs.get(list.name)
			if v == nil || v.kind != kindList {
				continue
			}
			for _, it := range v.items {
				in.HBA = append(in.HBA, cs.decodeHBARule(it, list.def))
				cs.hba[in] = append(cs.hba[in], it)
			}
		}
		in.Parameters = cs.decodeParameters(hs, in)
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
		for _, it := range v.items {
			g.Intranet = append(g.Intranet, it.scalar)
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
		for _, f := range m.fields {
			if f.value.isNull() {
				continue
			}
			out = append(out, model.Parameter{Name: f.key, Value: f.value.text()})
			seen[f.key] = true
		}
	}
	if libs := hs.get("pg_libs"); libs != nil && libs.kind == kindString && !seen["shared_preload_libraries"] {
		out = append(out, model.Parameter{Name: "shared_preload_libraries", Value: joinList(libs.scalar)})
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
