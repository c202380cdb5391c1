package hba

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// PgBouncer reads pgb_hba.conf (auth_type = hba, auth_hba_file) with a
// parser of its own that knows a subset of pg_hba.conf and skips, with a
// warning in its log only, every line it cannot read. A skipped allow line
// locks its users out; a skipped reject line lets them in. So a
// pgb_hba.conf line is accepted here only when PostgreSQL 15 reads it
// (ParseRawLine) and PgBouncer 1.18 reads it the same way, which
// means (src/hba.c of 1.18, checked against the real program by this
// package's pgbouncer oracle test):
//
//   - types local, host, hostssl, hostnossl;
//   - database all, sameuser or names; user all or names: no +group (the
//     line is skipped), no samerole, samegroup or replication, no @file;
//   - no double quotes: PgBouncer ends a bare token at a quote and does not
//     join a"b c" as PostgreSQL does;
//   - an address as IP/bits or IP and mask, without host bits set (PgBouncer
//     compares the masked client address with the unmasked one, so such a
//     line never matches); no all, samehost, samenet or host names;
//   - methods trust, reject, md5, password, peer, cert, scram-sha-256 (not
//     ident: PostgreSQL reads ident on a local line as peer, PgBouncer skips
//     it; Pigsty renders os and ident as peer for PgBouncer), and no options;
//   - one physical line per record: PgBouncer does not join a line ending
//     in a backslash to the next one.

// dialect is what differs between the two programs that read a
// pg_hba.conf-format file Pigsty renders.
type dialect struct {
	program        string // who reads the file
	file           string // the file's name, for messages and the header
	desc           string // the header's description
	defaults, user string // the rule lists, for Block.Source
	identMethod    string // what the auth aliases os and ident render to
	portOf         func(*model.Instance) int
	rules          func(*model.Instance) []model.HBARule
	parseLine      func(string) (*Line, error)
	checkFields    func(user, db string) error
}

var postgresDialect = dialect{
	program: "PostgreSQL", file: "pg_hba.conf", desc: "Postgres HBA Rules",
	defaults: "pg_default_hba_rules", user: "pg_hba_rules",
	identMethod: "ident",
	portOf:      func(in *model.Instance) int { return in.Port },
	rules:       func(in *model.Instance) []model.HBARule { return in.HBA },
	parseLine:   ParseRawLine,
	checkFields: func(string, string) error { return nil },
}

var pgbouncerDialect = dialect{
	program: "PgBouncer", file: "pgb_hba.conf", desc: "PgBouncer HBA Rules",
	defaults: "pgb_default_hba_rules", user: "pgb_hba_rules",
	identMethod: "peer",
	portOf:      func(in *model.Instance) int { return in.Pooler.Port },
	rules:       func(in *model.Instance) []model.HBARule { return in.Pooler.HBA },
	parseLine:   ParsePgBouncerLine,
	checkFields: checkPgBouncerFields,
}

// RenderPgBouncer produces the pgb_hba.conf of the PgBouncer beside
// instance in, from in.Pooler.HBA, as Pigsty's pgbouncer.hba template
// would: Render's aliases, gating, ordering and layout, with PgBouncer's
// auth mapping (os and ident render as peer) and its refusals (db
// replication, which Pigsty aborts on, and every line PgBouncer would skip,
// see ParsePgBouncerLine). Block.Source names pgb_default_hba_rules and
// pgb_hba_rules.
func RenderPgBouncer(c *model.Cluster, in *model.Instance) (*File, error) {
	f, err := render(c, in, pgbouncerDialect)
	if err != nil {
		return nil, fmt.Errorf("render pgb_hba.conf of %s: %w", in.Name(), err)
	}
	return f, nil
}

// CheckPgBouncerRule is CheckRule for an entry of pgb_default_hba_rules or
// pgb_hba_rules: the same checks with PgBouncer's auth mapping, plus db
// replication and a +group user refused, and raw lines checked with
// ParsePgBouncerLine.
func CheckPgBouncerRule(r model.HBARule) error { return checkRule(r, pgbouncerDialect) }

// ParsePgBouncerLine is ParseRawLine for a line of pgb_hba.conf: a line
// that PostgreSQL 15 accepts and PgBouncer 1.18 reads the same way (see
// the package's PgBouncer notes above), or nil for a blank or comment line.
func ParsePgBouncerLine(s string) (*Line, error) {
	l, err := ParseRawLine(s)
	if err != nil || l == nil {
		return l, err
	}
	if msg := pgbouncerSubset(*l, tokenizeLine(s)); msg != "" {
		return nil, fmt.Errorf("pgb_hba.conf line %q: %s", RedactText(s), msg)
	}
	return l, nil
}

