package diff

import (
	"cmp"
	"slices"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// adminGroup is the role Pigsty's pg-db.sql gives CREATE on every business
// database and its schema public, and pg-init-template.sql sets default
// privileges FOR.
const adminGroup = "dbrole_admin"

// grantNeed is one thing Pigsty's SQL makes true of an ACL: grantee holds
// privs (WITH GRANT OPTION when option is set) or, when absent is set,
// holds none of them. grant makes it true.
type grantNeed struct {
	grantee string // "" is PUBLIC
	privs   string // aclitem letters: C CREATE, T TEMPORARY, c CONNECT, U USAGE
	option  bool
	absent  bool
	grant   plan.Grant
}

// unmet returns the letters of n.privs that a does not satisfy.
func (n grantNeed) unmet(a objectACL) string {
	var out []byte
	for i := 0; i < len(n.privs); i++ {
		p := n.privs[i]
		if held := a.holds(n.grantee, p, n.option && !n.absent); held == n.absent {
			out = append(out, p)
		}
	}
	return string(out)
}

// describe says, for the plan, how the privileges letters stand in a and
// how they will stand.
func (n grantNeed) describe(letters string, a objectACL) (before, after string) {
	who, names := cmp.Or(n.grantee, "PUBLIC"), privNames(letters)
	switch {
	case n.absent:
		return who + " has " + names, who + " has no " + names
	case n.option && a.holds(n.grantee, letters[0], false):
		return who + " has " + names + " without grant option", who + " has " + names + " WITH GRANT OPTION"
	case n.option:
		return who + " has no " + names, who + " has " + names + " WITH GRANT OPTION"
	}
	return who + " has no " + names, who + " has " + names
}

// privNames spells aclitem letters as GRANT does.
func privNames(letters string) string {
	names := make([]string, 0, len(letters))
	for i := 0; i < len(letters); i++ {
		switch letters[i] {
		case 'C':
			names = append(names, "CREATE")
		case 'T':
			names = append(names, "TEMPORARY")
		case 'c':
			names = append(names, "CONNECT")
		case 'U':
			names = append(names, "USAGE")
		default:
			names = append(names, string(letters[i]))
		}
	}
	return strings.Join(names, ", ")
}

// databaseNeeds is what pg-db.sql makes true of a database's ACL, in its
// order: a declared owner holds every privilege (GRANT ALL PRIVILEGES);
// revokeconn; CREATE is revoked from PUBLIC and granted to dbrole_admin.
// owner is the owner the database has after the plan. Grants to roles
// that will not exist are left out (Pigsty's would fail): without
// pg_default_roles, dbrole_admin gets nothing.
func (b *builder) databaseNeeds(d *model.Database, owner string) []grantNeed {
	var needs []grantNeed
	grant := func(role, privs, privilege string, option bool) {
		if role != "" && b.roleWillExist(role) {
			needs = append(needs, grantNeed{grantee: role, privs: privs, option: option, grant: plan.Grant{On: plan.OnDatabase,
				Database: d.Name, Privileges: []string{privilege}, Grantee: role, Option: option}})
		}
	}
	public := func(privs, privilege string, absent bool) {
		needs = append(needs, grantNeed{privs: privs, absent: absent, grant: plan.Grant{On: plan.OnDatabase,
			Database: d.Name, Privileges: []string{privilege}, Revoke: absent}})
	}
	grant(d.Owner, "CTc", "ALL PRIVILEGES", false)
	switch {
	case d.RevokeConn == nil:
	case *d.RevokeConn:
		g := b.c.Globals
		public("c", "CONNECT", true)
		grant(g.ReplicationUser, "c", "CONNECT", false)
		grant(g.MonitorUser, "c", "CONNECT", false)
		grant(g.AdminUser, "c", "CONNECT", true)
		grant(owner, "c", "CONNECT", true)
	default:
		public("c", "CONNECT", false)
	}
	public("C", "CREATE", true)
	grant(adminGroup, "C", "CREATE", false)
	return needs
}

// databasePrivileges plans what an existing database's ACL lacks of
// databaseNeeds, compared after the owner change the plan makes.
func (b *builder) databasePrivileges(d *model.Database, live *model.LiveDatabase) {
	a := databaseACL(live.ACL, live.Owner).withOwner(d.Owner)
	b.grantChange("database "+d.Name, a, b.databaseNeeds(d, a.owner),
		"the database's privileges differ from Pigsty's pg-db.sql")
}

// publicSchema plans the privileges on schema public inside database d:
// CREATE revoked from PUBLIC (pg-db.sql; pg-init-template.sql in
// postgres) and, in a declared database, granted to dbrole_admin
// (pg-db.sql). A database that exists but was not entered gets nothing
// (inspect says why), nor one whose public schema is absent or dropped by
// the spec.
func (b *builder) publicSchema(d *model.Database, live *model.LiveDatabase, declared bool) {
	if live != nil && !live.Inside {
		return
	}
	if slices.ContainsFunc(d.Schemas, func(s model.Schema) bool { return s.Name == "public" && s.Absent }) {
		return
	}
	onPublic := plan.Grant{On: plan.OnSchema, Database: d.Name, Schema: "public", Privileges: []string{"CREATE"}}
	revoke := onPublic
	revoke.Revoke = true
	needs := []grantNeed{{privs: "C", absent: true, grant: revoke}}
	reason := "schema public's privileges differ from Pigsty's pg-init-template.sql"
	if declared {
		reason = "schema public's privileges differ from Pigsty's pg-db.sql"
		if b.roleWillExist(adminGroup) {
			toAdmin := onPublic
			toAdmin.Grantee = adminGroup
			needs = append(needs, grantNeed{grantee: adminGroup, privs: "C", grant: toAdmin})
		}
	}
	object := "schema " + d.Name + ".public"
	if cur := schemaOf(live, "public"); cur != nil {
		b.asOwnerOf(cur.Owner, d.Name, object, func() { b.grantChange(object, schemaACL(cur.ACL, cur.Owner), needs, reason) })
		return
	}
	if !b.publicWillExist(d, live) {
		return
	}
	// A new database copies schema public, ACL and all, from a template
	// that is not inspected, and a schema the plan creates has no grants
	// yet: every statement, as Pigsty runs them.
	ch := plan.Change{Kind: plan.KindPrivilege, Action: plan.ActionCreate, Object: object, Reason: reason}
	var after []string
	for _, n := range needs {
		_, a := n.describe(n.privs, objectACL{})
		after = append(after, a)
		ch.Grants = append(ch.Grants, n.grant)
	}
	ch.After = strings.Join(after, ", ")
	b.add(phPrivilege, ch)
}

// publicWillExist reports whether database d will have a schema public
// that it does not have now: the spec creates it, or d is created from a
// template that has one (the standard templates do; a template that was
// entered is looked at).
func (b *builder) publicWillExist(d *model.Database, live *model.LiveDatabase) bool {
	if slices.ContainsFunc(d.Schemas, func(s model.Schema) bool { return s.Name == "public" }) {
		return true // and not absent: checked by the caller
	}
	if live != nil {
		return false
	}
	if t := b.liveDBs[cmp.Or(d.Template, "template1")]; t != nil && t.Inside {
		return schemaOf(t, "public") != nil
	}
	return true
}

// schemaOf returns the live schema called name of d, or nil.
func schemaOf(d *model.LiveDatabase, name string) *model.LiveSchema {
	if d == nil {
		return nil
	}
	for i := range d.Schemas {
		if d.Schemas[i].Name == name {
			return &d.Schemas[i]
		}
	}
	return nil
}

// grantChange plans, as one change of object, the statements of the needs
// that a does not satisfy.
func (b *builder) grantChange(object string, a objectACL, needs []grantNeed, reason string) {
	var grants []plan.Grant
	var before, after []string
	for _, n := range needs {
		letters := n.unmet(a)
		if letters == "" {
			continue
		}
		bf, af := n.describe(letters, a)
		before, after = append(before, bf), append(after, af)
		grants = append(grants, n.grant)
	}
	if len(grants) == 0 {
		return
	}
	b.add(phPrivilege, plan.Change{Kind: plan.KindPrivilege, Action: plan.ActionChange, Object: object,
		Before: strings.Join(before, ", "), After: strings.Join(after, ", "), Intent: plan.Intent{Grants: grants}, Reason: reason})
}
