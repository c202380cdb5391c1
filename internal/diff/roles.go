package diff

import (
	"fmt"
	"strings"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/pgconf"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/protect"
)

// attribute is one tri-state role attribute.
type attribute struct {
	attr       plan.RoleAttr
	want       func(*model.Role) *bool
	have       func(*model.LiveRole) bool
	defaultNew bool // its value in CREATE ROLE when the spec has no opinion
}

var attributes = []attribute{
	{plan.AttrLogin, func(r *model.Role) *bool { return r.Login }, func(l *model.LiveRole) bool { return l.Login }, true},
	{plan.AttrSuperuser, func(r *model.Role) *bool { return r.Superuser }, func(l *model.LiveRole) bool { return l.Superuser }, false},
	{plan.AttrCreateDB, func(r *model.Role) *bool { return r.CreateDB }, func(l *model.LiveRole) bool { return l.CreateDB }, false},
	{plan.AttrCreateRole, func(r *model.Role) *bool { return r.CreateRole }, func(l *model.LiveRole) bool { return l.CreateRole }, false},
	{plan.AttrInherit, func(r *model.Role) *bool { return r.Inherit }, func(l *model.LiveRole) bool { return l.Inherit }, true},
	{plan.AttrReplication, func(r *model.Role) *bool { return r.Replication }, func(l *model.LiveRole) bool { return l.Replication }, false},
	{plan.AttrBypassRLS, func(r *model.Role) *bool { return r.BypassRLS }, func(l *model.LiveRole) bool { return l.BypassRLS }, false},
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
				b.asAdminOf(r.Name, func() { b.dropRole(r) })
			}
			continue
		}
		if live == nil {
			b.createRole(r)
			b.password(r, live)
		} else {
			b.asAdminOf(r.Name, func() { b.alterRole(r, live); b.password(r, live) })
		}
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
	var attrs plan.RoleAttrs
	for _, a := range attributes {
		v := a.defaultNew
		if w := a.want(r); w != nil {
			v = *w
		} else if a.attr != plan.AttrLogin {
			continue // PostgreSQL's default: say nothing
		}
		attrs.SetFlag(a.attr, v)
	}
	if r.ConnLimit != nil {
		attrs.ConnLimit = ptrTo(*r.ConnLimit)
	}
	if exp, ok := b.wantExpiry(r); ok {
		attrs.ValidUntil = exp
	}
	b.add(phRoleCreate, plan.Change{Kind: plan.KindRole, Action: plan.ActionCreate, Object: r.Name,
		After:  strings.Join(attrs.Clauses(), " "),
		Reason: "role does not exist",
		Intent: plan.Intent{Role: &plan.RoleChange{Name: r.Name, Attrs: attrs},
			Comment:  &plan.CommentChange{On: plan.OnRole, Name: r.Name, Text: r.Comment},
			Settings: newSettings(plan.OnRole, r.Name, r.Settings)}})
}

// newSettings are the settings an object is created with: the ones the
// spec sets (RESET is the default anyway); nil when there are none.
func newSettings(on plan.ObjectType, name string, want []model.Setting) *plan.SettingsChange {
	var set []model.Setting
	for _, s := range want {
		if !s.Reset {
			set = append(set, s)
		}
	}
	if len(set) == 0 {
		return nil
	}
	return &plan.SettingsChange{On: on, Name: name, Settings: set}
}