// ParsePgBouncer reads a live pgb_hba.conf as PgBouncer 1.18 does: its
// records in order, plus one error per line PgBouncer would skip (or that
// PostgreSQL's syntax refuses, which PgBouncer may read differently).
// Skipped lines are left out of the lines, as PgBouncer leaves them out.
func ParsePgBouncer(text string) ([]Line, []error) {
	var lines []Line
	var errs []error
	phys := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	for i, raw := range phys {
		if text == "" {
			break
		}
		l, err := ParsePgBouncerLine(strings.TrimRight(raw, "\r"))
		if err != nil {
			errs = append(errs, &ParseError{Line: i + 1, Msg: strings.TrimPrefix(err.Error(), "pgb_hba.conf ")})
			continue
		}
		if l != nil {
			l.Number = i + 1
			lines = append(lines, *l)
		}
	}
	return lines, errs
}

// pgbouncerMethods are the methods PgBouncer 1.18's HBA parser knows.
var pgbouncerMethods = map[string]bool{
	"trust": true, "reject": true, "md5": true, "password": true, "peer": true, "cert": true, "scram-sha-256": true,
}

// pgbouncerSubset says why PgBouncer would skip (or read otherwise) the
// line l that PostgreSQL reads from fields, or "".
func pgbouncerSubset(l Line, fields [][]token) string {
	switch l.Type {
	case Local, Host, HostSSL, HostNoSSL:
	default:
		return fmt.Sprintf("PgBouncer does not know connection type %s and skips the line", l.Type)
	}
	for _, f := range fields {
		for _, t := range f {
			if t.quoted || strings.Contains(t.s, `"`) {
				return "PgBouncer reads double quotes differently from PostgreSQL; write the names without quotes"
			}
		}
	}
	for _, t := range fields[1] {
		switch {
		case t.s == "samerole" || t.s == "samegroup" || t.s == "replication":
			return fmt.Sprintf("PgBouncer does not support database %s and skips the line", t.s)
		case strings.HasPrefix(t.s, "@"):
			return "PgBouncer would read " + t.s + " relative to pgb_hba.conf, a file not managed here; list the names"
		}
	}
	for _, t := range fields[2] {
		switch {
		case t.s == "sameuser" || t.s == "samerole" || t.s == "samegroup" || t.s == "replication":
			return fmt.Sprintf("PgBouncer reads %s in the user column as a database keyword, not as a user name", t.s)
		case strings.HasPrefix(t.s, "+"):
			return fmt.Sprintf("PgBouncer 1.18 does not support group %s (+role) and skips the line; list the users", t.s)
		case strings.HasPrefix(t.s, "@"):
			return "PgBouncer would read " + t.s + " relative to pgb_hba.conf, a file not managed here; list the names"
		}
	}
	methodField := 3
	if l.Type != Local {
		if l.Address.Kind != AddrIP && l.Address.Kind != AddrMask {
			return fmt.Sprintf("PgBouncer accepts only IP addresses with a mask, not %s, and skips the line", l.Address)
		}
		addr := fields[3][0].s
		if p, err := netip.ParsePrefix(addr); err == nil { // IP/bits
			methodField = 4
			if p != p.Masked() {
				return fmt.Sprintf("address %s has host bits set: PgBouncer never matches it (PostgreSQL reads it as %s); write that", p, p.Masked())
			}
		} else { // IP and mask
			methodField = 5
			ip, err1 := netip.ParseAddr(addr)
			mask, err2 := netip.ParseAddr(fields[4][0].s)
			if err1 == nil && err2 == nil && andAddr(ip, mask) != ip {
				return fmt.Sprintf("address %s has host bits set for mask %s: PgBouncer never matches it; write %s", ip, mask, andAddr(ip, mask))
			}
		}
	}
	if m := fields[methodField][0].s; !pgbouncerMethods[m] {
		return fmt.Sprintf("PgBouncer does not support method %s and skips the line", m)
	}
	if len(l.Options) > 0 || len(fields) > methodField+1 {
		return "PgBouncer accepts no authentication options and skips the line"
	}
	return ""
}

// checkPgBouncerFields refuses the rule fields Pigsty's pgbouncer.hba
// aborts on (db replication) and a +group user, which PgBouncer 1.18
// skips.
func checkPgBouncerFields(user, db string) error {
	var errs []error
	if db == "replication" {
		errs = append(errs, errors.New("db replication is not allowed in pgb_hba.conf (Pigsty aborts; PgBouncer does not pool replication connections)"))
	}
	if strings.HasPrefix(user, "+") {
		errs = append(errs, fmt.Errorf("user %s: PgBouncer 1.18 does not support groups (+role) and would skip the line; list the users", user))
	}
	return errors.Join(errs...)
}
