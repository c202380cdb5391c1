package spec

import (
	"math/bits"
	"net/netip"
	"slices"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/hba"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

// userAliases are the ${…} names Pigsty expands in an HBA rule's user.
var userAliases = map[string]bool{"${dbsu}": true, "${repl}": true, "${monitor}": true, "${admin}": true}

// hbaFile is one of the two files Pigsty renders from HBA rule objects:
// PostgreSQL's pg_hba.conf and PgBouncer's pgb_hba.conf.
type hbaFile struct {
	name      string
	nodes     map[*model.Instance][]*node
	rules     func(*model.Instance) []model.HBARule
	checkRule func(model.HBARule) error
	parseLine func(string) (*hba.Line, error)
	render    func(*model.Cluster, *model.Instance) (*hba.File, error)
	skip      func(*model.Instance) bool            // instances without this file, or nil
	rendered  func(in *model.Instance, f *hba.File) // called with every file rendered (no dedup), or nil
}

func (cs *clusterSrc) pgHBA() hbaFile {
	return hbaFile{name: "pg_hba.conf", nodes: cs.hba, rules: func(in *model.Instance) []model.HBARule { return in.HBA },
		checkRule: hba.CheckRule, parseLine: hba.ParseRawLine, render: hba.Render}
}

// checkHBA checks every HBA rule as resolved for each instance, then
// renders each instance's file, so that nothing Render would refuse
// reaches apply; pgb_hba.conf's rules the same way (checkPooler).
//
// Rules shared by several instances (cluster or global vars) are checked
// once, and the file is rendered once per distinct rule list: rendering
// differs between instances only in role gating and the header, neither
// of which can fail.
func (cs *clusterSrc) checkHBA(globalsOK bool, f hbaFile) {
	checked := map[*node]bool{}
	bad := map[*node]bool{}
	var rendered [][]*node
	for _, in := range cs.c.Instances {
		if f.skip != nil && f.skip(in) {
			continue
		}
		nodes := f.nodes[in]
		failed := false
		for i, r := range f.rules(in) {
			n := nodes[i]
			if !checked[n] {
				checked[n] = true
				bad[n] = cs.checkHBARule(r, n, f)
			}
			failed = failed || bad[n]
		}
		if failed || !globalsOK {
			continue
		}
		if f.rendered == nil && slices.ContainsFunc(rendered, func(prev []*node) bool { return slices.Equal(prev, nodes) }) {
			continue
		}
		rendered = append(rendered, nodes)
		out, err := f.render(cs.c, in)
		if err != nil {
			cs.fail(cs.hosts[in].pos, RuleHBA, "instance %s: render %s: %v", in.Name(), f.name, err)
			continue
		}
		if f.rendered != nil {
			f.rendered(in, out)
		}
	}
}

// checkAddrGlobals checks the globals that address aliases render
// verbatim, where they are written: the node_firewall_intranet ranges
// (intra) and admin_ip (admin, with /32 appended). Unchecked, a name would
// become a host-name match and a bare address a line PostgreSQL refuses.
// It reports whether they are valid.
func (cs *clusterSrc) checkAddrGlobals() bool {
	ok := true
	if v := cs.primary.get("admin_ip"); v != nil && v.kind == kindString && v.scalar() != "" {
		if err := hba.CheckIP(v.scalar()); err != nil {
			cs.fail(v.pos(), RuleHBA, "admin_ip: %v", err)
			ok = false
		}
	}
	if v := cs.primary.get("node_firewall_intranet"); v != nil && v.kind == kindList {
		for i, it := range v.items() {
			if it.kind != kindString {
				continue // refused by the schema
			}
			if err := hba.CheckCIDR(it.scalar()); err != nil {
				cs.fail(it.pos(), RuleHBA, "node_firewall_intranet[%d]: %v", i, err)
				ok = false
			}
		}
	}
	return ok
}

// checkHBARule reports the problems of one rule object at the field they
// concern, and whether any is an error.
func (cs *clusterSrc) checkHBARule(r model.HBARule, n *node, f hbaFile) bool {
	if cs.schemaRefused(n) {
		return true
	}
	at := func(fieldName string) Pos {
		if v := n.get(fieldName); v != nil {
			return v.pos()
		}
		return n.pos()
	}
	bad := false
	report := func(p Pos, err error) {
		for _, e := range splitErrors(err) {
			if hba.IsWarning(e) {
				cs.problems = append(cs.problems, Problem{Pos: cs.at(p), Rule: RuleHBA, Severity: SeverityWarning, Message: e.Error()})
				continue
			}
			bad = true
			cs.fail(p, RuleHBA, "%v", e)
		}
	}
	if len(r.Rules) > 0 {
		for i, raw := range r.Rules {
			if _, err := f.parseLine(raw); err != nil {
				report(n.itemPos("rules", i), err)
			}
		}
		// The rest of CheckRule's verdict (title, fields ignored next to
		// rules); its rules[i] errors were reported above with positions.
		for _, e := range splitErrors(f.checkRule(r)) {
			if !strings.HasPrefix(e.Error(), "rules[") {
				report(n.pos(), e)
			}
		}
		return bad
	}
	if strings.HasPrefix(r.User, "${") && !userAliases[r.User] {
		cs.fail(at("user"), RuleHBA, "unknown user alias %s (known: ${dbsu}, ${repl}, ${monitor}, ${admin})", r.User)
		bad = true
	}
	if err := hba.CheckAddr(r.Addr); err != nil {
		report(at("addr"), err)
		return bad
	}
	if r.Addr == "local" && sslAuth(r.Auth) {
		// A Unix socket cannot use SSL: Pigsty renders a plain local line,
		// so the rule would not mean what it says.
		cs.fail(n.pos(), RuleHBA, "auth %s on addr local: a Unix socket cannot use SSL; use addr localhost or a TCP address, or auth pwd", r.Auth)
		return true
	}
	report(n.pos(), f.checkRule(r))
	return bad
}

func splitErrors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, splitErrors(e)...)
		}
		return out
	}
	return []error{err}
}

// rawLine is a raw pg_hba.conf line of a rule's rules list, classified for
// the policy checks.
type rawLine struct {
	text     string // as written, secret option values redacted
	tcp, ssl bool
	loopback bool
	method   string
	users    string         // the user column, comma-separated
	addrs    []netip.Prefix // the addresses it matches, when they are IP ranges
}

// rawLines classifies a rule's raw lines (invalid ones are reported by
// checkHBA).
func rawLines(r model.HBARule) []rawLine {
	var out []rawLine
	for _, raw := range r.Rules {
		l, err := hba.ParseRawLine(raw)
		if err != nil || l == nil {
			continue
		}
		rl := rawLine{text: hba.RedactText(raw), method: l.Method, tcp: l.Type != hba.Local, ssl: l.Type == hba.HostSSL,
			users: strings.Join(l.Users, ",")}
		switch a := l.Address; a.Kind {
		case hba.AddrIP:
			rl.loopback = loopback(a.Prefix)
			rl.addrs = []netip.Prefix{a.Prefix}
		case hba.AddrMask:
			// A non-contiguous mask: the prefix of its leading ones holds
			// every address the line matches.
			n := 0
			for _, b := range a.Mask.AsSlice() {
				n += bits.LeadingZeros8(^b)
				if b != 0xff {
					break
				}
			}
			rl.addrs = []netip.Prefix{netip.PrefixFrom(a.IP, n).Masked()}
		case hba.AddrAll:
			rl.addrs = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
		}
		out = append(out, rl)
	}
	return out
}
