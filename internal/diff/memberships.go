package diff

import (
	"cmp"
	"slices"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// memberships plans the role's membership edges. They are additive: a
// membership the spec does not list is left alone; only state revoke or
// absent revokes one.
//
// PostgreSQL 16+ keeps one grant per grantor: a member holds the role if
// any grant says so, with an option if any of its grants has it, and a
// revoke (of the membership or of an option) is made once per grantor
// whose grant holds it, GRANTED BY that grantor; a plain REVOKE would only
// take the reconciler's own grant and be planned again on every pass.
func (b *builder) memberships(r *model.Role, live *model.LiveRole) {
	var liveOf []model.LiveMembership
	if live != nil {
		liveOf = live.MemberOf
	}
	have := grantIndex(liveOf)
	pg16 := b.version >= 160000
	var plain []string // missing memberships without options: one GRANT
	for _, m := range r.MemberOf {
		grants := have.of(m.Role, liveOf)
		if len(grants) > 0 && !m.Revoke && !b.optionsDiffer(m, grants) && b.cannotGrant(m, true) == "" {
			continue // in sync: nothing to plan, nothing to allocate
		}
		object := r.Name + " in " + m.Role
		if m.Revoke {
			if len(grants) == 0 {
				continue
			}
			mc := &plan.MembershipChange{Member: r.Name, Roles: []string{m.Role}, Grantors: grantorsOf(grants, pg16, nil)}
			if why := cmp.Or(b.lacksAdmin(m.Role, "revoke"), b.cannotRevoke(m.Role, mc.Grantors)); why != "" {
				b.add(phRevoke, plan.Change{Kind: plan.KindMembership, Action: plan.ActionReport, Object: object,
					Before: "member", After: "not a member", Reason: "not planned: " + why})
				continue
			}
			b.add(phRevoke, plan.Change{Kind: plan.KindMembership, Action: plan.ActionRemove, Object: object,
				Before: "member", After: "not a member", Intent: plan.Intent{Membership: mc}, Reason: "state: revoke"})
			continue
		}
		if why := b.cannotGrant(m, len(grants) > 0); why != "" {
			b.add(phMembership, plan.Change{Kind: plan.KindMembership, Action: plan.ActionReport, Object: object,
				Before: describeGrants(grants), After: describeMembership(m, b.version), Reason: "not planned: " + why})
			continue
		}
		if len(grants) > 0 {
			b.membershipOptions(r, m, grants, pg16, object)
			continue
		}
		if !m.Admin.True() && (!pg16 || !m.Inherit.Known() && !m.Set.Known()) {
			plain = append(plain, m.Role) // no option: newMembership would give none
			continue
		}
		mc := newMembership(r.Name, m, pg16)
		b.add(phMembership, plan.Change{Kind: plan.KindMembership, Action: plan.ActionCreate, Object: object,
			Before: "not a member", After: describeMembership(m, b.version),
			Intent: plan.Intent{Membership: mc}, Reason: "membership missing"})
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

// grantsByRole finds the grants of a role among a live role's
// memberships: by a scan when it has few (most roles are in a handful of
// groups), by an index when it has many.
type grantsByRole map[string][]model.LiveMembership

const grantScanMax = 16

func grantIndex(live []model.LiveMembership) grantsByRole {
	if len(live) <= grantScanMax {
		return nil
	}
	have := make(grantsByRole, len(live))
	for _, m := range live {
		have[m.Role] = append(have[m.Role], m)
	}
	return have
}

// of returns the grants of role. Without an index it is a sub-slice of
// live when they are adjacent (one grant: always), a copy otherwise.
func (g grantsByRole) of(role string, live []model.LiveMembership) []model.LiveMembership {
	if g != nil {
		return g[role]
	}
	first, n := -1, 0
	for i := range live {
		if live[i].Role == role {
			if first < 0 {
				first = i
			}
			n++
		}
	}
	if n == 0 {
		return nil
	}
	if out := live[first : first+n]; allOf(out, role) {
		return out[:n:n]
	}
	var out []model.LiveMembership
	for _, m := range live {
		if m.Role == role {
			out = append(out, m)
		}
	}
	return out
}

func allOf(ms []model.LiveMembership, role string) bool {
	for _, m := range ms {
		if m.Role != role {
			return false
		}
	}
	return true
}

// optionsDiffer reports whether membershipOptions would plan anything for
// m: an option the spec states that the grants do not have.
func (b *builder) optionsDiffer(m model.Membership, grants []model.LiveMembership) bool {
	differs := func(name string, want model.OptBool) bool {
		have, known := grantsOption(name, grants)
		return want.Known() && known && want.True() != have
	}
	return differs("ADMIN", m.Admin) || b.version >= 160000 && (differs("INHERIT", m.Inherit) || differs("SET", m.Set))
}

// newMembership is the intent of a new membership m of member: ADMIN when
// granted, and on PostgreSQL 16+ INHERIT and SET as the spec says.
func newMembership(member string, m model.Membership, pg16 bool) *plan.MembershipChange {
	mc := &plan.MembershipChange{Member: member, Roles: []string{m.Role}}
	if m.Admin.True() {
		mc.Admin = m.Admin.Ptr()
	}
	if pg16 {
		mc.Inherit, mc.Set = m.Inherit.Ptr(), m.Set.Ptr()
	}
	return mc
}

// grantorsOf lists the grantors of the grants a revoke must take, on
// PostgreSQL 16+ (holds reports whether a grant holds what is revoked;
// nil: every grant). Before 16 there is one grant and no GRANTED BY: nil.
// A grant whose grantor is unknown is revoked without GRANTED BY ("").
func grantorsOf(grants []model.LiveMembership, pg16 bool, holds func(model.LiveMembership) bool) []string {
	if !pg16 {
		return nil
	}
	var out []string
	for _, g := range grants {
		if holds == nil || holds(g) {
			out = append(out, g.Grantor)
		}
	}
	return out
}

// membershipOptions plans ADMIN (and, on PostgreSQL 16+, INHERIT and SET)
// option changes of an existing membership: an option is on when any of
// its grants has it, and turning it off revokes it from every grant that
// has it.
func (b *builder) membershipOptions(r *model.Role, m model.Membership, grants []model.LiveMembership, pg16 bool, object string) {
	mc := &plan.MembershipChange{Member: r.Name, Roles: []string{m.Role}}
	var before, after []string
	option := func(name string, want model.OptBool, to **bool) {
		have, known := grantsOption(name, grants)
		if !want.Known() || !known || want.True() == have {
			return
		}
		*to = want.Ptr()
		if !want.True() {
			if mc.OptionGrantors == nil {
				mc.OptionGrantors = map[string][]string{}
			}
			mc.OptionGrantors[name] = grantorsOf(grants, pg16, func(g model.LiveMembership) bool { v, _ := optionOf(name, g); return v })
		}
		before = append(before, strings.ToLower(name)+" "+onOff(have))
		after = append(after, strings.ToLower(name)+" "+onOff(want.True()))
	}
	option("ADMIN", m.Admin, &mc.Admin)
	if pg16 {
		option("INHERIT", m.Inherit, &mc.Inherit)
		option("SET", m.Set, &mc.Set)
	}
	if len(before) == 0 {
		return
	}
	var revokedFrom []string
	for _, gs := range mc.OptionGrantors {
		revokedFrom = append(revokedFrom, gs...)
	}
	slices.Sort(revokedFrom)
	if why := cmp.Or(b.lacksAdmin(m.Role, "options"), b.cannotRevoke(m.Role, revokedFrom)); why != "" {
		b.add(phMembership, plan.Change{Kind: plan.KindMembership, Action: plan.ActionReport, Object: object,
			Before: strings.Join(before, ", "), After: strings.Join(after, ", "), Reason: "not planned: " + why})
		return
	}
	b.add(phMembership, plan.Change{Kind: plan.KindMembership, Action: plan.ActionChange, Object: object,
		Before: strings.Join(before, ", "), After: strings.Join(after, ", "),
		Intent: plan.Intent{Membership: mc}, Reason: "membership options differ"})
}

// grantsOption is an option of a membership from its grants: on when any
// grant has it; known when one grant says.
func grantsOption(name string, grants []model.LiveMembership) (have, known bool) {
	for _, g := range grants {
		if v, ok := optionOf(name, g); ok {
			have, known = have || v, true
		}
	}
	return have, known
}

// optionOf is one option of a grant; INHERIT and SET are unknown (false)
// before PostgreSQL 16.
func optionOf(name string, g model.LiveMembership) (bool, bool) {
	switch name {
	case "ADMIN":
		return g.Admin, true
	case "INHERIT":
		if g.Inherit != nil {
			return *g.Inherit, true
		}
	case "SET":
		if g.Set != nil {
			return *g.Set, true
		}
	}
	return false, false
}

// describeMembership is a membership of the spec as a plan shows it.
func describeMembership(m model.Membership, version int) string {
	s := "member"
	if opts := newMembership("", m, version >= 160000).Options(version); len(opts) > 0 {
		s += " with " + strings.ToLower(strings.Join(opts, ", "))
	}
	return s
}

// describeGrants is a live membership for a report.
func describeGrants(grants []model.LiveMembership) string {
	if len(grants) == 0 {
		return "not a member"
	}
	return "member"
}
