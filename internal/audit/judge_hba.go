package audit

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/hba"
)

// liveHBA returns the HBA lines the server has in force, or an unknown
// verdict: not readable, changed on disk after the last reload, or with
// lines the server rejected (it then keeps rules it loaded before, which
// no view shows).
func (s *Subject) liveHBA() ([]hba.Line, *Verdict) {
	h := s.Evidence.HBA
	if h == nil {
		v := unknown("pg_hba_file_rules was not read: %s", s.Evidence.Unread["hba"])
		return nil, &v
	}
	if !h.Modified.IsZero() && h.Modified.After(h.Loaded) {
		v := unknown("%s changed on disk at %s, after the last reload at %s: the rules in force cannot be read",
			h.File, h.Modified.UTC().Format(time.RFC3339), h.Loaded.UTC().Format(time.RFC3339))
		return nil, &v
	}
	lines := make([]hba.Line, 0, len(h.Rows))
	for _, r := range h.Rows {
		if msg := hba.RowError(r); msg != "" {
			v := unknown("%s line %d is rejected (%s): the server keeps the rules it loaded before, which cannot be read", h.File, r.Line, msg)
			return nil, &v
		}
		lines = append(lines, hba.FromRow(r))
	}
	return lines, nil
}

func tcp(l hba.Line) bool { return l.Type != hba.Local }

// encrypted reports whether a line admits only encrypted connections.
func encrypted(l hba.Line) bool { return l.Type == hba.HostSSL || l.Type == hba.HostGSSEnc }

func describeLine(l hba.Line) string { return fmt.Sprintf("line %d", l.Number) }

// reach says where the clients a line's address admits may be.
type reach uint8

const (
	reachLoopback reach = iota + 1 // this host only
	reachIntranet                  // inside node_firewall_intranet
	reachOutside                   // somewhere outside the intranet
	reachUnknown                   // a host name, samenet or a netmask: cannot be placed without the network
)

func reachOf(a hba.Address, intranet []string) reach {
	switch a.Kind {
	case hba.AddrAll:
		return reachOutside
	case hba.AddrSameHost:
		return reachLoopback
	case hba.AddrIP:
		return reachOfPrefix(a.Prefix, intranet)
	}
	return reachUnknown
}

func reachOfPrefix(p netip.Prefix, intranet []string) reach {
	if p.Addr().IsLoopback() && (p.Addr().Is6() || p.Bits() >= 8) {
		return reachLoopback
	}
	for _, s := range intranet {
		n, err := netip.ParsePrefix(s)
		if err == nil && n.Bits() <= p.Bits() && n.Contains(p.Addr()) {
			return reachIntranet
		}
	}
	return reachOutside
}

// matchesUser reports whether a line's user column can match user, given
// the live memberships.
func matchesUser(l hba.Line, user string, roles map[string]*Role) bool {
	for _, u := range l.Users {
		switch {
		case u == "all":
			return true
		case strings.HasPrefix(u, "+"):
			if memberOf(roles, user, strings.TrimPrefix(u, "+")) {
				return true
			}
		case strings.Trim(u, `"`) == user:
			return true
		}
	}
	return false
}

func judgeNoTrustTCP(s *Subject) Verdict {
	lines, uv := s.liveHBA()
	if uv != nil {
		return *uv
	}
	var v verdict
	for _, l := range lines {
		if l.Method == "trust" {
			if tcp(l) {
				v.fail(describeLine(l), l.String(), describeLine(l)+" lets TCP clients in without authentication")
			} else {
				v.fact(describeLine(l), "%s (local socket only)", l.String())
			}
		}
	}
	return v.done(fmt.Sprintf("none of the %d rules lets a TCP client in with trust", len(lines)))
}

func judgeHBAAsDeclared(s *Subject) Verdict {
	lines, uv := s.liveHBA()
	if uv != nil {
		return *uv
	}
	f, err := hba.Render(s.Cluster, s.Instance)
	if err != nil {
		return unknown("the spec's HBA cannot be rendered: %v", err)
	}
	d := hba.Compare(f.Lines, lines)
	var v verdict
	for _, e := range d.Entries {
		what := "missing"
		if e.Op == hba.Remove {
			what = "not in the spec"
		}
		if e.Moved {
			what = "out of order"
		}
		v.fail(what, e.Line.String(), fmt.Sprintf("%s: %s", what, e.Line.String()))
	}
	v.fact("rules", "%d in force, %d rendered from the spec", len(lines), len(f.Lines))
	return v.done("the rules in force are exactly the ones the spec renders, in order")
}

