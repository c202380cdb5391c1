package diff

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/hba"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// The impact preview (issue #19): every planned change is held against
// the clients connected when the instances were inspected
// (model.InstanceState.Clients, its replication clients and the
// reconciler's own session), and what it would do to them is attached to
// the change as plan.Impact. It is a function of the same values as the
// rest of the plan: no clock, no connection.

// client is one observed connection group, as check_hba sees it.
type client struct {
	conn     hba.Conn
	group    model.ClientGroup
	network  string // "local", or the address's /24 or /64
	hidden   bool   // the address was not visible: not judged
	logged   bool   // seen in the server log within the window, not connected now
	sessions int    // sessions open, or connections logged
}

// clientsOf lists what connects to an instance now: its client sessions,
// its walsenders (physical replication), and the reconciler's own session.
func clientsOf(st *model.InstanceState) []client {
	var out []client
	add := func(g model.ClientGroup, replication, logged bool) {
		c := client{group: g, hidden: g.Hidden, logged: logged, sessions: max(g.Sessions, 1)}
		c.conn = hba.Conn{User: g.User, Database: g.Database, SSL: g.SSL, Replication: replication}
		ip, err := netip.ParseAddr(g.ClientAddr)
		switch {
		case g.Hidden:
		case g.ClientAddr == "" || err != nil:
			c.conn.Local, c.network = true, "local"
		default:
			c.conn.Addr = ip.Unmap()
			c.network = networkOf(c.conn.Addr)
		}
		out = append(out, c)
	}
	connected := map[model.ClientGroup]bool{}
	for _, g := range st.Clients {
		add(g, false, false)
		g.Sessions = 0
		connected[g] = true
	}
	for _, r := range st.Replication {
		add(model.ClientGroup{User: r.User, ClientAddr: r.ClientAddr, SSL: r.SSL, ApplicationName: r.ApplicationName, Sessions: 1}, true, false)
	}
	if s := st.Session; s.User != "" {
		add(model.ClientGroup{User: s.User, Database: s.Database, ClientAddr: s.ClientAddr, SSL: s.SSL,
			ApplicationName: s.ApplicationName, Sessions: 1}, false, false)
	}
	// Connections logged within the window by clients not connected now
	// (a nightly job); those connected now are counted above.
	for _, g := range st.Logged {
		k := g
		k.Sessions = 0
		if !connected[k] {
			add(g, false, true)
		}
	}
	return out
}

// networkOf is the network a client address is grouped by: its /24 for
// IPv4, its /64 for IPv6.
func networkOf(ip netip.Addr) string {
	bits := 64
	if ip.Is4() {
		bits = 24
	}
	p, _ := ip.Prefix(bits)
	return p.String()
}

// impact attaches to each planned change what it would do to the clients
// connected now: the HBA verdicts of every instance whose rules or whose
// roles' memberships change, and the role changes' effects on the
// sessions of their roles.
func (b *builder) impact(live map[string]*model.InstanceState) {
	var changes []*plan.Change
	for _, ph := range b.phases {
		for _, ch := range ph {
			if ch.Action == plan.ActionCreate || ch.Action == plan.ActionChange || ch.Action == plan.ActionRemove {
				changes = append(changes, ch)
			}
		}
	}
	if len(changes) == 0 {
		return
	}
	// The membership graphs (10,000 roles: ~25 ms) are built only when an
	// instance has a client the changes could touch.
	var before, after memberGraph
	for _, in := range b.c.Instances {
		st := live[in.Name()]
		if st == nil {
			continue
		}
		clients := clientsOf(st)
		if len(clients) == 0 {
			continue
		}
		if before == nil {
			before = memberGraph{}
			if b.pl != nil {
				before = graphOf(b.pl.Roles) // roles are the cluster's: the primary's
			}
			b.liveGraph = before
			after = before.after(changes)
		}
		b.hbaImpact(in.Name(), st, clients, changes, before, after)
		b.roleImpact(in.Name(), st, clients, changes)
	}
}

// verdict is a line's decision for a client, as the impact shows it.
type verdict struct {
	allowed   bool
	undecided bool
	method    string
	text      string // "line 5: host all all 127.0.0.0/8 scram-sha-256", "no line matches"
}

