package hba

import (
	"fmt"
	"net/netip"
	"strings"
)

// ParseError is a record PostgreSQL 15 would reject; Msg is worded as
// PostgreSQL words it in pg_hba_file_rules.error.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Parse reads a pg_hba.conf text the way PostgreSQL 15 does and returns
// its records in order, normalised (see Line), plus one error per record
// PostgreSQL would reject. Rejected records are left out of the lines.
//
// @file references are kept verbatim, not expanded, and are accepted only
// in the database and user columns. Build-dependent methods are judged as
// Debian's postgresql-15 builds them: pam, ldap, gss, radius and cert are
// available, bsd and sspi are not.
func Parse(text string) ([]Line, []error) {
	var lines []Line
	var errs []error
	for _, rec := range splitRecords(text) {
		l, msg := parseRecord(rec.fields)
		if msg != "" {
			errs = append(errs, &ParseError{Line: rec.number, Msg: msg})
			continue
		}
		l.Number = rec.number
		lines = append(lines, l)
	}
	return lines, errs
}

var connTypes = map[string]ConnType{
	"local": Local, "host": Host, "hostssl": HostSSL, "hostnossl": HostNoSSL,
	"hostgssenc": HostGSSEnc, "hostnogssenc": HostNoGSSEnc,
}

// methods PostgreSQL 15 accepts, and those it knows but this build lacks.
var (
	methods = map[string]bool{
		"trust": true, "reject": true, "md5": true, "password": true, "scram-sha-256": true,
		"gss": true, "ident": true, "peer": true, "pam": true, "ldap": true, "cert": true, "radius": true,
	}
	unsupportedMethods = map[string]bool{"sspi": true, "bsd": true}
)

// parseRecord mirrors parse_hba_line: it returns the line or the message
// PostgreSQL would report.
func parseRecord(fields [][]token) (Line, string) {
	var l Line
	if msg := fileRefOutside(fields); msg != "" {
		return l, msg
	}
	typ := fields[0]
	if len(typ) > 1 {
		return l, "multiple values specified for connection type"
	}
	ct, ok := connTypes[typ[0].s]
	if !ok {
		return l, fmt.Sprintf("invalid connection type %q", typ[0].s)
	}
	l.Type = ct
	if len(fields) < 2 {
		return l, "end-of-line before database specification"
	}
	l.Databases = canonTokens(fields[1], colDatabase)
	if len(fields) < 3 {
		return l, "end-of-line before role specification"
	}
	l.Users = canonTokens(fields[2], colUser)
	rest := fields[3:]
	if ct != Local {
		addr, n, msg := parseAddress(rest)
		if msg != "" {
			return l, msg
		}
		l.Address, rest = addr, rest[n:]
	}
	if len(rest) == 0 {
		return l, "end-of-line before authentication method"
	}
	if len(rest[0]) > 1 {
		return l, "multiple values specified for authentication type"
	}
	if msg := l.setMethod(rest[0][0].s); msg != "" {
		return l, msg
	}
	var opts []Option
	for _, f := range rest[1:] {
		for _, t := range f {
			name, val, ok := strings.Cut(t.s, "=")
			if !ok {
				return l, "authentication option not in name=value format: " + t.s
			}
			if msg := checkOption(l.Type, l.Method, name, val); msg != "" {
				return l, msg
			}
			opts = append(opts, Option{Name: name, Value: val})
		}
	}
	if msg := checkRequiredOptions(l.Method, opts); msg != "" {
		return l, msg
	}
	l.Options = normalizeOptions(l.Method, opts, false)
	return l, ""
}

// fileRefOutside rejects @file where this package cannot keep it verbatim.
func fileRefOutside(fields [][]token) string {
	for i, f := range fields {
		if i == 1 || i == 2 {
			continue
		}
		for _, t := range f {
			if !t.quoted && len(t.s) > 1 && t.s[0] == '@' {
				return fmt.Sprintf("file inclusion %q outside the database and user columns is not supported", t.s)
			}
		}
	}
	return ""
}

func canonTokens(ts []token, col column) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = canonToken(t.s, t.quoted, col)
	}
	return out
}

