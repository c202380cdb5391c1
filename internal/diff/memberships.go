package diff

import (
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// memberships plans the role's membership edges. They are additive: a
// membership the spec does not list is left alone; only state revoke or
// absent revokes one.
func (b *builder) memberships(r *model.Role, live *model.LiveRole) {
	have := map[string]model.LiveMembership{}
	if live != nil {
		for _, m := range live.MemberOf {
			have[m.Role] = m
		}
	}
	pg16 := b.version >= 160000
	var plain []string // missing memberships without options: one GRANT
	for _, m := range r.MemberOf {
		cur, member := have[m.Role]
		switch {
		case m.Revoke && member:
			mc := &plan.MembershipChange{Member: r.Name, Roles: []string{m.Role}}
			if pg16 {
				mc.Grantor = cur.Grantor
			}
			b.add(phRevoke, plan.Change{Kind: plan.KindMembership, Action: plan.ActionRemove, Object: r.Name + " in " + m.Role,
				Before: "member", After: "not a member", Intent: plan.Intent{Membership: mc}, Reason: "state: revoke"})
		case m.Revoke:
		case !member:
			admin := m.Admin != nil && *m.Admin
			if !admin && (!pg16 || m.Inherit == nil && m.Set == nil) {
				plain = append(plain, m.Role)
				continue
			}
			mc := &plan.MembershipChange{Member: r.Name, Roles: []string{m.Role}}
			if admin {
				mc.Admin = m.Admin
			}
			if pg16 {
				mc.Inherit, mc.Set = m.Inherit, m.Set
			}
			b.add(phMembership, plan.Change{Kind: plan.KindMembership, Action: plan.ActionCreate, Object: r.Name + " in " + m.Role,
				Before: "not a member", After: "member with " + strings.ToLower(strings.Join(mc.Options(b.version), ", ")),
				Intent: plan.Intent{Membership: mc}, Reason: "membership missing"})
		default:
			b.membershipOptions(r, m, cur, pg16)
		}
	}
	if len(plain) > 0 {
		// One statement for all of a role's new memberships: a 10,000-user
		// fleet in 5 groups each is 10,000 statements, not 50,000.
		b.add(phMembership, plan.Change{Kind: plan.KindMembership, Action: plan.ActionCreate,
			Object: r.Name + " in " + strings.Join(plain, ", "), Before: "not a member", After: "member",
			Intent: plan.Intent{Membership: &plan.MembershipChange{Member: r.Name, Roles: plain}},
			Reason: "membership missing"})
	}
}

// membershipOptions plans ADMIN (and, on PostgreSQL 16+, INHERIT and SET)
// option changes of an existing membership.
func (b *builder) membershipOptions(r *model.Role, m model.Membership, cur model.LiveMembership, pg16 bool) {
	names := [3]string{"admin", "inherit", "set"}
	want, have := [3]*bool{m.Admin}, [3]bool{cur.Admin}
	if pg16 && cur.Inherit != nil {
		want[1], have[1] = m.Inherit, *cur.Inherit
	}
	if pg16 && cur.Set != nil {
		want[2], have[2] = m.Set, *cur.Set
	}
	var to [3]*bool
	var before, after []string
	for i := range want {
		if want[i] != nil && *want[i] != have[i] {
			to[i] = want[i]
			before, after = append(before, names[i]+" "+onOff(have[i])), append(after, names[i]+" "+onOff(*want[i]))
		}
	}
	if len(before) == 0 {
		return
	}
	b.add(phMembership, plan.Change{Kind: plan.KindMembership, Action: plan.ActionChange, Object: r.Name + " in " + m.Role,
		Before: strings.Join(before, ", "), After: strings.Join(after, ", "),
		Intent: plan.Intent{Membership: &plan.MembershipChange{Member: r.Name, Roles: []string{m.Role}, Admin: to[0], Inherit: to[1], Set: to[2]}},
		Reason: "membership options differ"})
}
