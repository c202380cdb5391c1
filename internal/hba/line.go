package hba

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strings"
)

// ConnType is the first column of a pg_hba.conf line.
type ConnType string

// The connection types PostgreSQL 15 knows.
const (
	Local        ConnType = "local"
	Host         ConnType = "host"
	HostSSL      ConnType = "hostssl"
	HostNoSSL    ConnType = "hostnossl"
	HostGSSEnc   ConnType = "hostgssenc"
	HostNoGSSEnc ConnType = "hostnogssenc"
)

// Line is one pg_hba.conf record in semantic form: two Lines that
// PostgreSQL would treat the same have the same Key.
//
// Databases and Users hold tokens as they would be written in the file:
// a keyword (all, sameuser, samerole, replication; all and +group in the
// user column) is bare, a literal name that would otherwise read as a
// keyword or holds blanks, commas, '#' or '"' is double-quoted, and an
// @file reference is kept verbatim (never expanded). samegroup is
// normalised to samerole.
type Line struct {
	Number    int // line in the source text (first line of a continued record); 0 if none
	Type      ConnType
	Databases []string
	Users     []string
	Address   Address // zero for local lines
	Method    string  // as PostgreSQL reports it: ident on a local line is peer
	Options   []Option
}

// Option is one name=value authentication option. Lines built by this
// package hold one Option per name (the last one written wins, as in
// PostgreSQL), sorted by name, with implied defaults removed.
type Option struct {
	Name, Value string
}

// AddrKind says how a host line's address column matches.
type AddrKind uint8

// Address kinds.
const (
	AddrNone     AddrKind = iota // local lines have no address
	AddrIP                       // an IP range, Address.Prefix
	AddrMask                     // an IP and a non-contiguous netmask, Address.IP and Address.Mask
	AddrAll                      // the keyword all
	AddrSameHost                 // the keyword samehost
	AddrSameNet                  // the keyword samenet
	AddrHostname                 // a host name (or .suffix), Address.Host
)

// Address is the address column of a host line, normalised: "10.1.2.3/8",
// "10.0.0.0 255.0.0.0" and the pg_hba_file_rules pair (10.0.0.0,
// 255.0.0.0) are all the Prefix 10.0.0.0/8.
type Address struct {
	Kind     AddrKind
	Prefix   netip.Prefix // AddrIP, masked
	IP, Mask netip.Addr   // AddrMask, IP masked
	Host     string       // AddrHostname, unquoted
}

// String is the address as it would be written in pg_hba.conf.
func (a Address) String() string {
	switch a.Kind {
	case AddrIP:
		return a.Prefix.String()
	case AddrMask:
		return a.IP.String() + " " + a.Mask.String()
	case AddrAll:
		return "all"
	case AddrSameHost:
		return "samehost"
	case AddrSameNet:
		return "samenet"
	case AddrHostname:
		return canonToken(a.Host, true, colAddress)
	}
	return ""
}

// secretOptions hold credentials; their values never appear in String and
// appear in Key only as a digest.
var secretOptions = map[string]bool{"ldapbindpasswd": true, "radiussecrets": true}

// RedactText is pg_hba.conf text as written, valid or not, with the value
// of every secret option replaced by <redacted>, for messages that quote a
// raw line (String does the same for a parsed one). A value is the rest
// of the blank-delimited word after the option's name and "=" (quotes
// hide blanks), and the next word when the name or "=" stands alone, so a
// value that PostgreSQL would split or refuse ("ldapbindpasswd= pw",
// radiussecrets=a,b unquoted) is hidden whole; names are matched in any
// case, in comments too.
func RedactText(s string) string {
	out, _ := redactText(s)
	return out
}

