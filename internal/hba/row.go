package hba

import (
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// RowError returns why PostgreSQL rejected the line of a
// pg_hba_file_rules row, or "" if it accepted it. PostgreSQL (seen on 15)
// rejects some lines without a message in the view (an invalid clientcert
// value, a RADIUS server name that does not resolve: the reason goes only
// to the server log); such a row has neither type nor error, and RowError
// says so.
func RowError(r model.HBARow) string {
	switch {
	case r.Error != "":
		return r.Error
	case r.Type == "":
		return "rejected without a message (the server logs the reason only in its log)"
	}
	return ""
}

// FromRow converts a pg_hba_file_rules row into the semantic form Parse
// produces, so that Equal(FromRow(row), parsed) holds for the same record.
// Callers check RowError first: an error row yields only its number.
//
// The view is lossy, and FromRow cannot undo that:
//   - quotes are gone: a quoted "all" (a database or role literally named
//     all), "replication", "+name" or "samehost" is reported exactly like
//     the keyword, so FromRow reads it as the keyword; compare such files
//     through Parse of the file text instead;
//   - @file references arrive expanded;
//   - clientname=DN and pam_use_hostname are not shown; LDAP options are
//     shown rewritten (ldapurl split into its parts).
func FromRow(r model.HBARow) Line {
	l := Line{Number: r.Line}
	if RowError(r) != "" {
		return l
	}
	l.Type = ConnType(r.Type)
	l.Databases = canonTokens(bareTokens(r.Database), colDatabase)
	l.Users = canonTokens(bareTokens(r.User), colUser)
	if l.Type != Local {
		l.Address = rowAddress(r.Address, r.Netmask)
	}
	l.Method = r.AuthMethod
	opts := make([]Option, 0, len(r.Options))
	for _, o := range r.Options {
		name, val, _ := strings.Cut(o, "=")
		opts = append(opts, Option{Name: name, Value: val})
	}
	l.Options = normalizeOptions(l.Method, opts, true)
	return l
}

func bareTokens(ss []string) []token {
	ts := make([]token, len(ss))
	for i, s := range ss {
		ts[i] = token{s: s}
	}
	return ts
}

func rowAddress(addr, mask string) Address {
	switch addr {
	case "all":
		return Address{Kind: AddrAll}
	case "samehost":
		return Address{Kind: AddrSameHost}
	case "samenet":
		return Address{Kind: AddrSameNet}
	}
	ip, ok := numericHost(addr)
	if !ok || mask == "" {
		return Address{Kind: AddrHostname, Host: addr}
	}
	m, ok := numericHost(mask)
	if !ok || m.Is4() != ip.Is4() {
		return Address{Kind: AddrHostname, Host: addr}
	}
	return addressWithMask(ip, m)
}
