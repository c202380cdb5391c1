package plan

import (
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/pgconf"
)

// Render returns the statements that carry out the intent of c on a
// server of version (server_version_num), in this order: the role, the
// database, the schema, the extension, the membership, the password, the
// comment, the settings, the grants, the default privileges, the
// parameter. It is what package diff puts in c.Statements. A report or a
// note renders none (a report's intent is what was not planned), nor does
// a change whose intent holds no SQL (pg_hba.conf).
//
// Identifiers go through pgx.Identifier.Sanitize, strings through
// pgconf.QuoteLiteral, setting values through pgconf.QuoteValue; a
// password or a value that may hold a credential travels in
// Statement.Password, never in the SQL.
func (c *Change) Render(version int) []Statement {
	if c.Action == ActionReport || c.Action == ActionNote {
		return nil
	}
	var out []Statement
	if c.Role != nil {
		out = c.Role.render(out, c.Action)
	}
	if c.Database != nil {
		out = c.Database.render(out, c.Action)
	}
	if c.Schema != nil {
		out = c.Schema.render(out, c.Action)
	}
	if c.Extension != nil {
		out = c.Extension.render(out, c.Action)
	}
	if c.Membership != nil {
		out = c.Membership.render(out, c.Action, version)
	}
	if p := c.Password; p != nil {
		out = append(out, Statement{SQL: "ALTER ROLE " + ident(p.Role) + " PASSWORD " + PasswordPlaceholder,
			Password: p.Password, PasswordRole: p.Role, PasswordEncryption: p.Encryption})
	}
	if cm := c.Comment; cm != nil {
		out = append(out, Statement{SQL: "COMMENT ON " + onKeyword(cm.On) + " " + ident(cm.Name) + " IS " + pgconf.QuoteLiteral(cm.Text)})
	}
	if s := c.Settings; s != nil {
		alter := "ALTER " + onKeyword(s.On) + " " + ident(s.Name)
		for _, st := range s.Settings {
			if st.Reset {
				out = append(out, Statement{SQL: alter + " RESET " + ident(st.Name)})
			} else {
				out = append(out, Statement{SQL: alter + " SET " + ident(st.Name) + " = " + pgconf.QuoteValue(st.Name, st.Value)})
			}
		}
	}
	for _, g := range c.Grants {
		out = append(out, g.statement())
	}
	if dp := c.DefaultPrivileges; dp != nil {
		for _, g := range dp.Grants {
			out = append(out, Statement{Database: dp.Database, SQL: "ALTER DEFAULT PRIVILEGES FOR ROLE " + ident(dp.Owner) +
				" GRANT " + strings.Join(g.Privileges, ", ") + " ON " + g.ObjectType + " TO " + grantee(g.Grantee) + withGrantOption(g.Option)})
		}
	}
	if p := c.Parameter; p != nil {
		out = append(out, p.statement())
	}
	return out
}

func (r *RoleChange) render(out []Statement, a Action) []Statement {
	name := ident(r.Name)
	switch a {
	case ActionCreate:
		return append(out, Statement{SQL: joinSQL("CREATE ROLE "+name, r.Attrs.Clauses())})
	case ActionChange:
		if !r.Attrs.Empty() {
			out = append(out, Statement{SQL: joinSQL("ALTER ROLE "+name, r.Attrs.Clauses())})
		}
	case ActionRemove:
		if r.Drop == nil {
			return out
		}
		out = append(out, Statement{SQL: "ALTER ROLE " + name + " NOLOGIN"},
			Statement{SQL: "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = " + pgconf.QuoteLiteral(r.Name) +
				" AND pid <> pg_backend_pid()"})
		for _, db := range r.Drop.Databases {
			out = append(out, Statement{Database: db, SQL: "REASSIGN OWNED BY " + name + " TO " + ident(r.Drop.Successor)},
				Statement{Database: db, SQL: "DROP OWNED BY " + name})
		}
		out = append(out, Statement{SQL: "DROP ROLE " + name})
	}
	return out
}

// Clauses are the attributes as CREATE/ALTER ROLE lists them.
func (a RoleAttrs) Clauses() []string {
	n := 0
	for attr := AttrLogin; attr <= lastFlag; attr++ {
		if a.Flag(attr) != nil {
			n++
		}
	}
	if a.ConnLimit != nil {
		n++
	}
	if a.ValidUntil != "" {
		n++
	}
	out := make([]string, 0, n)
	for attr := AttrLogin; attr <= lastFlag; attr++ {
		if v := a.Flag(attr); v != nil {
			out = append(out, FlagKeyword(attr, *v))
		}
	}
	if a.ConnLimit != nil {
		out = append(out, "CONNECTION LIMIT "+itoa(*a.ConnLimit))
	}
	if a.ValidUntil != "" {
		out = append(out, "VALID UNTIL "+pgconf.QuoteLiteral(a.ValidUntil))
	}
	return out
}