func decide(lines []hba.Line, c hba.Conn, m hba.Membership) verdict {
	v := hba.Decide(lines, c, m)
	if v.Line == nil {
		return verdict{text: "no line matches"}
	}
	return verdict{allowed: !v.Undecided && v.Line.Method != "reject", undecided: v.Undecided, method: v.Line.Method,
		text: fmt.Sprintf("line %d: %s", v.N, v.Text)}
}

// hbaImpact runs every client of an instance through the live rules with
// today's memberships and through the rules it will have (the rendered
// file when its pg_hba.conf is planned) with the memberships after the
// plan, and lists those accepted today that would be rejected, would
// switch method, or could not be decided.
func (b *builder) hbaImpact(instance string, st *model.InstanceState, clients []client, changes []*plan.Change, before, after memberGraph) {
	if st.HBA == nil {
		return
	}
	var target *plan.Change // the change the impact belongs to
	newLines, planned := b.newHBA[instance]
	for _, ch := range changes {
		if planned && ch.Kind == plan.KindHBA && ch.Instance == instance {
			target = ch
			break
		}
		if !planned && target == nil && ch.Kind == plan.KindMembership && ch.Action != plan.ActionChange {
			target = ch // with the rules unchanged, only a granted or revoked membership changes a +group line's decision
		}
	}
	if target == nil {
		return
	}
	liveLines, _ := liveHBALines(st.HBA)
	if !planned {
		newLines = liveLines
	}
	groups := map[plan.ImpactKind]*impactGroups{}
	hidden := 0
	for _, c := range clients {
		if c.hidden {
			hidden += c.sessions
			continue
		}
		was := decide(liveLines, c.conn, before.member)
		if !was.allowed {
			continue // rejected today already: nothing this change takes away
		}
		will := decide(newLines, c.conn, after.member)
		var kind plan.ImpactKind
		switch {
		case will.undecided:
			kind = plan.ImpactHBAUndecided
		case !will.allowed:
			kind = plan.ImpactHBARejected
		case will.method != was.method:
			kind = plan.ImpactHBAMethod
		default:
			continue
		}
		g := groups[kind]
		if g == nil {
			g = &impactGroups{}
			groups[kind] = g
		}
		g.add(c, was, will)
	}
	for _, kind := range []plan.ImpactKind{plan.ImpactHBARejected, plan.ImpactHBAMethod, plan.ImpactHBAUndecided} {
		g := groups[kind]
		if g == nil {
			continue
		}
		im := g.impact(kind, instance)
		im.CutsOff = kind == plan.ImpactHBARejected || kind == plan.ImpactHBAMethod && g.blockingSwitch
		im.Hidden = hidden
		what := map[plan.ImpactKind]string{
			plan.ImpactHBARejected:  "would be rejected",
			plan.ImpactHBAMethod:    "would have to authenticate by another method",
			plan.ImpactHBAUndecided: "would meet a line only the server can decide (samehost, samenet, a host name or @file)",
		}[kind]
		im.Summary = fmt.Sprintf("%s %s: %s of %s accepted today %s", target.Kind, target.Object,
			countOf(im), plural(im.Groups, "client", "clients"), what)
		target.Impact = append(target.Impact, im)
	}
}

// impactGroups gathers the clients an impact hits by user, network, SSL
// and the two deciding lines.
type impactGroups struct {
	order          []string
	m              map[string]*plan.ImpactClients
	blockingSwitch bool // a method switch a client may not pass (see blocks)
}

func (g *impactGroups) add(c client, was, will verdict) {
	before, after := was.text, will.text
	if g.m == nil {
		g.m = map[string]*plan.ImpactClients{}
	}
	key := strings.Join([]string{c.group.User, c.network, onOff(c.group.SSL), before, after}, "\x00")
	ic := g.m[key]
	if ic == nil {
		ic = &plan.ImpactClients{User: c.group.User, Network: c.network, SSL: c.group.SSL, Before: before, After: after}
		g.m[key] = ic
		g.order = append(g.order, key)
	}
	if c.logged {
		ic.Logged += c.sessions
	} else {
		ic.Sessions += c.sessions
	}
	if c.network != "local" {
		ic.Addresses = appendCapped(ic.Addresses, c.group.ClientAddr, 5)
	}
	db := c.group.Database
	if c.conn.Replication {
		db = "replication"
	}
	ic.Databases = appendCapped(ic.Databases, db, 5)
	if blocks(was.method, will.method) {
		g.blockingSwitch = true
	}
}

