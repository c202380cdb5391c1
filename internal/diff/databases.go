package diff

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
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
	dc := &plan.DatabaseChange{Name: d.Name, Owner: d.Owner, Tablespace: d.Tablespace,
		AllowConn: d.AllowConn, ConnLimit: d.ConnLimit, IsTemplate: d.IsTemplate,
		Template: d.Template, Encoding: d.Encoding, Strategy: d.Strategy, Locale: d.Locale,
		LCCollate: d.LCCollate, LCCtype: d.LCCtype, LocaleProvider: d.LocaleProvider, ICULocale: d.ICULocale,
		ICURules: d.ICURules, BuiltinLocale: d.BuiltinLocale}
	ch := plan.Change{Kind: plan.KindDatabase, Action: plan.ActionCreate, Object: d.Name, After: strings.Join(dc.CreateClauses(), " "),
		Intent: plan.Intent{Database: dc,
			Comment:  &plan.CommentChange{On: plan.OnDatabase, Name: d.Name, Text: d.Comment},
			Settings: newSettings(plan.OnDatabase, d.Name, d.Settings)},
		Reason: "database does not exist"}
	// pg-db.sql's privileges, all of them: nothing holds them yet.
	for _, n := range b.databaseNeeds(d, d.Owner) {
		ch.Grants = append(ch.Grants, n.grant)
	}
	b.add(phDatabaseCreate, ch)
	return true
}