func (m *MembershipChange) render(out []Statement, a Action, version int) []Statement {
	member := ident(m.Member)
	pg16 := version >= 160000
	switch a {
	case ActionRemove:
		for _, r := range m.Roles {
			out = revokeGranted(out, "REVOKE "+ident(r)+" FROM "+member, m.Grantors)
		}
	case ActionCreate:
		sql := "GRANT " + identList(m.Roles) + " TO " + member
		if opts := m.Options(version); len(opts) > 0 {
			sql += " WITH " + strings.Join(opts, ", ")
		}
		out = append(out, Statement{SQL: sql})
	case ActionChange:
		for _, r := range m.Roles {
			for _, o := range [...]struct {
				name string
				v    *bool
			}{{"ADMIN", m.Admin}, {"INHERIT", m.Inherit}, {"SET", m.Set}} {
				switch {
				case o.v == nil:
				case *o.v && pg16:
					out = append(out, Statement{SQL: "GRANT " + ident(r) + " TO " + member + " WITH " + o.name + " TRUE"})
				case *o.v:
					out = append(out, Statement{SQL: "GRANT " + ident(r) + " TO " + member + " WITH " + o.name + " OPTION"})
				default:
					out = revokeGranted(out, "REVOKE "+o.name+" OPTION FOR "+ident(r)+" FROM "+member, m.OptionGrantors[o.name])
				}
			}
		}
	}
	return out
}

// revokeGranted appends sql once per grantor, GRANTED BY it ("" without),
// or once without grantors.
func revokeGranted(out []Statement, sql string, grantors []string) []Statement {
	if len(grantors) == 0 {
		return append(out, Statement{SQL: sql})
	}
	for _, g := range grantors {
		if g == "" {
			out = append(out, Statement{SQL: sql})
			continue
		}
		out = append(out, Statement{SQL: sql + " GRANTED BY " + ident(g)})
	}
	return out
}

// Options is the WITH clause of a new membership on a server of version:
// ADMIN (only when granted), and on PostgreSQL 16 and later INHERIT and
// SET.
func (m *MembershipChange) Options(version int) []string {
	var opts []string
	pg16 := version >= 160000
	if m.Admin != nil && *m.Admin {
		opts = append(opts, pick(pg16, "ADMIN TRUE", "ADMIN OPTION"))
	}
	if pg16 && m.Inherit != nil {
		opts = append(opts, "INHERIT "+pick(*m.Inherit, "TRUE", "FALSE"))
	}
	if pg16 && m.Set != nil {
		opts = append(opts, "SET "+pick(*m.Set, "TRUE", "FALSE"))
	}
	return opts
}

func (d *DatabaseChange) render(out []Statement, a Action) []Statement {
	name := ident(d.Name)
	if a == ActionCreate {
		return append(out, Statement{SQL: joinSQL("CREATE DATABASE "+name, d.CreateClauses()), NoTx: true})
	}
	alter := "ALTER DATABASE " + name
	if d.Owner != "" {
		out = append(out, Statement{SQL: alter + " OWNER TO " + ident(d.Owner)})
	}
	if d.ConnLimit != nil {
		out = append(out, Statement{SQL: alter + " CONNECTION LIMIT " + itoa(*d.ConnLimit)})
	}
	if d.AllowConn != nil {
		out = append(out, Statement{SQL: alter + " ALLOW_CONNECTIONS " + onOff(*d.AllowConn)})
	}
	if d.IsTemplate != nil {
		out = append(out, Statement{SQL: alter + " IS_TEMPLATE " + onOff(*d.IsTemplate)})
	}
	if d.Tablespace != "" {
		out = append(out, Statement{SQL: alter + " SET TABLESPACE " + ident(d.Tablespace), NoTx: true})
	}
	if a == ActionRemove {
		out = append(out, Statement{SQL: "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)", NoTx: true})
	}
	return out
}

// CreateClauses are the options of CREATE DATABASE, in PostgreSQL's
// order.
func (d *DatabaseChange) CreateClauses() []string {
	var opts []string
	add := func(key, v string, quote func(string) string) {
		if v != "" {
			opts = append(opts, key+" "+quote(v))
		}
	}
	bare := func(s string) string { return s }
	add("OWNER", d.Owner, ident)
	add("TEMPLATE", d.Template, ident)
	add("ENCODING", d.Encoding, pgconf.QuoteLiteral)
	add("STRATEGY", d.Strategy, bare)
	add("LOCALE", d.Locale, pgconf.QuoteLiteral)
	add("LC_COLLATE", d.LCCollate, pgconf.QuoteLiteral)
	add("LC_CTYPE", d.LCCtype, pgconf.QuoteLiteral)
	add("LOCALE_PROVIDER", d.LocaleProvider, bare)
	add("ICU_LOCALE", d.ICULocale, pgconf.QuoteLiteral)
	add("ICU_RULES", d.ICURules, pgconf.QuoteLiteral)
	add("BUILTIN_LOCALE", d.BuiltinLocale, pgconf.QuoteLiteral)
	add("TABLESPACE", d.Tablespace, ident)
	if d.AllowConn != nil {
		opts = append(opts, "ALLOW_CONNECTIONS "+onOff(*d.AllowConn))
	}
	if d.ConnLimit != nil {
		opts = append(opts, "CONNECTION LIMIT "+itoa(*d.ConnLimit))
	}
	if d.IsTemplate != nil {
		opts = append(opts, "IS_TEMPLATE "+onOff(*d.IsTemplate))
	}
	return opts
}