// blocks reports whether a switch of authentication method may lock a
// client out: any switch but to trust, or from scram-sha-256 to md5 (md5
// with a SCRAM verifier stored runs SCRAM; the reverse fails for a stored
// md5 hash).
func blocks(before, after string) bool {
	return after != "trust" && !(before == "scram-sha-256" && after == "md5")
}

// impact is the gathered clients as one plan.Impact, most sessions first,
// capped at plan.MaxImpactClients.
func (g *impactGroups) impact(kind plan.ImpactKind, instance string) plan.Impact {
	im := plan.Impact{Kind: kind, Instance: instance, Groups: len(g.order)}
	all := make([]plan.ImpactClients, 0, len(g.order))
	for _, k := range g.order {
		ic := *g.m[k]
		im.Sessions += ic.Sessions
		im.Logged += ic.Logged
		slices.Sort(ic.Databases)
		all = append(all, ic)
	}
	slices.SortStableFunc(all, func(a, b plan.ImpactClients) int {
		return cmp.Or(cmp.Compare(b.Sessions, a.Sessions), cmp.Compare(a.User, b.User), cmp.Compare(a.Network, b.Network),
			cmp.Compare(onOff(a.SSL), onOff(b.SSL)), cmp.Compare(a.Before, b.Before), cmp.Compare(a.After, b.After),
			cmp.Compare(strings.Join(a.Databases, ","), strings.Join(b.Databases, ",")))
	})
	im.Clients = all[:min(len(all), plan.MaxImpactClients)]
	return im
}

// countOf says how many sessions an impact hits, and how many logged
// connections of clients not connected now.
func countOf(im plan.Impact) string {
	s := plural(im.Sessions, "session", "sessions")
	if im.Logged > 0 {
		s += " (and " + plural(im.Logged, "logged connection", "logged connections") + ")"
	}
	return s
}

func appendCapped(list []string, v string, n int) []string {
	if v == "" || slices.Contains(list, v) || len(list) >= n {
		return list
	}
	return append(list, v)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// memberGraph is who is a direct member of what (member → roles), for
// +group lines and samerole: PostgreSQL 15 counts every membership there,
// whatever its INHERIT flag.
type memberGraph map[string][]string

func graphOf(roles []*model.LiveRole) memberGraph {
	g := memberGraph{}
	for _, r := range roles {
		for _, m := range r.MemberOf {
			g[r.Name] = append(g[r.Name], m.Role)
		}
	}
	return g
}

// after is the graph once the plan's memberships are granted and revoked
// and its dropped roles are gone.
func (g memberGraph) after(changes []*plan.Change) memberGraph {
	out := memberGraph{}
	for k, v := range g {
		out[k] = slices.Clone(v)
	}
	for _, ch := range changes {
		switch {
		case ch.Membership != nil && ch.Action == plan.ActionCreate:
			out[ch.Membership.Member] = append(out[ch.Membership.Member], ch.Membership.Roles...)
		case ch.Membership != nil && ch.Action == plan.ActionRemove:
			out[ch.Membership.Member] = slices.DeleteFunc(out[ch.Membership.Member], func(r string) bool {
				return slices.Contains(ch.Membership.Roles, r)
			})
		case ch.Kind == plan.KindRole && ch.Action == plan.ActionRemove && ch.Role != nil:
			delete(out, ch.Role.Name)
			for k, v := range out {
				out[k] = slices.DeleteFunc(v, func(r string) bool { return r == ch.Role.Name })
			}
		}
	}
	return out
}

// member reports whether user is a member of group, directly or not.
func (g memberGraph) member(user, group string) bool {
	seen := map[string]bool{}
	var walk func(string) bool
	walk = func(r string) bool {
		for _, p := range g[r] {
			if p == group {
				return true
			}
			if !seen[p] {
				seen[p] = true
				if walk(p) {
					return true
				}
			}
		}
		return false
	}
	return walk(user)
}
