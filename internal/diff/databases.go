package diff

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/pgconf"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// databases plans every declared database: create (with its comment,
// settings and privileges), changes to existing ones, what lives inside
// (schemas, extensions, the privileges on schema public) and removals.
// In postgres, when it is not declared, only what pg-init-template.sql
// does to schema public.
func (b *builder) databases() {
	for _, d := range b.c.Databases {
		live := b.liveDBs[d.Name]
		switch {
		case d.State == model.DatabaseAbsent:
			if live != nil {
				b.dropDatabase(d, live)
			}
			continue
		case live == nil:
			if !b.createDatabase(d) {
				continue // refused: nothing inside it either
			}
		default:
			b.alterDatabase(d, live)
		}
		b.schemas(d, live)
		b.extensions(d, live)
		b.publicSchema(d, live, true)
	}
	if !slices.ContainsFunc(b.c.Databases, func(d *model.Database) bool { return d.Name == "postgres" }) {
		if live := b.liveDBs["postgres"]; live != nil {
			b.publicSchema(&model.Database{Name: "postgres"}, live, false)
		}
	}
}

// createDatabase plans CREATE DATABASE and what comes with it. An option
// the server's version does not have refuses the whole database (reported,
// false): creation-only options cannot be added later.
func (b *builder) createDatabase(d *model.Database) bool {
	if why := b.unsupportedDatabaseOptions(d); why != "" {
		b.add(phDatabaseCreate, plan.Change{Kind: plan.KindDatabase, Action: plan.ActionReport, Object: d.Name,
			Before: "absent", After: "exists", Reason: "not planned: " + why})
		return false
	}
	var opts []string
	add := func(key, v string, quote func(string) string) {
		if v != "" {
			opts = append(opts, key+" "+quote(v))
		}
	}
	add("OWNER", d.Owner, ident)
	add("TEMPLATE", d.Template, ident)
	add("ENCODING", d.Encoding, literal)
	add("STRATEGY", d.Strategy, func(s string) string { return s })
	add("LOCALE", d.Locale, literal)
	add("LC_COLLATE", d.LCCollate, literal)
	add("LC_CTYPE", d.LCCtype, literal)
	add("LOCALE_PROVIDER", d.LocaleProvider, func(s string) string { return s })
	add("ICU_LOCALE", d.ICULocale, literal)
	add("ICU_RULES", d.ICURules, literal)
	add("BUILTIN_LOCALE", d.BuiltinLocale, literal)
	add("TABLESPACE", d.Tablespace, ident)
	if d.AllowConn != nil {
		opts = append(opts, "ALLOW_CONNECTIONS "+onOff(*d.AllowConn))
	}
	if d.ConnLimit != nil {
		opts = append(opts, fmt.Sprintf("CONNECTION LIMIT %d", *d.ConnLimit))
	}
	if d.IsTemplate != nil {
		opts = append(opts, "IS_TEMPLATE "+onOff(*d.IsTemplate))
	}
	create := "CREATE DATABASE " + ident(d.Name)
	if len(opts) > 0 {
		create += " " + strings.Join(opts, " ")
	}
	ch := plan.Change{Kind: plan.KindDatabase, Action: plan.ActionCreate, Object: d.Name, After: strings.Join(opts, " "),
		Reason: "database does not exist"}
	ch.Statements = append(ch.Statements, noTx("%s", create),
		stmt("COMMENT ON DATABASE %s IS %s", ident(d.Name), literal(d.Comment)))
	for _, s := range d.Settings {
		if !s.Reset {
			ch.Statements = append(ch.Statements, stmt("ALTER DATABASE %s SET %s = %s", ident(d.Name), ident(s.Name), pgconf.QuoteValue(s.Name, s.Value)))
		}
	}
	// pg-db.sql's privileges, all of them: nothing holds them yet.
	for _, n := range b.databaseNeeds(d, d.Owner) {
		ch.Statements = append(ch.Statements, n.stmt)
	}
	b.add(phDatabaseCreate, ch)
	return true
}