// alterDatabase plans changes to an existing database. Creation-only
// options (encoding, locale, template …) are never re-applied, as in
// Pigsty; a difference is noted.
func (b *builder) alterDatabase(d *model.Database, live *model.LiveDatabase) {
	dc := &plan.DatabaseChange{Name: d.Name}
	var before, after []string
	diffField := func(what, have, want string) {
		before, after = append(before, what+" "+have), append(after, what+" "+want)
	}
	if d.Owner != "" && d.Owner != live.Owner {
		dc.Owner = d.Owner
		diffField("owner", live.Owner, d.Owner)
	}
	if d.ConnLimit != nil && *d.ConnLimit != live.ConnLimit {
		dc.ConnLimit = d.ConnLimit
		diffField("connlimit", fmt.Sprint(live.ConnLimit), fmt.Sprint(*d.ConnLimit))
	}
	if d.AllowConn != nil && *d.AllowConn != live.AllowConn {
		dc.AllowConn = d.AllowConn
		diffField("allowconn", onOff(live.AllowConn), onOff(*d.AllowConn))
	}
	if d.IsTemplate != nil && *d.IsTemplate != live.IsTemplate {
		dc.IsTemplate = d.IsTemplate
		diffField("is_template", onOff(live.IsTemplate), onOff(*d.IsTemplate))
	}
	if d.Tablespace != "" && d.Tablespace != live.Tablespace {
		dc.Tablespace = d.Tablespace
		diffField("tablespace", live.Tablespace, d.Tablespace)
	}
	if len(before) > 0 {
		b.add(phDatabaseAlter, plan.Change{Kind: plan.KindDatabase, Action: plan.ActionChange, Object: d.Name,
			Before: strings.Join(before, ", "), After: strings.Join(after, ", "), Intent: plan.Intent{Database: dc}, Reason: "database attributes differ"})
	}
	if have := deref(live.Comment); have != d.Comment {
		b.add(phDatabaseAlter, plan.Change{Kind: plan.KindComment, Action: plan.ActionChange, Object: "database " + d.Name,
			Before: have, After: d.Comment,
			Intent: plan.Intent{Comment: &plan.CommentChange{On: plan.OnDatabase, Name: d.Name, Text: d.Comment}},
			Reason: "comment differs"})
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
	set, before, after := b.settings(d.Settings, have)
	if len(set) > 0 {
		b.add(phDatabaseAlter, plan.Change{Kind: plan.KindDatabase, Action: plan.ActionChange, Object: d.Name + " settings",
			Before: before, After: after, Intent: plan.Intent{Settings: &plan.SettingsChange{On: plan.OnDatabase, Name: d.Name, Settings: set}},
			Reason: "database settings differ"})
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
	b.creationOnlyLocale(d, live, &diffs)
	if len(diffs) > 0 {
		b.add(phNote, plan.Change{Kind: plan.KindDatabase, Action: plan.ActionNote, Object: d.Name,
			Before: strings.Join(diffs, "; "), Reason: "creation-only options are not changed on an existing database"})
	}
}

func (b *builder) dropDatabase(d *model.Database, live *model.LiveDatabase) {
	dc := &plan.DatabaseChange{Name: d.Name}
	if live.IsTemplate {
		dc.IsTemplate = ptrTo(false) // a template cannot be dropped
	}
	b.add(phDropDatabase, plan.Change{Kind: plan.KindDatabase, Action: plan.ActionRemove, Object: d.Name, Before: "exists", After: "absent",
		Intent: plan.Intent{Database: dc}, Reason: "state: absent"})
}

// schemas plans CREATE SCHEMA / owner changes / drops inside a database.
// Inside an existing database that could not be entered nothing is
// planned (inspect reports why).
func (b *builder) schemas(d *model.Database, live *model.LiveDatabase) {
	have, ok := inside(live, func(l *model.LiveDatabase) []model.LiveSchema { return l.Schemas },
		func(s model.LiveSchema) string { return s.Name })
	if !ok {
		return
	}
	for _, s := range d.Schemas {
		cur, exists := have[s.Name]
		ch := plan.Change{Kind: plan.KindSchema, Object: d.Name + "." + s.Name,
			Intent: plan.Intent{Schema: &plan.SchemaChange{Database: d.Name, Name: s.Name, Owner: s.Owner}}}
		switch {
		case s.Absent && exists:
			ch.Action, ch.Before, ch.After, ch.Reason = plan.ActionRemove, "exists", "absent", "state: absent"
			ch.Schema.Owner = ""
			b.add(phDropInside, ch)
		case s.Absent:
		case !exists:
			ch.Action, ch.After, ch.Reason = plan.ActionCreate, ownerOf(s.Owner), "schema does not exist"
			b.add(phInside, ch)
		case s.Owner != "" && s.Owner != cur.Owner:
			ch.Action, ch.Before, ch.After, ch.Reason = plan.ActionChange, "owner "+cur.Owner, "owner "+s.Owner, "owner differs"
			b.add(phInside, ch)
		}
	}
}

// inside returns the objects of a live database (none for a database the
// plan creates) by name, or false when the database exists but could not
// be entered: nothing is planned inside it (inspect says why).
func inside[T any](live *model.LiveDatabase, objects func(*model.LiveDatabase) []T, name func(T) string) (map[string]T, bool) {
	have := map[string]T{}
	if live == nil {
		return have, true
	}
	if !live.Inside {
		return nil, false
	}
	for _, o := range objects(live) {
		have[name(o)] = o
	}
	return have, true
}

func ownerOf(o string) string {
	if o == "" {
		return ""
	}
	return "owner " + o
}

// extensions plans CREATE/ALTER/DROP EXTENSION inside a database.
func (b *builder) extensions(d *model.Database, live *model.LiveDatabase) {
	have, ok := inside(live, func(l *model.LiveDatabase) []model.LiveExtension { return l.Extensions },
		func(e model.LiveExtension) string { return e.Name })
	if !ok {
		return
	}
	for _, e := range d.Extensions {
		cur, exists := have[e.Name]
		ch := plan.Change{Kind: plan.KindExtension, Object: d.Name + "." + e.Name,
			Intent: plan.Intent{Extension: &plan.ExtensionChange{Database: d.Name, Name: e.Name}}}
		switch {
		case e.Absent && exists:
			ch.Action, ch.Before, ch.After, ch.Reason = plan.ActionRemove, "version "+cur.Version, "absent", "state: absent"
			b.add(phDropInside, ch)
		case e.Absent:
		case !exists:
			ch.Extension.Schema, ch.Extension.Version = e.Schema, e.Version
			ch.Action, ch.After, ch.Reason = plan.ActionCreate, strings.TrimSpace(e.Schema+" "+e.Version), "extension is not installed"
			b.add(phInside, ch)
		default:
			var before, after []string
			if e.Version != "" && e.Version != cur.Version {
				ch.Extension.Version = e.Version
				before, after = append(before, "version "+cur.Version), append(after, "version "+e.Version)
			}
			if e.Schema != "" && e.Schema != cur.Schema {
				ch.Extension.Schema = e.Schema
				before, after = append(before, "schema "+cur.Schema), append(after, "schema "+e.Schema)
			}
			if len(before) > 0 {
				ch.Action, ch.Before, ch.After, ch.Reason = plan.ActionChange, strings.Join(before, ", "), strings.Join(after, ", "), "extension differs"
				b.add(phInside, ch)
			}
		}
	}
}
