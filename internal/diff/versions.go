package diff

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/privs"
)

// What a spec may ask for that an older PostgreSQL does not have: refused
// at plan time, before any write, naming the server's version.

// serverVersion names the primary's version: "PostgreSQL 16".
func (b *builder) serverVersion() string { return fmt.Sprintf("PostgreSQL %d", b.pl.Version/10000) }

// predefinedSince is the major that introduced a predefined role (0 for
// those every supported major has).
func predefinedSince(role string) int {
	switch role {
	case "pg_read_all_data", "pg_write_all_data", "pg_database_owner":
		return 14
	case "pg_checkpoint":
		return 15
	case "pg_create_subscription", "pg_use_reserved_connections":
		return 16
	case "pg_maintain":
		return 17
	case "pg_signal_autovacuum_worker":
		return 18
	}
	return 0
}

// cannotGrant says why the membership m cannot be granted on the primary,
// or "": a predefined role this version does not have, INHERIT or SET
// options before 16, and, from 16 on, a reconciler that is not a superuser
// granting a role it holds no ADMIN OPTION on (lacksAdmin). member is true
// when the role is held already.
func (b *builder) cannotGrant(m model.Membership, member bool) string {
	major := b.version / 10000
	if strings.HasPrefix(m.Role, "pg_") && b.liveRoles[m.Role] == nil && b.declared[m.Role] == nil {
		if since := predefinedSince(m.Role); since > major {
			return fmt.Sprintf("%s has no role %s (new in %d)", b.serverVersion(), m.Role, since)
		}
		return fmt.Sprintf("%s has no role %s", b.serverVersion(), m.Role)
	}
	if major < 16 && (m.Inherit.Known() || m.Set.Known()) {
		return fmt.Sprintf("%s has no INHERIT or SET option on a membership (new in 16)", b.serverVersion())
	}
	if !member {
		return b.lacksAdmin(m.Role, "grant")
	}
	return ""
}

// lacksAdmin says why the reconciler cannot act on memberships of role
// ("grant" it, "revoke" it, change its "options") on the primary, or "":
// from PostgreSQL 16 a role that is not a superuser needs ADMIN OPTION on
// it (CREATEROLE no longer suffices). A role the plan creates is the
// reconciler's: 16 gives its creator ADMIN OPTION.
func (b *builder) lacksAdmin(role, what string) string {
	if b.version < 160000 || b.pl.Session.Superuser || b.liveRoles[role] == nil || b.holdsAdmin(role) {
		return ""
	}
	verb := map[string]string{"grant": "grant it", "revoke": "revoke it", "options": "change the options of its memberships",
		"alter": "alter or drop it"}[what]
	return fmt.Sprintf("from PostgreSQL 16 only a role with ADMIN OPTION on %s may %s, and %s has none "+
		"(grant it to %s WITH ADMIN OPTION, or reconcile as a superuser)", role, verb, b.self, b.self)
}

// holdsAdmin reports whether the reconciler's role, or a role it is a
// member of (at any depth), has ADMIN OPTION on role.
func (b *builder) holdsAdmin(role string) bool {
	seen := map[string]bool{}
	queue := []string{b.self}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		r := b.liveRoles[name]
		if r == nil {
			continue
		}
		for _, m := range r.MemberOf {
			if m.Role == role && m.Admin {
				return true
			}
			queue = append(queue, m.Role)
		}
	}
	return false
}

// unsupportedDatabaseOptions names the CREATE DATABASE options of d the
// primary's version does not have, or "".
func (b *builder) unsupportedDatabaseOptions(d *model.Database) string {
	major := b.version / 10000
	var missing []string
	need := func(set bool, what string, since int) {
		if set && major < since {
			missing = append(missing, fmt.Sprintf("%s (new in %d)", what, since))
		}
	}
	need(d.LocaleProvider != "", "LOCALE_PROVIDER", 15)
	need(d.ICULocale != "", "ICU_LOCALE", 15)
	need(d.Strategy != "", "STRATEGY", 15)
	need(d.ICURules != "", "ICU_RULES", 16)
	need(strings.EqualFold(d.LocaleProvider, "builtin"), "LOCALE_PROVIDER builtin", 17)
	need(d.BuiltinLocale != "", "BUILTIN_LOCALE", 17)
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("%s has no %s", b.serverVersion(), strings.Join(missing, ", no "))
}

