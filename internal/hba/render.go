package hba

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// File is the pg_hba.conf an instance must have.
type File struct {
	Text   string
	Lines  []Line  // the active lines, in file order, numbered as in Text
	Blocks []Block // one per rule, in rendered order
}

// Block is what one HBA rule renders to: a title comment and its lines.
type Block struct {
	Source string // where the rule is declared: "pg_default_hba_rules[0]", "pg_hba_rules[2]"
	Title  string // the rule's title, or the one Render made up
	Role   string // the gating role, default when the rule names none
	Active bool   // false: every line is commented out
	Lines  []Line // the rule's lines (also when inactive), numbered as in Text
}

// Render produces the pg_hba.conf of instance in of cluster c, as
// Pigsty's template would (roles/pgsql/templates/pg_hba.conf in
// pgsty/pigsty), minus the render time, so
// the output is deterministic. Rules are sorted by order (stable; rules
// without order follow in list order), gated by role, and their aliases
// resolved from c.Globals and the cluster's members.
//
// A rule without a title gets "<user>@<db> from <addr> via <auth>" with
// the rule's own (unresolved) values and the defaults all/all/pwd, or
// "raw: <first non-comment line, blanks collapsed>" for raw rules.
//
// Render refuses what Pigsty would abort on (unknown aliases, roles, a
// rule with neither addr nor rules) and, unlike Pigsty, any line that
// PostgreSQL 15 would reject or that could change the file's structure:
// a user, db, title or raw line holding a line break, a raw line ending in
// a backslash (line continuation), a user or db that is not one field.
// Inactive lines are checked too: a switchover activates them.
func Render(c *model.Cluster, in *model.Instance) (*File, error) {
	f, err := render(c, in, postgresDialect)
	if err != nil {
		return nil, fmt.Errorf("render pg_hba.conf of %s: %w", in.Name(), err)
	}
	return f, nil
}

func render(c *model.Cluster, in *model.Instance, d dialect) (*File, error) {
	var w writer
	if err := w.header(c, in, d); err != nil {
		return nil, err
	}
	f := &File{}
	for _, r := range sortRules(d.rules(in), d) {
		b, err := w.block(c, in, r, d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.source, err)
		}
		f.Blocks = append(f.Blocks, b)
		if b.Active {
			f.Lines = append(f.Lines, b.Lines...)
		}
	}
	f.Text = w.b.String()
	return f, nil
}

// sourcedRule is a rule with the place it was declared.
type sourcedRule struct {
	model.HBARule
	source string
}

// sortRules orders rules as Pigsty does (§5.4): rules with order
// ascending, ties in list order, then rules without order in list order.
func sortRules(rules []model.HBARule, d dialect) []sourcedRule {
	var ordered, rest []sourcedRule
	nDefault, nUser := 0, 0
	for _, r := range rules {
		src := d.user + "[" + strconv.Itoa(nUser) + "]"
		if r.Default {
			src = d.defaults + "[" + strconv.Itoa(nDefault) + "]"
			nDefault++
		} else {
			nUser++
		}
		if r.Order != nil {
			ordered = append(ordered, sourcedRule{r, src})
		} else {
			rest = append(rest, sourcedRule{r, src})
		}
	}
	slices.SortStableFunc(ordered, func(a, b sourcedRule) int { return cmp.Compare(*a.Order, *b.Order) })
	return append(ordered, rest...)
}

// writer accumulates the file text and counts its lines.
type writer struct {
	b     strings.Builder
	lines int
}

func (w *writer) line(s string) {
	w.b.WriteString(s)
	w.b.WriteByte('\n')
	w.lines++
}

func (w *writer) header(c *model.Cluster, in *model.Instance, d dialect) error {
	g := c.Globals
	role := string(in.Role)
	if in.OfflineQuery {
		role += ", pg_offline_query"
	}
	rows := [][2]string{
		{"# File      :   ", d.file},
		{"# Desc      :   ", d.desc + " for " + in.Name() + " [" + string(in.Role) + "]"},
		{"# Host      :   ", in.Name() + " @ " + in.IP + ":" + strconv.Itoa(d.portOf(in))},
		{"# Cluster   :   ", c.Name},
		{"# Role      :   ", role},
		{"# Note      :   ", "MANAGED BY PGRECONCILER: any manual edit is reported as drift"},
		{"", "#==============================================================#"},
		{"", ""},
		{"", "# addr alias"},
		{"# local     : ", "unix socket"},
		{"# localhost : ", "unix socket, 127.0.0.1/32, ::1/128"},
		{"# admin     : ", g.AdminIP},
		{"# infra     : ", strings.Join(slices.Sorted(slices.Values(g.InfraIPs)), ", ")},
		{"# intra     : ", strings.Join(g.Intranet, ", ")},
		{"# cluster   : ", strings.Join(c.MemberIPs(), ", ")},
		{"# world     : ", "0.0.0.0/0, ::/0"},
		{"", ""},
		{"", "# user alias"},
		{"# dbsu    :  ", g.DBSU},
		{"# repl    :  ", g.ReplicationUser},
		{"# monitor :  ", g.MonitorUser},
		{"# admin   :  ", g.AdminUser},
		{"", ""},
	}
	w.line("#==============================================================#")
	for _, r := range rows {
		if hasControl(r[1]) {
			return fmt.Errorf("header value %q holds a control character", r[1])
		}
		w.line(r[0] + r[1])
	}
	return nil
}

