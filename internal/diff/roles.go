package diff

import (
	"fmt"
	"strings"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/pgconf"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// attribute is one tri-state role attribute.
type attribute struct {
	name       string
	yes, no    string
	want       func(*model.Role) *bool
	have       func(*model.LiveRole) bool
	defaultNew bool // its value in CREATE ROLE when the spec has no opinion
}

var attributes = []attribute{
	{"login", "LOGIN", "NOLOGIN", func(r *model.Role) *bool { return r.Login }, func(l *model.LiveRole) bool { return l.Login }, true},
	{"superuser", "SUPERUSER", "NOSUPERUSER", func(r *model.Role) *bool { return r.Superuser }, func(l *model.LiveRole) bool { return l.Superuser }, false},
	{"createdb", "CREATEDB", "NOCREATEDB", func(r *model.Role) *bool { return r.CreateDB }, func(l *model.LiveRole) bool { return l.CreateDB }, false},
	{"createrole", "CREATEROLE", "NOCREATEROLE", func(r *model.Role) *bool { return r.CreateRole }, func(l *model.LiveRole) bool { return l.CreateRole }, false},
	{"inherit", "INHERIT", "NOINHERIT", func(r *model.Role) *bool { return r.Inherit }, func(l *model.LiveRole) bool { return l.Inherit }, true},
	{"replication", "REPLICATION", "NOREPLICATION", func(r *model.Role) *bool { return r.Replication }, func(l *model.LiveRole) bool { return l.Replication }, false},
	{"bypassrls", "BYPASSRLS", "NOBYPASSRLS", func(r *model.Role) *bool { return r.BypassRLS }, func(l *model.LiveRole) bool { return l.BypassRLS }, false},
}

// roles plans every declared role: creates in dependency order (a role
// before the roles that are members of it), then changes to existing ones,
// passwords, memberships, and removals last.
func (b *builder) roles() {
	for _, r := range orderRoles(b.c.Roles) {
		if strings.HasPrefix(r.Name, "pg_") {
			continue // built in: never touched
		}
		live := b.liveRoles[r.Name]
		if r.State == model.StateAbsent {
			if live != nil {
				b.dropRole(r)
			}
			continue
		}
		if live == nil {
			b.createRole(r)
		} else {
			b.alterRole(r, live)
		}
		b.password(r, live)
		b.memberships(r, live)
	}
}

// orderRoles puts every role after the declared roles it is a member of,
// keeping declaration order otherwise.
func orderRoles(roles []*model.Role) []*model.Role {
	byName := make(map[string]*model.Role, len(roles))
	for _, r := range roles {
		byName[r.Name] = r
	}
	out := make([]*model.Role, 0, len(roles))
	state := make(map[string]int, len(roles))
	var visit func(r *model.Role)
	visit = func(r *model.Role) {
		if state[r.Name] != 0 {
			return // done, or a cycle (the spec checks refuse those)
		}
		state[r.Name] = 1
		for _, m := range r.MemberOf {
			if p := byName[m.Role]; p != nil && !m.Revoke {
				visit(p)
			}
		}
		state[r.Name] = 2
		out = append(out, r)
	}
	for _, r := range roles {
		visit(r)
	}
	return out
}

func (b *builder) createRole(r *model.Role) {
	var opts []string
	for _, a := range attributes {
		v := a.defaultNew
		if w := a.want(r); w != nil {
			v = *w
		} else if a.name != "login" {
			continue // PostgreSQL's default: say nothing
		}
		opts = append(opts, pick(v, a.yes, a.no))
	}
	if r.ConnLimit != nil {
		opts = append(opts, fmt.Sprintf("CONNECTION LIMIT %d", *r.ConnLimit))
	}
	if exp, ok := b.wantExpiry(r); ok {
		opts = append(opts, "VALID UNTIL "+literal(exp))
	}
	ch := plan.Change{Kind: plan.KindRole, Action: plan.ActionCreate, Object: r.Name,
		After:  strings.Join(opts, " "),
		Reason: "role does not exist"}
	ch.Statements = append(ch.Statements, stmt("CREATE ROLE %s %s", ident(r.Name), strings.Join(opts, " ")))
	ch.Statements = append(ch.Statements, stmt("COMMENT ON ROLE %s IS %s", ident(r.Name), literal(r.Comment)))
	for _, s := range r.Settings {
		if !s.Reset {
			ch.Statements = append(ch.Statements, stmt("ALTER ROLE %s SET %s = %s", ident(r.Name), ident(s.Name), pgconf.QuoteValue(s.Name, s.Value)))
		}
	}
	b.add(phRoleCreate, ch)
}

func pick(v bool, yes, no string) string {
	if v {
		return yes
	}
	return no
}

// alterRole plans the attribute, expiry, comment and setting changes of an
// existing role.
func (b *builder) alterRole(r *model.Role, live *model.LiveRole) {
	var opts, before, after, guarded []string
	for _, a := range attributes {
		w := a.want(r)
		if w == nil || *w == a.have(live) {
			continue
		}
		if reason := b.attributeGuard(r.Name, a, *w); reason != "" {
			guarded = append(guarded, pick(*w, a.yes, a.no)+" ("+reason+")")
			continue
		}
		opts = append(opts, pick(*w, a.yes, a.no))
		before = append(before, pick(!*w, a.yes, a.no))
		after = append(after, pick(*w, a.yes, a.no))
	}
	if r.ConnLimit != nil && *r.ConnLimit != live.ConnLimit {
		if *r.ConnLimit == 0 && r.Name == b.self && !live.Superuser {
			guarded = append(guarded, "CONNECTION LIMIT 0 (it is the role the reconciler logs in as, and not a superuser)")
		} else {
			opts = append(opts, fmt.Sprintf("CONNECTION LIMIT %d", *r.ConnLimit))
			before = append(before, fmt.Sprintf("connlimit %d", live.ConnLimit))
			after = append(after, fmt.Sprintf("connlimit %d", *r.ConnLimit))
		}
	}
	if exp, ok := b.wantExpiry(r); ok && !b.expiryInSync(r, live) {
		if t, err := time.Parse("2006-01-02 15:04:05-07", exp); err == nil && r.Name == b.self && t.Before(b.now) {
			guarded = append(guarded, "VALID UNTIL "+exp+" (in the past, and it is the role the reconciler logs in as)")
		} else {
			opts = append(opts, "VALID UNTIL "+literal(exp))
			before = append(before, "valid until "+describeExpiry(live))
			after = append(after, "valid until "+exp)
		}
	}
	if len(opts) > 0 {
		b.add(phRoleAlter, plan.Change{Kind: plan.KindRole, Action: plan.ActionChange, Object: r.Name,
			Before: strings.Join(before, ", "), After: strings.Join(after, ", "),
			Statements: []plan.Statement{stmt("ALTER ROLE %s %s", ident(r.Name), strings.Join(opts, " "))},
			Reason:     "attributes differ"})
	}
	if len(guarded) > 0 {
		b.add(phRoleAlter, plan.Change{Kind: plan.KindRole, Action: plan.ActionReport, Object: r.Name,
			After:  strings.Join(guarded, ", "),
			Reason: "not planned: it would lock out a role the reconciler must keep; change it by hand if you mean it"})
	}
	if have := deref(live.Comment); have != r.Comment {
		b.add(phRoleAlter, plan.Change{Kind: plan.KindComment, Action: plan.ActionChange, Object: r.Name,
			Before: have, After: r.Comment,
			Statements: []plan.Statement{stmt("COMMENT ON ROLE %s IS %s", ident(r.Name), literal(r.Comment))},
			Reason:     "comment differs"})
	}
	b.roleSettings(r, live)
}

// attributeGuard returns why an attribute change may not be planned, or "".
func (b *builder) attributeGuard(role string, a attribute, want bool) string {
	if want {
		return ""
	}
	if ok, why := b.lockoutProtected(role); ok && (a.name == "login" || a.name == "superuser") {
		return why
	}
	if role == b.c.Globals.ReplicationUser && (a.name == "login" || a.name == "replication") {
		return "it is the replication user (pg_replication_username): replicas would lose their stream"
	}
	return ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// wantExpiry returns the VALID UNTIL the spec asks for, as a literal
// PostgreSQL reads the same in every time zone.
func (b *builder) wantExpiry(r *model.Role) (string, bool) {
	switch {
	case r.ExpireIn != nil:
		day := time.Date(b.now.Year(), b.now.Month(), b.now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, *r.ExpireIn)
		return day.Format("2006-01-02") + " 00:00:00+00", true
	case r.ExpireAt == "infinity":
		return "infinity", true
	case r.ExpireAt != "":
		return r.ExpireAt + " 00:00:00+00", true
	}
	return "", false
}

// expiryInSync applies the no-churn rule: expire_in is in sync while the
// live expiry lies within one day of today+N (so a daily run does not
// rewrite it), expire_at while the live expiry falls on that UTC day.
func (b *builder) expiryInSync(r *model.Role, live *model.LiveRole) bool {
	switch {
	case r.ExpireIn != nil:
		if live.ValidUntil == nil || live.Infinity {
			return false
		}
		exp, _ := b.wantExpiry(r)
		target, _ := time.Parse("2006-01-02 15:04:05-07", exp)
		d := live.ValidUntil.Sub(target)
		return d <= 24*time.Hour && d >= -24*time.Hour
	case r.ExpireAt == "infinity":
		return live.Infinity
	case r.ExpireAt != "":
		return live.ValidUntil != nil && !live.Infinity && live.ValidUntil.UTC().Format("2006-01-02") == r.ExpireAt
	}
	return true
}

func describeExpiry(live *model.LiveRole) string {
	switch {
	case live.Infinity:
		return "infinity"
	case live.ValidUntil == nil:
		return "never (NULL)"
	}
	return live.ValidUntil.UTC().Format("2006-01-02 15:04:05-07")
}

// roleSettings plans ALTER ROLE … SET/RESET for the role-wide settings the
// spec lists; settings it does not list are left alone.
func (b *builder) roleSettings(r *model.Role, live *model.LiveRole) {
	have := map[string]string{}
	for _, s := range live.Settings {
		if s.Database == "" {
			have[s.Name] = s.Value
		}
	}
	stmts, before, after := b.settings("ALTER ROLE "+ident(r.Name), r.Settings, have)
	if len(stmts) > 0 {
		b.add(phRoleAlter, plan.Change{Kind: plan.KindRoleSetting, Action: plan.ActionChange, Object: r.Name,
			Before: before, After: after, Statements: stmts, Reason: "role settings differ"})
	}
}

// settings plans `<alter> SET name = value` / `<alter> RESET name` for the
// settings the spec lists (role or database), against the live ones.
func (b *builder) settings(alter string, want []model.Setting, have map[string]string) ([]plan.Statement, string, string) {
	var stmts []plan.Statement
	var before, after []string
	for _, s := range want {
		cur, set := have[s.Name]
		switch {
		case s.Reset && set:
			stmts = append(stmts, stmt("%s RESET %s", alter, ident(s.Name)))
			before, after = append(before, s.Name+"="+cur), append(after, s.Name+" reset")
		case !s.Reset && (!set || !b.sameSetting(s.Name, s.Value, cur)):
			stmts = append(stmts, stmt("%s SET %s = %s", alter, ident(s.Name), pgconf.QuoteValue(s.Name, s.Value)))
			if set {
				before = append(before, s.Name+"="+cur)
			} else {
				before = append(before, s.Name+" not set")
			}
			after = append(after, s.Name+"="+s.Value)
		}
	}
	return stmts, strings.Join(before, ", "), strings.Join(after, ", ")
}

// sameSetting compares a parameter value as PostgreSQL would, using the
// primary's pg_settings metadata (units, enums, lists); unknown (custom)
// parameters compare as text.
func (b *builder) sameSetting(name, want, have string) bool {
	if meta := b.pl.Settings[name]; meta != nil {
		return pgconf.Equal(want, have, meta)
	}
	return strings.TrimSpace(want) == strings.TrimSpace(have)
}

// dropRole plans Pigsty's removal procedure for a role with state: absent.
func (b *builder) dropRole(r *model.Role) {
	ch := plan.Change{Kind: plan.KindRole, Action: plan.ActionRemove, Object: r.Name, Before: "exists", After: "absent",
		Reason: "state: absent"}
	if ok, why := b.lockoutProtected(r.Name); ok || b.c.Globals.Protected(r.Name) {
		if why == "" {
			why = "it is a protected system user"
		}
		ch.Action, ch.Reason = plan.ActionReport, "not planned: "+why
		b.add(phDropRole, ch)
		return
	}
	var owned []string
	for _, d := range b.pl.Databases {
		if d.Owner == r.Name {
			owned = append(owned, d.Name)
		}
	}
	if len(owned) > 0 {
		ch.Action = plan.ActionReport
		ch.Reason = fmt.Sprintf("not planned: the role owns database(s) %s; give them another owner (pg_databases owner) first", strings.Join(owned, ", "))
		b.add(phDropRole, ch)
		return
	}
	successor := b.c.Globals.DBSU
	ch.Statements = append(ch.Statements,
		stmt("ALTER ROLE %s NOLOGIN", ident(r.Name)),
		stmt("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s AND pid <> pg_backend_pid()", literal(r.Name)))
	for _, d := range b.pl.Databases {
		if !d.AllowConn || d.Name == "template0" || b.dropsDatabase(d.Name) {
			continue // a database this plan drops is gone before the role (phDropDatabase)
		}
		ch.Statements = append(ch.Statements,
			inDB(d.Name, "REASSIGN OWNED BY %s TO %s", ident(r.Name), ident(successor)),
			inDB(d.Name, "DROP OWNED BY %s", ident(r.Name)))
	}
	ch.Statements = append(ch.Statements, stmt("DROP ROLE %s", ident(r.Name)))
	b.add(phDropRole, ch)
}

// dropsDatabase reports whether the spec marks database name absent: the
// plan drops it.
func (b *builder) dropsDatabase(name string) bool {
	for _, d := range b.c.Databases {
		if d.Name == name && d.State == model.DatabaseAbsent {
			return true
		}
	}
	return false
}

// unmanaged notes live roles the spec does not mention: reported, never
// touched.
func (b *builder) unmanaged() {
	declared := make(map[string]bool, len(b.c.Roles))
	for _, r := range b.c.Roles {
		declared[r.Name] = true
	}
	for _, l := range b.pl.Roles {
		if declared[l.Name] || strings.HasPrefix(l.Name, "pg_") {
			continue
		}
		b.add(phNote, plan.Change{Kind: plan.KindUnmanaged, Action: plan.ActionNote, Object: l.Name,
			Before: liveSummary(l), Reason: "exists but is not in the spec; left alone"})
	}
}

func liveSummary(l *model.LiveRole) string {
	var parts []string
	parts = append(parts, pick(l.Login, "LOGIN", "NOLOGIN"))
	if l.Superuser {
		parts = append(parts, "SUPERUSER")
	}
	if len(l.MemberOf) > 0 {
		var groups []string
		for _, m := range l.MemberOf {
			groups = append(groups, m.Role)
		}
		parts = append(parts, "member of "+strings.Join(groups, ", "))
	}
	return strings.Join(parts, " ")
}