// alterRole plans the attribute, expiry, comment and setting changes of an
// existing role. What the protection policy refuses (package protect) is
// reported instead, and planned as usual otherwise.
func (b *builder) alterRole(r *model.Role, live *model.LiveRole) {
	var set plan.RoleAttrs
	for _, a := range attributes {
		if w := a.want(r); w != nil && *w != a.have(live) {
			set.SetFlag(a.attr, *w)
		}
	}
	if r.ConnLimit != nil && *r.ConnLimit != live.ConnLimit {
		set.ConnLimit = ptrTo(*r.ConnLimit)
	}
	if exp, ok := b.wantExpiry(r); ok && !b.expiryInSync(r, live) {
		set.ValidUntil = exp
	}
	var guarded []string
	var held plan.RoleAttrs
	if refused := b.policy.Attributes(r.Name, set, live.Superuser, b.now); len(refused) > 0 {
		var attrs []plan.RoleAttr
		for _, rf := range refused {
			guarded = append(guarded, set.Keyword(rf.Attr)+" ("+attributeGuard(rf)+")")
			attrs = append(attrs, rf.Attr)
		}
		held, set = set.Split(attrs...)
	}
	var before, after []string
	for _, a := range attributes {
		if v := set.Flag(a.attr); v != nil {
			before, after = append(before, plan.FlagKeyword(a.attr, !*v)), append(after, plan.FlagKeyword(a.attr, *v))
		}
	}
	if set.ConnLimit != nil {
		before, after = append(before, fmt.Sprintf("connlimit %d", live.ConnLimit)), append(after, fmt.Sprintf("connlimit %d", *set.ConnLimit))
	}
	if set.ValidUntil != "" {
		before, after = append(before, "valid until "+describeExpiry(live)), append(after, "valid until "+set.ValidUntil)
	}
	if !set.Empty() {
		b.add(phRoleAlter, plan.Change{Kind: plan.KindRole, Action: plan.ActionChange, Object: r.Name,
			Before: strings.Join(before, ", "), After: strings.Join(after, ", "),
			Intent: plan.Intent{Role: &plan.RoleChange{Name: r.Name, Attrs: set}},
			Reason: "attributes differ"})
	}
	if len(guarded) > 0 {
		b.add(phRoleAlter, plan.Change{Kind: plan.KindRole, Action: plan.ActionReport, Object: r.Name,
			After:  strings.Join(guarded, ", "),
			Intent: plan.Intent{Role: &plan.RoleChange{Name: r.Name, Attrs: held}},
			Reason: "not planned: it would lock out a role the reconciler must keep; change it by hand if you mean it"})
	}
	if have := deref(live.Comment); have != r.Comment {
		b.add(phRoleAlter, plan.Change{Kind: plan.KindComment, Action: plan.ActionChange, Object: r.Name,
			Before: have, After: r.Comment,
			Intent: plan.Intent{Comment: &plan.CommentChange{On: plan.OnRole, Name: r.Name, Text: r.Comment}},
			Reason: "comment differs"})
	}
	b.roleSettings(r, live)
}

// attributeGuard is why the policy refuses an attribute change, as a plan
// says it.
func attributeGuard(rf protect.Refusal) string {
	switch {
	case rf.Attr == plan.AttrConnLimit:
		return protectedBecause(rf.Who) + ", and not a superuser"
	case rf.Attr == plan.AttrValidUntil:
		return "in the past, and " + protectedBecause(rf.Who)
	case rf.Who == protect.Replication:
		return protectedBecause(rf.Who) + ": replicas would lose their stream"
	}
	return protectedBecause(rf.Who)
}

// protectedBecause is how a plan says why a role is protected.
func protectedBecause(w protect.Who) string {
	switch w {
	case protect.Self:
		return "it is the role the reconciler logs in as"
	case protect.DBSU, protect.Replication:
		return "it is " + w.String()
	}
	return "it is a protected system user"
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
	set, before, after := b.settings(r.Settings, have)
	if len(set) > 0 {
		b.add(phRoleAlter, plan.Change{Kind: plan.KindRoleSetting, Action: plan.ActionChange, Object: r.Name,
			Before: before, After: after, Intent: plan.Intent{Settings: &plan.SettingsChange{On: plan.OnRole, Name: r.Name, Settings: set}},
			Reason: "role settings differ"})
	}
}

// settings returns the settings the spec lists (role or database) that
// differ from the live ones: to SET, or to RESET.
func (b *builder) settings(want []model.Setting, have map[string]string) ([]model.Setting, string, string) {
	var set []model.Setting
	var before, after []string
	for _, s := range want {
		cur, isSet := have[s.Name]
		switch {
		case s.Reset && isSet:
			set = append(set, s)
			before, after = append(before, s.Name+"="+cur), append(after, s.Name+" reset")
		case !s.Reset && (!isSet || !b.sameSetting(s.Name, s.Value, cur)):
			set = append(set, s)
			if isSet {
				before = append(before, s.Name+"="+cur)
			} else {
				before = append(before, s.Name+" not set")
			}
			after = append(after, s.Name+"="+s.Value)
		}
	}
	return set, strings.Join(before, ", "), strings.Join(after, ", ")
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
		Intent: plan.Intent{Role: &plan.RoleChange{Name: r.Name}}, Reason: "state: absent"}
	if who := b.policy.Removal(r.Name); who != protect.None {
		why := "it is a protected system user"
		if who == protect.Self || who == protect.DBSU {
			why = protectedBecause(who)
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
	drop := &plan.RoleDrop{Successor: b.c.Globals.DBSU}
	for _, d := range b.pl.Databases {
		if !d.AllowConn || d.Name == "template0" || b.dropsDatabase(d.Name) {
			continue // a database this plan drops is gone before the role (phDropDatabase)
		}
		drop.Databases = append(drop.Databases, d.Name)
	}
	ch.Role.Drop = drop
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
			Before: liveSummary(l), Intent: plan.Intent{Role: &plan.RoleChange{Name: l.Name}}, Reason: "exists but is not in the spec; left alone"})
	}
}

func liveSummary(l *model.LiveRole) string {
	var parts []string
	parts = append(parts, plan.FlagKeyword(plan.AttrLogin, l.Login))
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
