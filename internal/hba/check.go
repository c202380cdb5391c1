package hba

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Warning is a problem that leaves a rule valid but probably not what its
// author meant. CheckRule returns it (possibly joined with others); use
// IsWarning to tell whether an error holds nothing worse.
type Warning struct{ Msg string }

func (w *Warning) Error() string { return w.Msg }

// IsWarning reports whether err is non-nil and every problem in it (see
// errors.Join) is a *Warning.
func IsWarning(err error) bool {
	if err == nil {
		return false
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !IsWarning(e) {
				return false
			}
		}
		return true
	}
	var w *Warning
	return errors.As(err, &w)
}

// CheckAddr checks a rule's addr: one of Pigsty's aliases (local,
// localhost, admin, infra, cluster, intra, intranet, world, all) or an
// IPv4 address with a /mask, as Pigsty's template accepts it, plus what
// the template lets through but PostgreSQL reads differently: octets above
// 255, octets with a leading zero (octal to PostgreSQL), host bits set, and
// a bare address without /mask (rendered without one, it makes PostgreSQL
// read the auth method as a netmask and reject the line).
func CheckAddr(addr string) error {
	if addr == "" {
		return errors.New("addr is empty")
	}
	if slices.Contains(addrAliases, addr) {
		return nil
	}
	slash, ok, err := checkIPv4(addr)
	switch {
	case !ok && strings.Contains(addr, ":"):
		return fmt.Errorf("addr %q: IPv6 addresses are not accepted by Pigsty's addr field; use raw rules", addr)
	case !ok:
		return fmt.Errorf("unknown addr alias %q (known: %s, or an IPv4 CIDR); host names and IPv6 need raw rules",
			addr, strings.Join(addrAliases, ", "))
	case err != nil:
		return fmt.Errorf("addr %w", err)
	case !slash:
		return fmt.Errorf("addr %q has no /mask: Pigsty renders it without one, and PostgreSQL then reads the auth method as a netmask and rejects the line; write %s/32", addr, addr)
	}
	return nil
}

// CheckCIDR checks an address range that the intra alias renders verbatim
// (an entry of node_firewall_intranet): an IPv4 CIDR as CheckAddr accepts
// it, or an IPv6 prefix; never a host name or alias.
func CheckCIDR(s string) error {
	if strings.Contains(s, ":") {
		p, err := netip.ParsePrefix(s)
		switch {
		case err != nil:
			return fmt.Errorf("%q is not a CIDR range such as 10.0.0.0/8 or fd00::/8", s)
		case p != p.Masked():
			return fmt.Errorf("%q has host bits set: PostgreSQL matches it as %s; write that", s, p.Masked())
		}
		return nil
	}
	slash, ok, err := checkIPv4(s)
	switch {
	case !ok:
		return fmt.Errorf("%q is not a CIDR range such as 10.0.0.0/8 or fd00::/8", s)
	case err != nil:
		return err
	case !slash:
		return fmt.Errorf("%q has no /mask: the intra alias renders it verbatim, and PostgreSQL then reads the auth method as a netmask and rejects the line", s)
	}
	return nil
}

// CheckIP checks an address that the admin alias renders with /32
// appended (admin_ip): a bare IPv4 address.
func CheckIP(s string) error {
	if strings.Contains(s, "/") {
		return fmt.Errorf("%q has a /mask: the admin alias appends /32; write the address alone", s)
	}
	if _, ok, err := checkIPv4(s); !ok {
		return fmt.Errorf("%q is not an IPv4 address", s)
	} else if err != nil {
		return err
	}
	return nil
}

// checkIPv4 checks an IPv4 address with an optional /mask; ok is false
// when s is not four dotted decimal numbers (with a mask or not) at all,
// err describes what PostgreSQL would read differently.
func checkIPv4(s string) (slash, ok bool, err error) {
	ip, bits, slash := strings.Cut(s, "/")
	octets := strings.Split(ip, ".")
	if len(octets) != 4 || slices.ContainsFunc(octets, func(o string) bool { return !isDigits(o, 3) }) {
		return slash, false, nil
	}
	var b [4]byte
	for i, o := range octets {
		n, _ := strconv.Atoi(o)
		switch {
		case n > 255:
			return slash, true, fmt.Errorf("%q: octet %s is out of range 0-255", s, o)
		case len(o) > 1 && o[0] == '0':
			return slash, true, fmt.Errorf("%q: octet %s has a leading zero, which PostgreSQL reads as octal", s, o)
		}
		b[i] = byte(n)
	}
	if !slash {
		return false, true, nil
	}
	n, err := strconv.Atoi(bits)
	if !isDigits(bits, 2) || err != nil || n > 32 || len(bits) > 1 && bits[0] == '0' {
		return true, true, fmt.Errorf("%q: invalid CIDR mask /%s (want 0-32)", s, bits)
	}
	p := netip.PrefixFrom(netip.AddrFrom4(b), n).Masked()
	if p.Addr().As4() != b {
		return true, true, fmt.Errorf("%q has host bits set: PostgreSQL matches it as %s; write that", s, p)
	}
	return true, true, nil
}

func isDigits(s string, max int) bool {
	return s != "" && len(s) <= max && strings.Trim(s, "0123456789") == ""
}

// CheckAuth checks a rule's auth against Pigsty's aliases ("" is pwd).
func CheckAuth(auth string) error {
	if auth == "" {
		return nil
	}
	if _, ok := authAliases[auth]; !ok {
		return fmt.Errorf("unknown auth alias %q (known: %s); use raw rules for other methods", auth, strings.Join(authAliasNames(), ", "))
	}
	return nil
}