// redactText also returns the tokens the hidden values hold, as the
// tokenizer reads them (PostgreSQL's messages may quote one).
func redactText(s string) (string, []string) {
	lower := []byte(s) // ASCII only: offsets must stay those of s
	for i, c := range lower {
		if 'A' <= c && c <= 'Z' {
			lower[i] = c + 'a' - 'A'
		}
	}
	var b strings.Builder
	var hidden []string
	for i := 0; i < len(s); {
		at, name := -1, ""
		for o := range secretOptions {
			if j := bytes.Index(lower[i:], []byte(o)); j >= 0 && (at < 0 || i+j < at) {
				at, name = i+j, o
			}
		}
		if at < 0 {
			b.WriteString(s[i:])
			break
		}
		start := at + len(name)
		for start < len(s) && isBlank(s[start]) {
			start++
		}
		if start < len(s) && s[start] == '=' {
			start++
			for start < len(s) && isBlank(s[start]) {
				start++
			}
		}
		end := start
		for inQuote := false; end < len(s) && (inQuote || !isBlank(s[end]) && s[end] != '\n'); end++ {
			if s[end] == '"' {
				inQuote = !inQuote
			}
		}
		b.WriteString(s[i:start])
		if end > start {
			b.WriteString("<redacted>")
			for _, f := range tokenizeLine(s[start:end]) {
				for _, t := range f {
					hidden = append(hidden, t.s)
				}
			}
		}
		i = end
	}
	return b.String(), hidden
}

// Key is the canonical text of the line, fields separated by two spaces;
// secret option values are replaced by a digest. Equal lines have equal
// Keys.
func (l Line) Key() string { return l.format(hashSecret) }

// String is the canonical text of the line with secret option values
// redacted, for plans, logs and messages:
// "host  all  dbuser_dba  0.0.0.0/0  scram-sha-256".
func (l Line) String() string {
	return l.format(func(string) string { return "<redacted>" })
}

// text is the canonical pg_hba.conf text of the line, secrets included.
func (l Line) text() string { return l.format(func(v string) string { return v }) }

func (l Line) format(secret func(string) string) string {
	f := make([]string, 0, 6+len(l.Options))
	f = append(f, string(l.Type), strings.Join(l.Databases, ","), strings.Join(l.Users, ","))
	if l.Type != Local {
		f = append(f, l.Address.String())
	}
	f = append(f, l.Method)
	for _, o := range l.Options {
		v := o.Value
		if secretOptions[o.Name] {
			v = secret(v)
		}
		f = append(f, canonToken(o.Name+"="+v, false, colOther))
	}
	return strings.Join(f, "  ")
}

func hashSecret(v string) string {
	sum := sha256.Sum256([]byte(v))
	return "sha256:" + hex.EncodeToString(sum[:8])
}

// Equal reports whether PostgreSQL treats a and b the same (line numbers
// are ignored). Both must come from Parse, FromRow, ParseRawLine or Render,
// which normalise.
func Equal(a, b Line) bool { return a.Key() == b.Key() }

// column says which pg_hba.conf column a token is in: keywords differ.
type column uint8

const (
	colDatabase column = iota
	colUser
	colAddress
	colOther
)

var dbKeywords = map[string]bool{"all": true, "sameuser": true, "samerole": true, "samegroup": true, "replication": true}
var addrKeywords = map[string]bool{"all": true, "samehost": true, "samenet": true}

// special reports whether s, written bare in column col, means something
// other than the literal name s.
func special(s string, col column) bool {
	if len(s) > 1 && s[0] == '@' {
		return true
	}
	switch col {
	case colDatabase:
		return dbKeywords[s]
	case colUser:
		return s == "all" || strings.HasPrefix(s, "+")
	case colAddress:
		return addrKeywords[s]
	}
	return false
}

// needsQuotes reports whether s cannot be written as one bare token.
func needsQuotes(s string) bool {
	// A trailing backslash would continue the line if the token ended it.
	return s == "" || strings.ContainsAny(s, " \t\r,#\"") || strings.HasSuffix(s, `\`)
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// canonToken writes token s (quoted tells whether it began with a double
// quote) so that PostgreSQL reads it back with the same meaning.
func canonToken(s string, quoted bool, col column) string {
	if special(s, col) {
		if quoted {
			return quote(s)
		}
		if col == colDatabase && s == "samegroup" {
			return "samerole"
		}
		if needsQuotes(s[1:]) { // +"my group", @"my file"
			return s[:1] + quote(s[1:])
		}
		return s
	}
	if needsQuotes(s) {
		return quote(s)
	}
	return s
}

// unquoteToken splits a canonical token into its value and whether it is
// the bare (keyword-capable) form.
func unquoteToken(t string) (value string, bare bool) {
	inner := func(q string) string { return strings.ReplaceAll(strings.TrimSuffix(q[1:], `"`), `""`, `"`) }
	if strings.HasPrefix(t, `"`) {
		return inner(t), false
	}
	if len(t) > 1 && (t[0] == '+' || t[0] == '@') && t[1] == '"' {
		return t[:1] + inner(t[1:]), true
	}
	return t, true
}
