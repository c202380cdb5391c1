package diff

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
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
// granting a role it holds no ADMIN OPTION on (CREATEROLE no longer
// suffices). member is true when the role is held already.
func (b *builder) cannotGrant(m model.Membership, member bool) string {
	major := b.version / 10000
	if strings.HasPrefix(m.Role, "pg_") && b.liveRoles[m.Role] == nil && b.declared[m.Role] == nil {
		if since := predefinedSince(m.Role); since > major {
			return fmt.Sprintf("%s has no role %s (new in %d)", b.serverVersion(), m.Role, since)
		}
		return fmt.Sprintf("%s has no role %s", b.serverVersion(), m.Role)
	}
	if major < 16 && (m.Inherit != nil || m.Set != nil) {
		return fmt.Sprintf("%s has no INHERIT or SET option on a membership (new in 16)", b.serverVersion())
	}
	if major >= 16 && !member && !b.pl.Session.Superuser && b.liveRoles[m.Role] != nil && !b.holdsAdmin(m.Role) {
		return fmt.Sprintf("from PostgreSQL 16 only a role with ADMIN OPTION on %s may grant it, and %s has none "+
			"(grant it to %s WITH ADMIN OPTION, or reconcile as a superuser)", m.Role, b.self, b.self)
	}
	return ""
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
