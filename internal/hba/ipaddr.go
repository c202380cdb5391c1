package hba

import (
	"net/netip"
	"strings"
)

// numericHost mirrors getaddrinfo(AI_NUMERICHOST) on glibc, which
// PostgreSQL uses for the address and netmask columns: IPv6 text forms,
// and IPv4 in every inet_aton form ("10.1" is 10.0.0.1, "010.1.2.3" is
// octal 8.1.2.3, "0x0a.1.2.3" is hex). Anything else is a host name.
// An IPv6 zone is dropped.
func numericHost(s string) (netip.Addr, bool) {
	if strings.Contains(s, ":") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Addr{}, false
		}
		return a.WithZone(""), true
	}
	return inetAton(s)
}

// inetAton is glibc's inet_aton_exact: one to four parts separated by
// dots, each decimal, octal (leading 0) or hex (0x); the last part fills
// the remaining bytes.
func inetAton(s string) (netip.Addr, bool) {
	var parts []uint64
	for {
		if s == "" || s[0] < '0' || s[0] > '9' {
			return netip.Addr{}, false
		}
		v, rest, ok := strtoul(s)
		if !ok {
			return netip.Addr{}, false
		}
		parts, s = append(parts, v), rest
		if s == "" {
			break
		}
		if s[0] != '.' || len(parts) == 4 {
			return netip.Addr{}, false
		}
		s = s[1:]
	}
	var word uint64
	for i, p := range parts[:len(parts)-1] {
		if p > 0xff {
			return netip.Addr{}, false
		}
		word |= p << (24 - 8*i)
	}
	last := parts[len(parts)-1]
	if last > uint64(0xffffffff)>>(8*(len(parts)-1)) {
		return netip.Addr{}, false
	}
	word |= last
	return netip.AddrFrom4([4]byte{byte(word >> 24), byte(word >> 16), byte(word >> 8), byte(word)}), true
}

// strtoul reads a C integer literal (decimal, 0octal, 0xhex) at the start
// of s; values above 32 bits fail.
func strtoul(s string) (v uint64, rest string, ok bool) {
	base, digits := uint64(10), "0123456789"
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && strings.IndexByte("0123456789abcdefABCDEF", s[2]) >= 0:
		base, digits, s = 16, "0123456789abcdefABCDEF", s[2:]
	case s[0] == '0':
		base, digits = 8, "01234567"
	}
	i := 0
	for ; i < len(s); i++ {
		d := strings.IndexByte(digits, s[i])
		if d < 0 {
			break
		}
		if d >= 16 {
			d -= 6 // upper-case hex digits
		}
		v = v*base + uint64(d)
		if v > 0xffffffff {
			return 0, "", false
		}
	}
	return v, s[i:], true
}