// certLines are the lines that ask for a client certificate.
func certLines(lines []hba.Line) []hba.Line {
	var out []hba.Line
	for _, l := range lines {
		if l.Method == "cert" {
			out = append(out, l)
			continue
		}
		for _, o := range l.Options {
			if o.Name == "clientcert" && (o.Value == "verify-full" || o.Value == "verify-ca") {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

func judgeHBACert(s *Subject) Verdict {
	lines, uv := s.liveHBA()
	if uv != nil {
		return *uv
	}
	f, err := hba.Render(s.Cluster, s.Instance)
	if err != nil {
		return unknown("the spec's HBA cannot be rendered: %v", err)
	}
	want, have := certLines(f.Lines), certLines(lines)
	var v verdict
	if len(want) == 0 && len(have) == 0 {
		v.fail("cert rules", "none in the spec, none in force",
			"no rule asks for a client certificate: two-factor authentication (password + certificate) is not configured")
		return v.done("")
	}
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || hba.Equal(w, h)
		}
		if found {
			v.fact("in force", "%s", w.String())
		} else {
			v.fail("missing", w.String(), "the spec's cert rule is not in force: "+w.String())
		}
	}
	if ca, uv := s.setting("ssl_ca_file"); uv == nil && ca.Value == "" {
		v.fail("ssl_ca_file", "(empty)", "ssl_ca_file is empty: the server cannot verify any client certificate")
	} else if uv == nil {
		v.fact("ssl_ca_file", "%s", ca.Value)
	}
	return v.done(fmt.Sprintf("%d rule(s) require a client certificate", len(have)))
}

// judgeAdminSSL judges line by line, not by PostgreSQL's first match: a
// non-SSL line that an earlier reject shadows is still reported, the
// cautious reading of a file that one edit can reorder.
func judgeAdminSSL(s *Subject) Verdict {
	lines, uv := s.liveHBA()
	if uv != nil {
		return *uv
	}
	roles, uv := s.liveRoles()
	if uv != nil {
		return *uv
	}
	admin := s.Cluster.Globals.AdminUser
	var v verdict
	var undecided []string
	for _, l := range lines {
		if !tcp(l) || encrypted(l) || l.Method == "reject" || !matchesUser(l, admin, roles) {
			continue
		}
		switch reachOf(l.Address, s.Cluster.Globals.Intranet) {
		case reachOutside:
			v.fail(describeLine(l), l.String(), fmt.Sprintf("%s lets %s in from %s without SSL", describeLine(l), admin, l.Address))
		case reachUnknown:
			undecided = append(undecided, describeLine(l))
			v.fact(describeLine(l), "%s (address cannot be placed)", l.String())
		}
	}
	v.fact("intranet", "%s", strings.Join(s.Cluster.Globals.Intranet, ", "))
	r := v.done(fmt.Sprintf("%s reaches the server from outside the intranet only over SSL", admin))
	if r.Status == StatusPass && len(undecided) > 0 {
		r.Status, r.Why = StatusUnknown, strings.Join(undecided, ", ")+" admit "+admin+" without SSL from an address that cannot be placed inside or outside the intranet"
	}
	return r
}

func judgeSSLRequired(s *Subject) Verdict {
	lines, uv := s.liveHBA()
	if uv != nil {
		return *uv
	}
	var v verdict
	for _, l := range lines {
		if tcp(l) && !encrypted(l) && l.Method != "reject" && reachOf(l.Address, nil) != reachLoopback {
			v.fail(describeLine(l), l.String(), fmt.Sprintf("%s accepts connections from %s without SSL", describeLine(l), l.Address))
		}
	}
	return v.done("every TCP rule beyond loopback requires SSL or rejects")
}

func judgeListenAddresses(s *Subject) Verdict {
	st, uv := s.setting("listen_addresses")
	if uv != nil {
		return *uv
	}
	var v verdict
	everywhere := false
	for _, a := range strings.Split(st.Value, ",") {
		a = strings.TrimSpace(a)
		switch ip, err := netip.ParseAddr(a); {
		case a == "":
		case a == "*" || a == "0.0.0.0" || a == "::":
			everywhere = true
		case a == "localhost":
		case err != nil:
			v.fact("listen_addresses", "%s: a host name, not placed", a)
		case ip.String() == s.Instance.IP:
		case reachOfPrefix(netip.PrefixFrom(ip, ip.BitLen()), s.Cluster.Globals.Intranet) == reachOutside:
			v.fail("listen_addresses", a, "listens on "+a+", outside the intranet")
		}
	}
	v.fact("listen_addresses", "%s", st.Value)
	if port, ok := s.Evidence.Settings["port"]; ok {
		v.fact("port", "%s", port.Value)
	}
	if !everywhere {
		return v.done("listens on the instance's own or intranet addresses only")
	}
	lines, uv := s.liveHBA()
	if uv != nil {
		return Verdict{Status: StatusUnknown, Why: "listens on every interface, and the HBA rules that limit who gets in were not read: " + uv.Why, Evidence: v.facts}
	}
	for _, l := range lines {
		if !tcp(l) || l.Method == "reject" || reachOf(l.Address, s.Cluster.Globals.Intranet) != reachOutside {
			continue
		}
		if encrypted(l) {
			v.fact(describeLine(l), "%s (open outside the intranet, over SSL)", l.String())
		} else {
			v.fail(describeLine(l), l.String(), fmt.Sprintf("listens on every interface and %s admits %s without SSL", describeLine(l), l.Address))
		}
	}
	return v.done("listens on every interface; only SSL rules admit clients from outside the intranet (the host firewall is not visible from the server)")
}
