package diff

import (
	"fmt"
	"slices"
	"sort"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/privs"
)

// privKey identifies one default privilege of one owner; grant is set for
// a privilege held WITH GRANT OPTION.
type privKey struct {
	objType, grantee, privilege string
	grant                       bool
}

// privileges plans pg_default_privileges the way Pigsty applies them:
// in each managed database (postgres and every declared database), FOR
// ROLE the dbsu, the admin user and dbrole_admin (pg-init-template.sql),
// and the database's owner (pg-db.sql). Default privileges are additive:
// extra live grants are left alone.
func (b *builder) privileges() {
	if b.c.DefaultPrivileges == nil {
		return
	}
	want := b.wantedPrivileges()
	if len(want) == 0 {
		return
	}
	dbs := []*model.Database{{Name: "postgres", State: model.DatabaseCreate}}
	for _, d := range b.c.Databases {
		if d.State != model.DatabaseAbsent && d.Name != "postgres" {
			dbs = append(dbs, d)
		}
	}
	for _, d := range dbs {
		live := b.liveDBs[d.Name]
		if live != nil && !live.Inside {
			continue // exists but was not entered (inspect says why)
		}
		if live == nil && b.unsupportedDatabaseOptions(d) != "" {
			continue // its creation is refused for the server's version
		}
		have := map[string]map[privKey]bool{}
		if live != nil {
			for _, a := range live.DefaultACL {
				if a.Schema != "" {
					continue
				}
				if have[a.Owner] == nil {
					have[a.Owner] = map[privKey]bool{}
				}
				have[a.Owner][privKey{a.ObjectType, a.Grantee, a.Privilege, false}] = true
				if a.Grantable {
					have[a.Owner][privKey{a.ObjectType, a.Grantee, a.Privilege, true}] = true
				}
			}
		}
		for _, owner := range b.privilegeOwners(d, live) {
			b.ownerPrivileges(d.Name, owner, want, have[owner])
		}
	}
}

// wantedPrivileges expands the spec's clauses into (type, grantee,
// privilege) triples; clauses that do not parse were refused by the spec
// checks.
func (b *builder) wantedPrivileges() []privKey {
	var out []privKey
	seen := map[privKey]bool{}
	for _, clause := range b.c.DefaultPrivileges {
		cl, err := privs.Parse(clause)
		if err != nil {
			continue
		}
		objType, names := cl.Expanded()
		if why := b.unsupportedPrivileges(cl, objType, names); why != "" {
			b.add(phPrivilege, plan.Change{Kind: plan.KindDefaultPrivilege, Action: plan.ActionReport, Object: clause,
				Reason: "not planned: " + why})
			continue
		}
		if objType == "TABLES" && b.pl.Version >= 170000 && slices.ContainsFunc(cl.Privileges, func(p string) bool {
			return p == "ALL" || p == "ALL PRIVILEGES"
		}) {
			names = append(names, "MAINTAIN") // ALL includes it from 17
		}
		for _, n := range names {
			k := privKey{objType, cl.Grantee, n, cl.GrantOption}
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// privilegeOwners lists the roles whose new objects get the default
// privileges in a database, keeping only roles that will exist.
func (b *builder) privilegeOwners(d *model.Database, live *model.LiveDatabase) []string {
	g := b.c.Globals
	owner := d.Owner
	if owner == "" && live != nil && d.Name != "postgres" {
		owner = live.Owner
	}
	var out []string
	seen := map[string]bool{}
	for _, o := range []string{g.DBSU, g.AdminUser, adminGroup, owner} {
		if o != "" && !seen[o] && b.roleWillExist(o) {
			seen[o] = true
			out = append(out, o)
		}
	}
	return out
}

func (b *builder) ownerPrivileges(db, owner string, want []privKey, have map[privKey]bool) {
	type group struct {
		objType, grantee string
		grant            bool
	}
	missing := map[group][]string{} // → privileges
	var order []group
	for _, k := range want {
		if have[k] || !(k.grantee == "PUBLIC" || b.roleWillExist(k.grantee)) {
			continue
		}
		key := group{k.objType, k.grantee, k.grant}
		if missing[key] == nil {
			order = append(order, key)
		}
		missing[key] = append(missing[key], k.privilege)
	}
	if len(order) == 0 {
		return
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].grantee != order[j].grantee {
			return order[i].grantee < order[j].grantee
		}
		return order[i].objType < order[j].objType
	})
	dp := &plan.DefaultPrivileges{Database: db, Owner: owner}
	n := 0
	for _, key := range order {
		grantee := key.grantee
		if grantee == "PUBLIC" {
			grantee = "" // plan.DefaultGrant's PUBLIC
		}
		dp.Grants = append(dp.Grants, plan.DefaultGrant{Privileges: missing[key], ObjectType: key.objType, Grantee: grantee, Option: key.grant})
		n += len(missing[key])
	}
	b.add(phPrivilege, plan.Change{Kind: plan.KindDefaultPrivilege, Action: plan.ActionChange,
		Object: db + ": FOR ROLE " + owner, After: fmt.Sprintf("%d default privilege(s) granted", n), Intent: plan.Intent{DefaultPrivileges: dp},
		Reason: "default privileges missing"})
}