// alterDatabase plans changes to an existing database. Creation-only
// options (encoding, locale, template …) are never re-applied, as in
// Pigsty; a difference is noted.
func (b *builder) alterDatabase(d *model.Database, live *model.LiveDatabase) {
	var stmts []plan.Statement
	var before, after []string
	diffField := func(what, have, want string, s plan.Statement) {
		stmts = append(stmts, s)
		before, after = append(before, what+" "+have), append(after, what+" "+want)
	}
	if d.Owner != "" && d.Owner != live.Owner {
		diffField("owner", live.Owner, d.Owner, stmt("ALTER DATABASE %s OWNER TO %s", ident(d.Name), ident(d.Owner)))
	}
	if d.ConnLimit != nil && *d.ConnLimit != live.ConnLimit {
		diffField("connlimit", fmt.Sprint(live.ConnLimit), fmt.Sprint(*d.ConnLimit), stmt("ALTER DATABASE %s CONNECTION LIMIT %d", ident(d.Name), *d.ConnLimit))
	}
	if d.AllowConn != nil && *d.AllowConn != live.AllowConn {
		diffField("allowconn", onOff(live.AllowConn), onOff(*d.AllowConn), stmt("ALTER DATABASE %s ALLOW_CONNECTIONS %s", ident(d.Name), onOff(*d.AllowConn)))
	}
	if d.IsTemplate != nil && *d.IsTemplate != live.IsTemplate {
		diffField("is_template", onOff(live.IsTemplate), onOff(*d.IsTemplate), stmt("ALTER DATABASE %s IS_TEMPLATE %s", ident(d.Name), onOff(*d.IsTemplate)))
	}
	if d.Tablespace != "" && d.Tablespace != live.Tablespace {
		diffField("tablespace", live.Tablespace, d.Tablespace, noTx("ALTER DATABASE %s SET TABLESPACE %s", ident(d.Name), ident(d.Tablespace)))
	}
	if len(stmts) > 0 {
		b.add(phDatabaseAlter, plan.Change{Kind: plan.KindDatabase, Action: plan.ActionChange, Object: d.Name,
			Before: strings.Join(before, ", "), After: strings.Join(after, ", "), Statements: stmts, Reason: "database attributes differ"})
	}
	if have := deref(live.Comment); have != d.Comment {
		b.add(phDatabaseAlter, plan.Change{Kind: plan.KindComment, Action: plan.ActionChange, Object: "database " + d.Name,
			Before: have, After: d.Comment,
			Statements: []plan.Statement{stmt("COMMENT ON DATABASE %s IS %s", ident(d.Name), literal(d.Comment))},
			Reason:     "comment differs"})
	}
	b.databaseSettings(d, live)
	b.databasePrivileges(d, live)
	b.creationOnly(d, live)
}

func (b *builder) databaseSettings(d *model.Database, live *model.LiveDatabase) {
	have := map[string]string{}
	for _, s := range live.Settings {
		have[s.Name] = s.Value
	}
	stmts, before, after := b.settings("ALTER DATABASE "+ident(d.Name), d.Settings, have)
	if len(stmts) > 0 {
		b.add(phDatabaseAlter, plan.Change{Kind: plan.KindDatabase, Action: plan.ActionChange, Object: d.Name + " settings",
			Before: before, After: after, Statements: stmts, Reason: "database settings differ"})
	}
}

// roleWillExist reports whether a role exists live or is created by the
// plan, and is not removed by it.
func (b *builder) roleWillExist(name string) bool {
	if r := b.declared[name]; r != nil {
		return r.State != model.StateAbsent
	}
	return b.liveRoles[name] != nil
}

// creationOnly notes creation-time options that differ: PostgreSQL cannot
// change them in place, and Pigsty does not recreate databases.
func (b *builder) creationOnly(d *model.Database, live *model.LiveDatabase) {
	var diffs []string
	check := func(what, want, have string) {
		if want != "" && !strings.EqualFold(want, have) {
			diffs = append(diffs, fmt.Sprintf("%s is %s, the spec says %s", what, have, want))
		}
	}
	check("encoding", d.Encoding, live.Encoding)
	check("lc_collate", d.LCCollate, live.Collate)
	check("lc_ctype", d.LCCtype, live.Ctype)
	if d.Locale != "" {
		check("lc_collate", d.Locale, live.Collate)
	}
	if len(diffs) > 0 {
		b.add(phNote, plan.Change{Kind: plan.KindDatabase, Action: plan.ActionNote, Object: d.Name,
			Before: strings.Join(diffs, "; "), Reason: "creation-only options are not changed on an existing database"})
	}
}

func (b *builder) dropDatabase(d *model.Database, live *model.LiveDatabase) {
	ch := plan.Change{Kind: plan.KindDatabase, Action: plan.ActionRemove, Object: d.Name, Before: "exists", After: "absent",
		Reason: "state: absent"}
	if live.IsTemplate {
		ch.Statements = append(ch.Statements, stmt("ALTER DATABASE %s IS_TEMPLATE false", ident(d.Name)))
	}
	ch.Statements = append(ch.Statements, noTx("DROP DATABASE IF EXISTS %s WITH (FORCE)", ident(d.Name)))
	b.add(phDropDatabase, ch)
}