// block writes one rule: title comment, lines, blank line.
func (w *writer) block(c *model.Cluster, in *model.Instance, r sourcedRule, d dialect) (Block, error) {
	role := r.Role
	if role == "" {
		role = "default"
	}
	if err := checkRole(role); err != nil {
		return Block{}, err
	}
	b := Block{Source: r.source, Title: r.Title, Role: role, Active: gateActive(role, in)}
	if b.Title == "" {
		b.Title = defaultTitle(r.HBARule)
	}
	if err := checkTitle(b.Title); err != nil {
		return Block{}, err
	}
	texts, err := ruleLines(r.HBARule, c, d)
	if err != nil {
		return Block{}, err
	}
	title := "# " + b.Title + " [" + role + "]"
	prefix := ""
	if !b.Active {
		title += " [DISABLED]"
		prefix = "#"
	}
	w.line(title)
	for _, t := range texts {
		l, err := d.parseLine(t)
		if err != nil {
			return Block{}, err
		}
		w.line(prefix + t)
		if l != nil {
			l.Number = w.lines
			b.Lines = append(b.Lines, *l)
		}
	}
	w.line("")
	return b, nil
}

// gateActive is Pigsty's role gating.
func gateActive(role string, in *model.Instance) bool {
	return role == "default" || role == "common" || role == string(in.Role) ||
		role == "offline" && in.OfflineQuery
}

// ruleLines returns the uncommented text lines of a rule.
func ruleLines(r model.HBARule, c *model.Cluster, d dialect) ([]string, error) {
	if len(r.Rules) > 0 {
		return r.Rules, nil
	}
	if r.Addr == "" {
		return nil, fmt.Errorf("no rules or addr defined in hba rule")
	}
	g := c.Globals
	user, db := resolveUser(r.User, g), r.DB
	if db == "" {
		db = "all"
	}
	for _, v := range [...][2]string{{"user", user}, {"db", db}} {
		if err := checkField(v[0], v[1]); err != nil {
			return nil, err
		}
	}
	if err := d.checkFields(user, db); err != nil {
		return nil, err
	}
	method, ssl, err := resolveAuth(r.Auth, g, d)
	if err != nil {
		return nil, err
	}
	cols := func(typ, addr string) string {
		return fmt.Sprintf("%-8s %-18s %-18s %-18s %s", typ, db, user, addr, method)
	}
	local := fmt.Sprintf("local    %-18s %-18s                    %s", db, user, method)
	switch r.Addr {
	case "local":
		return []string{local}, nil
	case "localhost":
		return []string{local, cols("host", "127.0.0.1/32"), cols("host", "::1/128")}, nil
	}
	addrs, err := resolveAddr(r.Addr, c)
	if err != nil {
		return nil, err
	}
	typ := "host"
	if ssl {
		typ = "hostssl"
	}
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = cols(typ, a)
	}
	return out, nil
}

// checkField requires a user or db value to be exactly one pg_hba.conf
// field (a comma list is fine), so that it cannot shift the columns.
func checkField(name, v string) error {
	if hasControl(v) {
		return fmt.Errorf("%s %q holds a control character", name, v)
	}
	// A trailing field shows an unquoted '#' (comment), an open quote or a
	// trailing comma swallowing the rest of the line.
	if len(tokenizeLine(v)) != 1 || len(tokenizeLine(v+" x")) != 2 {
		return fmt.Errorf("%s %q is not a single pg_hba.conf field: quote it or use raw rules", name, v)
	}
	return nil
}

func defaultTitle(r model.HBARule) string {
	if len(r.Rules) > 0 {
		for _, raw := range r.Rules {
			if f := strings.Fields(RedactText(raw)); len(f) > 0 && !strings.HasPrefix(f[0], "#") {
				return "raw: " + strings.Join(f, " ")
			}
		}
		return "raw rules"
	}
	user, db, auth := r.User, r.DB, r.Auth
	if user == "" {
		user = "all"
	}
	if db == "" {
		db = "all"
	}
	if auth == "" {
		auth = "pwd"
	}
	return user + "@" + db + " from " + r.Addr + " via " + auth
}

func hasControl(s string) bool { return strings.ContainsFunc(s, unicode.IsControl) }
