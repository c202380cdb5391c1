package spec

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/hba"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

// hbaRuleRef is one HBA rule object active on an instance.
type hbaRuleRef struct {
	cs   *clusterSrc
	in   *model.Instance
	rule model.HBARule
	node *node
}

// eachActiveHBA yields every HBA rule object that is active (not gated off
// by its role) on some instance.
func (b *built) eachActiveHBA(fn func(hbaRuleRef)) {
	for _, cs := range b.clusters {
		for _, in := range cs.c.Instances {
			for i, r := range in.HBA {
				if ruleActive(r, in) {
					fn(hbaRuleRef{cs: cs, in: in, rule: r, node: cs.hba[in][i]})
				}
			}
		}
	}
}

// ruleActive is Pigsty's role gating of HBA rules.
func ruleActive(r model.HBARule, in *model.Instance) bool {
	switch r.Role {
	case "", "default", "common":
		return true
	case "offline":
		return in.Role == model.RoleOffline || in.OfflineQuery
	}
	return r.Role == string(in.Role)
}

// sslAuth reports whether an auth alias renders a hostssl line.
func sslAuth(auth string) bool {
	switch auth {
	case "ssl", "ssl-sha", "ssl-md5", "cert":
		return true
	}
	return false
}

func denyAuth(auth string) bool { return auth == "deny" || auth == "reject" }

// ruleAddrs expands a rule's address to the prefixes it renders
// (nil for local), as hba.Render does.
func ruleAddrs(r model.HBARule, c *model.Cluster) []netip.Prefix {
	var out []netip.Prefix
	add := func(s string) {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p)
		} else if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	g := c.Globals
	switch r.Addr {
	case "local":
	case "localhost":
		add("127.0.0.1/32")
		add("::1/128")
	case "admin":
		add(g.AdminIP)
	case "infra":
		for _, ip := range g.InfraIPs {
			add(ip)
		}
	case "cluster":
		for _, ip := range c.MemberIPs() {
			add(ip)
		}
	case "intra", "intranet":
		for _, ip := range g.Intranet {
			add(ip)
		}
	case "world", "all":
		add("0.0.0.0/0")
		add("::/0")
	default:
		add(r.Addr)
	}
	return out
}

func loopback(p netip.Prefix) bool { return p.Addr().IsLoopback() && p.Bits() >= 8 }