func (s *SchemaChange) render(out []Statement, a Action) []Statement {
	st := Statement{Database: s.Database}
	switch a {
	case ActionCreate:
		st.SQL = "CREATE SCHEMA IF NOT EXISTS " + ident(s.Name)
		if s.Owner != "" {
			st.SQL += " AUTHORIZATION " + ident(s.Owner)
		}
	case ActionChange:
		st.SQL = "ALTER SCHEMA " + ident(s.Name) + " OWNER TO " + ident(s.Owner)
	case ActionRemove:
		st.SQL = "DROP SCHEMA IF EXISTS " + ident(s.Name) + " CASCADE"
	default:
		return out
	}
	return append(out, st)
}

func (e *ExtensionChange) render(out []Statement, a Action) []Statement {
	name := ident(e.Name)
	switch a {
	case ActionCreate:
		sql := "CREATE EXTENSION IF NOT EXISTS " + name
		if e.Schema != "" {
			sql += " WITH SCHEMA " + ident(e.Schema)
		}
		if e.Version != "" {
			sql += " VERSION " + pgconf.QuoteLiteral(e.Version)
		}
		out = append(out, Statement{Database: e.Database, SQL: sql + " CASCADE"})
	case ActionChange:
		if e.Version != "" {
			out = append(out, Statement{Database: e.Database, SQL: "ALTER EXTENSION " + name + " UPDATE TO " + pgconf.QuoteLiteral(e.Version)})
		}
		if e.Schema != "" {
			out = append(out, Statement{Database: e.Database, SQL: "ALTER EXTENSION " + name + " SET SCHEMA " + ident(e.Schema)})
		}
	case ActionRemove:
		out = append(out, Statement{Database: e.Database, SQL: "DROP EXTENSION IF EXISTS " + name + " CASCADE"})
	}
	return out
}

// statement is the GRANT or REVOKE of g: on a database it runs in the
// maintenance database, on a schema in the schema's database.
func (g Grant) statement() Statement {
	verb, to := "GRANT ", " TO "
	if g.Revoke {
		verb, to = "REVOKE ", " FROM "
	}
	on := "DATABASE " + ident(g.Database)
	db := ""
	if g.On == OnSchema {
		on, db = "SCHEMA "+schemaName(g.Schema), g.Database
	}
	return Statement{Database: db, SQL: verb + strings.Join(g.Privileges, ", ") + " ON " + on + to + grantee(g.Grantee) + withGrantOption(g.Option)}
}

// statement is the ALTER SYSTEM of p. A value that may hold a credential
// (pgconf.MaySecret) is its Password, never part of its SQL.
func (p *ParameterChange) statement() Statement {
	name := ident(p.Name)
	if p.Reset {
		return Statement{SQL: "ALTER SYSTEM RESET " + name, NoTx: true}
	}
	value := p.Value.Reveal()
	if value == "" || !pgconf.MaySecret(p.Name) {
		return Statement{SQL: "ALTER SYSTEM SET " + name + " = " + pgconf.QuoteValue(p.Name, value), NoTx: true}
	}
	return Statement{SQL: "ALTER SYSTEM SET " + name + " = " + PasswordPlaceholder, Password: model.NewSecret(value), NoTx: true}
}

// ident quotes an identifier the way PostgreSQL reads it back verbatim.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

func identList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = ident(n)
	}
	return strings.Join(q, ", ")
}

// schemaName is a schema in a GRANT: public bare, as Pigsty's SQL writes
// it (it reads the same), any other quoted.
func schemaName(s string) string {
	if s == "public" {
		return s
	}
	return ident(s)
}

func grantee(role string) string {
	if role == "" {
		return "PUBLIC"
	}
	return ident(role)
}

func withGrantOption(option bool) string { return pick(option, " WITH GRANT OPTION", "") }

func onKeyword(o ObjectType) string { return strings.ToUpper(string(o)) }

func joinSQL(head string, clauses []string) string {
	if len(clauses) == 0 {
		return head
	}
	return head + " " + strings.Join(clauses, " ")
}

func onOff(b bool) string { return pick(b, "true", "false") }

func pick(v bool, yes, no string) string {
	if v {
		return yes
	}
	return no
}

func itoa(n int) string { return strconv.Itoa(n) }