// setMethod validates the method token against the connection type.
func (l *Line) setMethod(m string) string {
	switch {
	case unsupportedMethods[m]:
		return fmt.Sprintf("invalid authentication method %q: not supported by this build", m)
	case !methods[m]:
		return fmt.Sprintf("invalid authentication method %q", m)
	}
	if l.Type == Local && m == "ident" {
		m = "peer" // PostgreSQL uses peer for ident on Unix sockets
	}
	l.Method = m
	switch {
	case l.Type == Local && m == "gss":
		return "gssapi authentication is not supported on local sockets"
	case l.Type != Local && m == "peer":
		return "peer authentication is only supported on local sockets"
	case l.Type != HostSSL && m == "cert":
		return "cert authentication is only supported on hostssl connections"
	}
	return ""
}

// parseAddress reads the address column (and the netmask column when the
// address has no CIDR suffix) from fields; n is how many fields it used.
func parseAddress(fields [][]token) (a Address, n int, msg string) {
	if len(fields) == 0 {
		return a, 0, "end-of-line before IP address specification"
	}
	if len(fields[0]) > 1 {
		return a, 0, "multiple values specified for host address"
	}
	t := fields[0][0]
	if !t.quoted {
		switch t.s {
		case "all":
			return Address{Kind: AddrAll}, 1, ""
		case "samehost":
			return Address{Kind: AddrSameHost}, 1, ""
		case "samenet":
			return Address{Kind: AddrSameNet}, 1, ""
		}
	}
	host, bits, slash := strings.Cut(t.s, "/")
	ip, numeric := numericHost(host)
	if !numeric {
		if slash {
			return a, 0, fmt.Sprintf("specifying both host name and CIDR mask is invalid: %q", t.s)
		}
		return Address{Kind: AddrHostname, Host: t.s}, 1, ""
	}
	if slash {
		n, ok := cidrBits(bits, ip.BitLen())
		if !ok {
			return a, 0, fmt.Sprintf("invalid CIDR mask in address %q", t.s)
		}
		return Address{Kind: AddrIP, Prefix: netip.PrefixFrom(ip, n).Masked()}, 1, ""
	}
	if len(fields) < 2 {
		return a, 0, "end-of-line before netmask specification"
	}
	if len(fields[1]) > 1 {
		return a, 0, "multiple values specified for netmask"
	}
	mask, ok := numericHost(fields[1][0].s)
	if !ok {
		return a, 0, fmt.Sprintf("invalid IP mask %q: Name or service not known", fields[1][0].s)
	}
	if mask.Is4() != ip.Is4() {
		return a, 0, "IP address and mask do not match"
	}
	return addressWithMask(ip, mask), 2, ""
}

// addressWithMask builds the address for an IP and a netmask of the same
// family.
func addressWithMask(ip, mask netip.Addr) Address {
	if n, ok := maskBits(mask); ok {
		return Address{Kind: AddrIP, Prefix: netip.PrefixFrom(ip, n).Masked()}
	}
	return Address{Kind: AddrMask, IP: andAddr(ip, mask), Mask: mask}
}

// maskBits returns the prefix length of a contiguous netmask.
func maskBits(mask netip.Addr) (int, bool) {
	b := mask.AsSlice()
	n := 0
	for n < len(b)*8 && b[n/8]&(0x80>>(n%8)) != 0 {
		n++
	}
	for i := n; i < len(b)*8; i++ {
		if b[i/8]&(0x80>>(i%8)) != 0 {
			return 0, false
		}
	}
	return n, true
}

func andAddr(ip, mask netip.Addr) netip.Addr {
	a, m := ip.AsSlice(), mask.AsSlice()
	for i := range a {
		a[i] &= m[i]
	}
	out, _ := netip.AddrFromSlice(a)
	return out
}

// cidrBits mirrors pg_sockaddr_cidr_mask: strtol in base 10, whole string,
// 0..max.
func cidrBits(s string, max int) (int, bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	if s == "" {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n <= max {
			n = n*10 + int(c-'0')
		}
	}
	if neg && n != 0 || n > max {
		return 0, false
	}
	return n, true
}