// CheckRule checks one rule on its own (aliases that need the inventory,
// such as an unset admin_ip, are Render's business). It returns nil, or
// the problems joined; IsWarning tells whether they are only warnings.
//
// Combinations judged here:
//   - cert on local or localhost: error; Pigsty renders "local … cert" and
//     "host … cert", which PostgreSQL rejects (cert needs hostssl);
//   - peer on a TCP address (localhost included): error, PostgreSQL
//     rejects peer outside Unix sockets;
//   - ssl, ssl-sha, ssl-md5 on local or localhost: warning; a Unix socket
//     cannot use SSL and Pigsty renders localhost's TCP lines as plain
//     host, so SSL is not enforced (Pigsty's own templates do this);
//   - ident or os on a TCP address (localhost included): warning, that is
//     RFC 1413 ident, not the peer check it is on a Unix socket;
//   - addr, auth, user or db set next to rules: warning, they are ignored.
func CheckRule(r model.HBARule) error { return checkRule(r, postgresDialect) }

func checkRule(r model.HBARule, d dialect) error {
	var errs []error
	if r.Role != "" {
		errs = append(errs, checkRole(r.Role))
	}
	errs = append(errs, checkTitle(r.Title))
	if len(r.Rules) > 0 {
		for i, raw := range r.Rules {
			if _, err := d.parseLine(raw); err != nil {
				errs = append(errs, fmt.Errorf("rules[%d]: %w", i, err))
			}
		}
		if r.Addr != "" || r.Auth != "" || r.User != "" || r.DB != "" {
			errs = append(errs, &Warning{"addr, auth, user and db are ignored when rules is set"})
		}
		return errors.Join(errs...)
	}
	for _, v := range [...][2]string{{"user", r.User}, {"db", r.DB}} {
		if v[1] != "" {
			if err := checkField(v[0], v[1]); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if r.Addr == "" {
		return errors.Join(append(errs, errors.New("rule has neither addr nor rules"))...)
	}
	errAddr, errAuth := CheckAddr(r.Addr), CheckAuth(r.Auth)
	errs = append(errs, errAddr, errAuth)
	if errAddr == nil && errAuth == nil {
		errs = append(errs, checkCombination(r.Addr, r.Auth, d))
	}
	errs = append(errs, d.checkFields(r.User, r.DB))
	return errors.Join(errs...)
}

func checkRole(role string) error {
	if !slices.Contains(roles, role) {
		return fmt.Errorf("invalid hba role %q (known: %s)", role, strings.Join(roles, ", "))
	}
	return nil
}

// checkTitle keeps a title on its comment line.
func checkTitle(title string) error {
	if hasControl(title) {
		return fmt.Errorf("title %q holds a control character", title)
	}
	return nil
}

func checkCombination(addr, auth string, d dialect) error {
	socket := addr == "local" || addr == "localhost"
	tcp := addr != "local"
	if (auth == "ident" || auth == "os") && d.identMethod == "peer" {
		if tcp {
			return fmt.Errorf("auth %s on addr %s: Pigsty renders it as peer for PgBouncer, which accepts peer only on Unix sockets; use addr local", auth, addr)
		}
		return nil
	}
	switch {
	case auth == "cert" && socket:
		return fmt.Errorf("auth cert on addr %s: Pigsty renders a %q line with cert, which PostgreSQL rejects (cert needs hostssl); use a TCP address", addr, "local")
	case auth == "peer" && tcp:
		return fmt.Errorf("auth peer on addr %s: %s accepts peer only on Unix sockets; use addr local", addr, d.program)
	case strings.HasPrefix(auth, "ssl") && socket:
		return &Warning{fmt.Sprintf("auth %s on addr %s: SSL is not enforced, Unix sockets cannot use it and localhost's TCP lines are rendered as plain host", auth, addr)}
	case (auth == "ident" || auth == "os") && tcp:
		return &Warning{fmt.Sprintf("auth %s on addr %s: on TCP this is RFC 1413 ident (asks an ident server on the client), not the OS-user check it is on a Unix socket", auth, addr)}
	}
	return nil
}

// ParseRawLine checks one line of a rule's rules list (or one rendered
// line): it must be a single pg_hba.conf line that PostgreSQL 15 accepts,
// must not end in a backslash (PostgreSQL would join the next line of the
// file to it, even when the line is commented out by role gating) and must
// not hold a line break. It returns the parsed line, or nil for a blank or
// comment-only line.
//
// Errors quote the line with the values of secret options redacted (see
// RedactText).
func ParseRawLine(s string) (*Line, error) {
	switch {
	case strings.ContainsAny(s, "\r\n\x00"):
		return nil, fmt.Errorf("pg_hba.conf line %q holds a line break or NUL", RedactText(s))
	case strings.HasSuffix(s, `\`):
		return nil, fmt.Errorf("pg_hba.conf line %q ends with a backslash: PostgreSQL would join the next line to it", RedactText(s))
	}
	lines, errs := Parse(s)
	if len(errs) > 0 {
		shown, hidden := redactText(s)
		msg := errs[0].(*ParseError).Msg
		for _, h := range hidden {
			if h != "" {
				msg = strings.ReplaceAll(msg, h, "<redacted>")
			}
		}
		return nil, fmt.Errorf("pg_hba.conf line %q: %s", shown, msg)
	}
	if len(lines) == 0 {
		return nil, nil
	}
	lines[0].Number = 0
	return &lines[0], nil
}
