package hba

import (
	"fmt"
	"net/netip"
	"strings"
)

// Conn describes a connection attempt as check_hba sees it.
type Conn struct {
	Local       bool       // over a Unix socket; Addr, SSL and GSS are then ignored
	Addr        netip.Addr // client address of a TCP connection
	SSL         bool       // TLS in use
	GSS         bool       // GSSAPI encryption in use
	Database    string     // ignored for physical replication
	User        string
	Replication bool // physical replication; logical replication is an ordinary connection to Database
}

// Membership reports whether user is a member of group, directly or
// through other roles. PostgreSQL 15 counts every membership here,
// whatever its INHERIT flag, and never counts superuser status. A nil
// Membership knows no memberships. Match itself treats a user as a member
// of itself, as PostgreSQL does.
type Membership func(user, group string) bool

// tri is a three-valued match result.
type tri uint8

const (
	no tri = iota
	yes
	maybe // depends on something only the server can evaluate
)

// Match finds the line that decides c, as PostgreSQL 15's check_hba does:
// the first line whose type, address, database and user all match. It
// returns that line's index and the line, or -1 and nil when no line
// matches (PostgreSQL then rejects the connection).
//
// samehost, samenet, host names and @file references need the server's
// interfaces, DNS or files. When Match reaches a line that could match only
// through one of those, it stops there and returns that line with
// undecided set: the result is then unknown, and the lockout guard must
// treat it as "not proven allowed" and "not proven rejected" alike.
func Match(lines []Line, c Conn, m Membership) (idx int, line *Line, undecided bool) {
	for i := range lines {
		switch matchLine(&lines[i], c, m) {
		case yes:
			return i, &lines[i], false
		case maybe:
			return i, &lines[i], true
		}
	}
	return -1, nil, false
}

// Allowed reports whether c gets past pg_hba.conf, that is reaches a line
// whose method is not reject (the client must still pass that method:
// password, certificate …). by is the deciding line, and reason names it:
// "rejected by line 3: host  all  all  0.0.0.0/0  reject",
// "no line matches". An undecided match (see Match) is not allowed.
func Allowed(lines []Line, c Conn, m Membership) (ok bool, by *Line, reason string) {
	idx, l, undecided := Match(lines, c, m)
	if l == nil {
		return false, nil, "no line matches"
	}
	n := l.Number
	if n == 0 {
		n = idx + 1
	}
	switch {
	case undecided:
		return false, l, fmt.Sprintf("cannot decide at line %d: %s (needs the server to evaluate it)", n, l)
	case l.Method == "reject":
		return false, l, fmt.Sprintf("rejected by line %d: %s", n, l)
	}
	return true, l, fmt.Sprintf("allowed by line %d: %s", n, l)
}

// Verdict is Match's decision for one connection, worded for a lockout
// guard's messages.
type Verdict struct {
	Line      *Line  // the deciding line; nil when no line matches
	N         int    // its line number (its position when it has none)
	Text      string // the line, blanks collapsed, secrets redacted
	Undecided bool   // see Match
}

// Decide is Match for a lockout guard: the deciding line with its number
// and text.
func Decide(lines []Line, c Conn, m Membership) Verdict {
	idx, l, undecided := Match(lines, c, m)
	if l == nil {
		return Verdict{}
	}
	v := Verdict{Line: l, N: l.Number, Text: strings.Join(strings.Fields(l.String()), " "), Undecided: undecided}
	if v.N == 0 {
		v.N = idx + 1
	}
	return v
}

func matchLine(l *Line, c Conn, m Membership) tri {
	if !matchType(l.Type, c) {
		return no
	}
	r := yes
	for _, t := range [...]tri{matchAddress(l, c), matchDatabase(l.Databases, c, m), matchUser(l.Users, c, m)} {
		if t == no {
			return no
		}
		if t == maybe {
			r = maybe
		}
	}
	return r
}

func matchType(t ConnType, c Conn) bool {
	if t == Local || c.Local {
		return t == Local && c.Local
	}
	switch t {
	case HostSSL:
		return c.SSL
	case HostNoSSL:
		return !c.SSL
	case HostGSSEnc:
		return c.GSS
	case HostNoGSSEnc:
		return !c.GSS
	}
	return t == Host
}

func matchAddress(l *Line, c Conn) tri {
	if l.Type == Local {
		return yes
	}
	a := l.Address
	ip := c.Addr.WithZone("")
	switch a.Kind {
	case AddrAll:
		return yes
	case AddrIP:
		return triOf(a.Prefix.Contains(ip))
	case AddrMask:
		return triOf(ip.IsValid() && ip.Is4() == a.IP.Is4() && andAddr(ip, a.Mask) == a.IP)
	case AddrSameHost, AddrSameNet, AddrHostname:
		return maybe
	}
	return no
}

// matchDatabase mirrors check_db.
func matchDatabase(tokens []string, c Conn, m Membership) tri {
	return anyToken(tokens, func(v string, bare bool) bool {
		switch {
		case c.Replication: // a physical walsender matches only the keyword
			return bare && v == "replication"
		case bare && v == "all":
			return true
		case bare && v == "sameuser":
			return c.Database == c.User
		case bare && v == "samerole":
			return member(m, c.User, c.Database)
		case bare && v == "replication":
			return false
		}
		return v == c.Database
	})
}

// matchUser mirrors check_role.
func matchUser(tokens []string, c Conn, m Membership) tri {
	return anyToken(tokens, func(v string, bare bool) bool {
		if bare && len(v) > 0 && v[0] == '+' {
			return member(m, c.User, v[1:])
		}
		return v == c.User || bare && v == "all"
	})
}

// anyToken is the loop of check_db and check_role: yes if a token
// matches, else maybe if an @file reference or a regular expression
// might, else no. A token starting with / is a regular expression from
// PostgreSQL 16 (a name before): it is never evaluated here (POSIX
// advanced expressions are not Go's), so the guard stays conservative.
func anyToken(tokens []string, match func(v string, bare bool) bool) tri {
	r := no
	for _, t := range tokens {
		v, bare := unquoteToken(t)
		switch {
		case bare && len(v) > 1 && v[0] == '@':
			r = maybe
		case len(v) > 1 && v[0] == '/' && !match(v, bare):
			r = maybe
		case match(v, bare):
			return yes
		}
	}
	return r
}

func member(m Membership, user, group string) bool {
	return user == group || m != nil && m(user, group)
}

func triOf(b bool) tri {
	if b {
		return yes
	}
	return no
}