// schemas plans CREATE SCHEMA / owner changes / drops inside a database.
// Inside an existing database that could not be entered nothing is
// planned (inspect reports why).
func (b *builder) schemas(d *model.Database, live *model.LiveDatabase) {
	if live != nil && !live.Inside {
		return
	}
	have := map[string]model.LiveSchema{}
	if live != nil {
		for _, s := range live.Schemas {
			have[s.Name] = s
		}
	}
	for _, s := range d.Schemas {
		cur, exists := have[s.Name]
		object := d.Name + "." + s.Name
		switch {
		case s.Absent && exists:
			b.add(phDropInside, plan.Change{Kind: plan.KindSchema, Action: plan.ActionRemove, Object: object,
				Before: "exists", After: "absent", Reason: "state: absent",
				Statements: []plan.Statement{inDB(d.Name, "DROP SCHEMA IF EXISTS %s CASCADE", ident(s.Name))}})
		case s.Absent:
		case !exists:
			sql := "CREATE SCHEMA IF NOT EXISTS " + ident(s.Name)
			if s.Owner != "" {
				sql += " AUTHORIZATION " + ident(s.Owner)
			}
			b.add(phInside, plan.Change{Kind: plan.KindSchema, Action: plan.ActionCreate, Object: object,
				After: ownerOf(s.Owner), Reason: "schema does not exist", Statements: []plan.Statement{inDB(d.Name, "%s", sql)}})
		case s.Owner != "" && s.Owner != cur.Owner:
			b.add(phInside, plan.Change{Kind: plan.KindSchema, Action: plan.ActionChange, Object: object,
				Before: "owner " + cur.Owner, After: "owner " + s.Owner, Reason: "owner differs",
				Statements: []plan.Statement{inDB(d.Name, "ALTER SCHEMA %s OWNER TO %s", ident(s.Name), ident(s.Owner))}})
		}
	}
}

func ownerOf(o string) string {
	if o == "" {
		return ""
	}
	return "owner " + o
}

// extensions plans CREATE/ALTER/DROP EXTENSION inside a database.
func (b *builder) extensions(d *model.Database, live *model.LiveDatabase) {
	if live != nil && !live.Inside {
		return
	}
	have := map[string]model.LiveExtension{}
	if live != nil {
		for _, e := range live.Extensions {
			have[e.Name] = e
		}
	}
	for _, e := range d.Extensions {
		cur, exists := have[e.Name]
		object := d.Name + "." + e.Name
		switch {
		case e.Absent && exists:
			b.add(phDropInside, plan.Change{Kind: plan.KindExtension, Action: plan.ActionRemove, Object: object,
				Before: "version " + cur.Version, After: "absent", Reason: "state: absent",
				Statements: []plan.Statement{inDB(d.Name, "DROP EXTENSION IF EXISTS %s CASCADE", ident(e.Name))}})
		case e.Absent:
		case !exists:
			sql := "CREATE EXTENSION IF NOT EXISTS " + ident(e.Name)
			if e.Schema != "" {
				sql += " WITH SCHEMA " + ident(e.Schema)
			}
			if e.Version != "" {
				sql += " VERSION " + literal(e.Version)
			}
			b.add(phInside, plan.Change{Kind: plan.KindExtension, Action: plan.ActionCreate, Object: object,
				After: strings.TrimSpace(e.Schema + " " + e.Version), Reason: "extension is not installed",
				Statements: []plan.Statement{inDB(d.Name, "%s CASCADE", sql)}})
		default:
			var stmts []plan.Statement
			var before, after []string
			if e.Version != "" && e.Version != cur.Version {
				stmts = append(stmts, inDB(d.Name, "ALTER EXTENSION %s UPDATE TO %s", ident(e.Name), literal(e.Version)))
				before, after = append(before, "version "+cur.Version), append(after, "version "+e.Version)
			}
			if e.Schema != "" && e.Schema != cur.Schema {
				stmts = append(stmts, inDB(d.Name, "ALTER EXTENSION %s SET SCHEMA %s", ident(e.Name), ident(e.Schema)))
				before, after = append(before, "schema "+cur.Schema), append(after, "schema "+e.Schema)
			}
			if len(stmts) > 0 {
				b.add(phInside, plan.Change{Kind: plan.KindExtension, Action: plan.ActionChange, Object: object,
					Before: strings.Join(before, ", "), After: strings.Join(after, ", "), Statements: stmts, Reason: "extension differs"})
			}
		}
	}
}