// insideIntranet reports whether every address of p lies in the intranet.
func insideIntranet(p netip.Prefix, intranet []string) bool {
	if loopback(p) {
		return true
	}
	for _, s := range intranet {
		n, err := netip.ParsePrefix(s)
		if err == nil && n.Bits() <= p.Bits() && n.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

func describeRule(r model.HBARule) string {
	what := "rule"
	if r.Default {
		what = "default rule"
	}
	if len(r.Rules) > 0 {
		return fmt.Sprintf("raw %s %q", what, hba.RedactText(strings.Join(r.Rules, "; ")))
	}
	if r.Title != "" {
		return fmt.Sprintf("%s %q {user: %s, db: %s, addr: %s, auth: %s}", what, r.Title, r.User, r.DB, r.Addr, r.Auth)
	}
	return fmt.Sprintf("%s {user: %s, db: %s, addr: %s, auth: %s}", what, r.User, r.DB, r.Addr, r.Auth)
}

func checkNoTrustTCP(b *built, report func(Pos, string)) {
	b.eachActiveHBA(func(h hbaRuleRef) {
		if len(h.rule.Rules) == 0 && h.rule.Auth == "trust" && h.rule.Addr != "local" {
			report(h.cs.at(h.node.pos()), fmt.Sprintf("%s lets TCP clients in without authentication", describeRule(h.rule)))
		}
		for _, l := range rawLines(h.rule) {
			if l.tcp && l.method == "trust" {
				report(h.cs.at(h.node.pos()), fmt.Sprintf("raw rule %q lets TCP clients in without authentication", l.text))
			}
		}
	})
}

// matchesAdmin reports whether a rule's user column can match the admin
// user: its name, its alias, all, or a group it belongs to transitively.
func matchesAdmin(user string, c *model.Cluster) bool {
	admin := c.Globals.AdminUser
	for _, u := range strings.Split(user, ",") {
		switch u = strings.TrimSpace(u); {
		case u == "all" || u == "${admin}" || u == admin:
			return true
		case strings.HasPrefix(u, "+"):
			if memberOf(c, admin, strings.TrimPrefix(u, "+"), map[string]bool{}) {
				return true
			}
		}
	}
	return false
}

func memberOf(c *model.Cluster, role, group string, seen map[string]bool) bool {
	if role == group {
		return true
	}
	if seen[role] {
		return false
	}
	seen[role] = true
	r := c.Role(role)
	if r == nil {
		return false
	}
	for _, m := range r.MemberOf {
		if !m.Revoke && memberOf(c, m.Role, group, seen) {
			return true
		}
	}
	return false
}

// checkAdminSSL judges rule objects and raw lines alike. Raw lines are
// judged by the addresses they match when those are IP ranges; a host
// name, samehost or samenet cannot be placed without the network.
func checkAdminSSL(b *built, report func(Pos, string)) {
	b.eachActiveHBA(func(h hbaRuleRef) {
		r, g := h.rule, h.cs.c.Globals
		outside := func(addrs []netip.Prefix) (netip.Prefix, bool) {
			for _, p := range addrs {
				if !insideIntranet(p, g.Intranet) {
					return p, true
				}
			}
			return netip.Prefix{}, false
		}
		if len(r.Rules) == 0 && !sslAuth(r.Auth) && !denyAuth(r.Auth) && matchesAdmin(r.User, h.cs.c) {
			if p, ok := outside(ruleAddrs(r, h.cs.c)); ok {
				report(h.cs.at(h.node.pos()), fmt.Sprintf("%s lets the admin user %s in from %s (outside the intranet) without SSL; use auth: ssl or cert",
					describeRule(r), g.AdminUser, p))
			}
		}
		for _, l := range rawLines(r) {
			if !l.tcp || l.ssl || l.method == "reject" || !matchesAdmin(l.users, h.cs.c) {
				continue
			}
			if p, ok := outside(l.addrs); ok {
				report(h.cs.at(h.node.pos()), fmt.Sprintf("raw rule %q lets the admin user %s in from %s (outside the intranet) without SSL; use hostssl",
					l.text, g.AdminUser, p))
			}
		}
	})
}

func checkNoMD5Auth(b *built, report func(Pos, string)) {
	b.eachActiveHBA(func(h hbaRuleRef) {
		r := h.rule
		md5 := r.Auth == "md5" || r.Auth == "ssl-md5" ||
			((r.Auth == "pwd" || r.Auth == "ssl") && h.cs.c.Globals.PasswordEncryption == "md5")
		if len(r.Rules) == 0 && md5 {
			report(h.cs.at(h.node.pos()), fmt.Sprintf("%s uses md5 authentication; use scram-sha-256 (auth: pwd with pg_pwd_enc scram-sha-256)", describeRule(r)))
		}
		for _, l := range rawLines(r) {
			if l.method == "md5" {
				report(h.cs.at(h.node.pos()), fmt.Sprintf("raw rule %q uses md5 authentication", l.text))
			}
		}
	})
}

func checkSSLRequired(b *built, report func(Pos, string)) {
	b.eachActiveHBA(func(h hbaRuleRef) {
		r := h.rule
		if len(r.Rules) == 0 && !sslAuth(r.Auth) && !denyAuth(r.Auth) {
			for _, p := range ruleAddrs(r, h.cs.c) {
				if !loopback(p) {
					report(h.cs.at(h.node.pos()), fmt.Sprintf("%s accepts connections from %s without SSL", describeRule(r), p))
					return
				}
			}
		}
		for _, l := range rawLines(r) {
			if l.tcp && !l.ssl && l.method != "reject" && !l.loopback {
				report(h.cs.at(h.node.pos()), fmt.Sprintf("raw rule %q accepts TCP connections without SSL", l.text))
			}
		}
	})
}
