package spec

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strconv"
)

// inventory is the merged data tree read the way Ansible reads an
// inventory, so that every host sees the variables Ansible (and so Pigsty)
// would give it:
//
//   - a host's own variables (from every group that lists it) win over
//     those of its groups, which win over all.vars, which win over
//     Pigsty's role defaults (#Defaults);
//   - a host belongs to every group that lists it and to their ancestor
//     groups (children:); of two groups, the deeper one wins, then the
//     one with the higher ansible_group_priority, then the one whose name
//     sorts later (Ansible's sort_groups);
//   - lists and maps replace, never merge.
//
// A PostgreSQL instance is a host whose pg_cluster resolves to a value, and
// a cluster is every host with the same pg_cluster, wherever they are
// listed (Pigsty's pg_cluster_members): one group whose hosts set
// pg_cluster themselves, like Pigsty's Citus example, holds several
// clusters.
type inventory struct {
	globals  *node // all.vars
	defaults *node // schema #Defaults
	groups   []*group
	hosts    []*host // in order of first appearance
	infraIPs []string
	problems Problems
	read     map[string]bool // the variables pgreconciler reads
}

type group struct {
	name     string
	namePos  Pos
	vars     *node
	depth    int // all is 0, its children 1, theirs 2 …
	priority int // ansible_group_priority, default 1
	hosts    []*host
	parents  []*group
}

type host struct {
	ip       string
	pos      Pos   // where it is first listed
	vars     *node // host vars, from every listing
	groups   []*group
	conflict bool // two listings give a variable two values
}

// scope answers variable lookups for one host with Ansible's precedence. A
// scope without a host (a cluster group without hosts) reads the group's
// variables.
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
		for i := len(s.host.groups) - 1; i >= 0; i-- {
			if v := s.host.groups[i].vars.get(name); v != nil {
				return v
			}
		}
	} else if s.group != nil {
		if v := s.group.vars.get(name); v != nil {
			return v
		}
	}
	if v := s.inv.globals.get(name); v != nil {
		return v
	}
	return s.inv.defaults.get(name)
}

// from returns the group whose vars gave the host v as variable name, or
// nil.
func (s scope) from(name string, v *node) *group {
	if s.host == nil {
		return s.group
	}
	for _, g := range s.host.groups {
		if g.vars.get(name) == v {
			return g
		}
	}
	return nil
}

func (s scope) str(name string) string {
	if v := s.get(name); v != nil && v.kind == kindString {
		return v.scalar()
	}
	return ""
}

// readInventory splits the merged tree into Ansible's groups and hosts.
// read names the variables pgreconciler reads: a host or group declared in
// several places must not give one of them two values.
func readInventory(root, defaults *node, read map[string]bool) *inventory {
	all := root.get("all")
	inv := &inventory{globals: all.get("vars"), defaults: defaults, read: read}
	byName := map[string]*group{}
	byIP := map[string]*host{}
	direct := map[*host][]*group{}
	listHosts := func(g *group, hosts *node) {
		if hosts == nil || hosts.kind != kindMap {
			return
		}
		for _, f := range hosts.fields() {
			h := byIP[f.key]
			if h == nil {
				h = &host{ip: f.key, pos: f.keyPos()}
				byIP[f.key] = h
				inv.hosts = append(inv.hosts, h)
			}
			if inv.mergeVars(&h.vars, f.value, "host "+strconv.Quote(f.key)) {
				h.conflict = true
			}
			if g != nil && !slices.Contains(direct[h], g) {
				direct[h] = append(direct[h], g)
				g.hosts = append(g.hosts, h)
			}
		}
	}
	listHosts(nil, all.get("hosts"))
	var walk func(children *node, parent *group, path []string)
	walk = func(children *node, parent *group, path []string) {
		if children == nil || children.kind != kindMap {
			return
		}
		for _, f := range children.fields() {
			if slices.Contains(path, f.key) {
				inv.problems = append(inv.problems, Problem{Pos: f.keyPos(), Rule: RuleIdentity,
					Message: fmt.Sprintf("group %q is its own descendant (Ansible refuses the loop)", f.key)})
				continue
			}
			g := byName[f.key]
			if g == nil {
				g = &group{name: f.key, namePos: f.keyPos(), priority: 1}
				byName[f.key] = g
				inv.groups = append(inv.groups, g)
			}
			if parent != nil && !slices.Contains(g.parents, parent) {
				g.parents = append(g.parents, parent)
			}
			inv.mergeVars(&g.vars, f.value.get("vars"), "group "+strconv.Quote(f.key))
			listHosts(g, f.value.get("hosts"))
			walk(f.value.get("children"), g, append(path, f.key))
		}
	}
	walk(all.get("children"), nil, nil)

	for _, g := range inv.groups {
		g.depth = groupDepth(g, 0)
		if v := g.vars.get("ansible_group_priority"); v != nil && v.kind == kindInt {
			if p, err := strconv.Atoi(v.scalar()); err == nil {
				g.priority = p
			}
		}
	}
	for _, h := range inv.hosts {
		for _, g := range direct[h] {
			addWithAncestors(h, g)
		}
		sort.SliceStable(h.groups, func(i, j int) bool {
			a, b := h.groups[i], h.groups[j]
			return cmp.Or(cmp.Compare(a.depth, b.depth), cmp.Compare(a.priority, b.priority), cmp.Compare(a.name, b.name)) < 0
		})
	}
	if g := byName["infra"]; g != nil {
		for _, h := range inv.hosts {
			if slices.Contains(h.groups, g) {
				inv.infraIPs = append(inv.infraIPs, h.ip)
			}
		}
	}
	sort.Strings(inv.infraIPs)
	return inv
}

// groupDepth is Ansible's depth: one more than the deepest parent's.
func groupDepth(g *group, guard int) int {
	d := 1
	if guard > 100 {
		return d
	}
	for _, p := range g.parents {
		d = max(d, groupDepth(p, guard+1)+1)
	}
	return d
}

func addWithAncestors(h *host, g *group) {
	if slices.Contains(h.groups, g) {
		return
	}
	h.groups = append(h.groups, g)
	for _, p := range g.parents {
		addWithAncestors(h, p)
	}
}

// mergeVars adds the variables of one declaration to those already read
// for the same host or group. Ansible keeps the one it reads last, which
// depends on the order files and groups are read in: a variable
// pgreconciler reads must not be given two different values. It reports
// whether one was.
func (inv *inventory) mergeVars(dst **node, src *node, what string) (conflict bool) {
	if src == nil || src.kind != kindMap {
		return false
	}
	if *dst == nil {
		*dst = src
		return false
	}
	fields := slices.Clone((*dst).fields())
	for _, f := range src.fields() {
		i := fieldIndex(fields, f.key)
		if i < 0 {
			fields = append(fields, f)
			continue
		}
		if prev := fields[i].value; inv.read[f.key] && !prev.equal(f.value) {
			// No value is shown: it may be a password.
			inv.problems = append(inv.problems, Problem{Pos: f.value.pos(), Rule: RuleConflict,
				Message: fmt.Sprintf("%s is declared more than once with different values of %s (other value at %s); which one Ansible keeps depends on the order it reads them", what, f.key, prev.pos())})
			conflict = true
		}
		fields[i] = f
	}
	*dst = newMap((*dst).at(), fields)
	return conflict
}