// unsupportedPrivileges says why a pg_default_privileges clause cannot be
// granted on the primary's version (MAINTAIN is new in 17), or "".
func (b *builder) unsupportedPrivileges(cl privs.Clause, objType string, names []string) string {
	if objType == "TABLES" && b.pl.Version < 170000 && slices.Contains(names, "MAINTAIN") {
		return b.serverVersion() + " has no MAINTAIN privilege (new in 17)"
	}
	return ""
}

// cannotRevoke says why the reconciler cannot revoke the grants of role
// made by grantors, or "": from PostgreSQL 16 a role that is not a
// superuser may revoke only grants made by itself or by a role whose
// privileges it has (ADMIN OPTION is not enough).
func (b *builder) cannotRevoke(role string, grantors []string) string {
	if b.version < 160000 || b.pl.Session.Superuser {
		return ""
	}
	for _, g := range grantors {
		if g != "" && !b.actsAs(g, "") {
			return fmt.Sprintf("%s was granted by %s, and from PostgreSQL 16 only a role with the privileges of %s may revoke that grant; "+
				"%s does not (revoke it as a superuser or as %s)", role, g, g, b.self, g)
		}
	}
	return ""
}

// asAdminOf runs planned, which plans changes to the existing role, and
// turns what it plans into reports when the reconciler lacks the ADMIN
// OPTION PostgreSQL 16 requires of a non-superuser to alter, comment on,
// set parameters or a password of, or drop a role (lacksAdmin): such a
// plan would fail at the first statement.
func (b *builder) asAdminOf(role string, planned func()) {
	b.reportInstead(b.lacksAdmin(role, "alter"), planned)
}

// asOwnerOf runs planned, which plans GRANT/REVOKE on an object owned by
// owner in database db, and turns it into reports when the reconciler is
// not a superuser and cannot act as the owner: PostgreSQL would only warn
// ("no privileges could be revoked") and the plan would come back on every
// pass. It matters on 13 and 14, whose schema public belongs to the
// bootstrap superuser (15's to pg_database_owner).
func (b *builder) asOwnerOf(owner, db, object string, planned func()) {
	why := ""
	if !b.pl.Session.Superuser && !b.actsAs(owner, db) {
		why = fmt.Sprintf("%s is owned by %s, and %s, not a superuser, cannot act as that role: only the owner (or a superuser) may change its privileges", object, owner, b.self)
	}
	b.reportInstead(why, planned)
}

// actsAs reports whether the reconciler's role has the privileges of role:
// it is role or inherits from it (at any depth); pg_database_owner stands
// for the owner of database db.
func (b *builder) actsAs(role, db string) bool {
	if role == "pg_database_owner" {
		if d := b.liveDBs[db]; d != nil {
			role = d.Owner
		}
	}
	seen := map[string]bool{}
	queue := []string{b.self}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if name == role {
			return true
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		if r := b.liveRoles[name]; r != nil {
			for _, m := range r.MemberOf {
				if m.Inherit == nil && r.Inherit || m.Inherit != nil && *m.Inherit {
					queue = append(queue, m.Role) // its privileges, not just SET ROLE
				}
			}
		}
	}
	return false
}

// reportInstead runs planned and, when why is not "", turns the changes it
// planned into reports saying why (notes and reports stay as they are).
func (b *builder) reportInstead(why string, planned func()) {
	if why == "" {
		planned()
		return
	}
	var mark [nPhases]int
	for ph := range b.phases {
		mark[ph] = len(b.phases[ph])
	}
	planned()
	for ph := range b.phases {
		for _, ch := range b.phases[ph][mark[ph]:] {
			if ch.Action == plan.ActionNote || ch.Action == plan.ActionReport {
				continue
			}
			ch.Action, ch.Intent, ch.Statements = plan.ActionReport, plan.Intent{}, nil
			ch.Reason = "not planned: " + why + " (" + ch.Reason + ")"
		}
	}
}
