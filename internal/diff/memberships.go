package diff

import (
	"fmt"
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
	have := map[string][]model.LiveMembership{} // the grants of each role
	if live != nil {
		for _, m := range live.MemberOf {
			have[m.Role] = append(have[m.Role], m)
		}
	}
	pg16 := b.pl.Version >= 160000
	var plain []string // missing memberships without options: one GRANT
	for _, m := range r.MemberOf {
		object := r.Name + " in " + m.Role
		grants := have[m.Role]
		if m.Revoke {
			if len(grants) == 0 {
				continue
			}
			b.add(phRevoke, plan.Change{Kind: plan.KindMembership, Action: plan.ActionRemove, Object: object,
				Before: "member", After: "not a member", Statements: revokeGrants("", m.Role, r.Name, grants, pg16, nil),
				Reason: "state: revoke"})
			continue
		}
		if why := b.cannotGrant(m, len(grants) > 0); why != "" {
			b.add(phMembership, plan.Change{Kind: plan.KindMembership, Action: plan.ActionReport, Object: object,
				Before: describeGrants(grants), After: describeMembership(m, true), Reason: "not planned: " + why})
			continue
		}
		if len(grants) == 0 {
			opts := grantOptions(m, pg16)
			if len(opts) == 0 {
				plain = append(plain, m.Role)
				continue
			}
			sql := fmt.Sprintf("GRANT %s TO %s WITH %s", ident(m.Role), ident(r.Name), strings.Join(opts, ", "))
			b.add(phMembership, plan.Change{Kind: plan.KindMembership, Action: plan.ActionCreate, Object: object,
				Before: "not a member", After: describeMembership(m, pg16), Statements: []plan.Statement{stmt("%s", sql)},
				Reason: "membership missing"})
			continue
		}
		b.membershipOptions(r, m, grants, pg16, object)
	}
	if len(plain) > 0 {
		// One statement for all of a role's new memberships: a 10,000-user
		// fleet in 5 groups each is 10,000 statements, not 50,000.
		b.add(phMembership, plan.Change{Kind: plan.KindMembership, Action: plan.ActionCreate,
			Object: r.Name + " in " + strings.Join(plain, ", "), Before: "not a member", After: "member",
			Statements: []plan.Statement{stmt("GRANT %s TO %s", quoteList(plain), ident(r.Name))},
			Reason:     "membership missing"})
	}
}

// revokeGrants revokes role (or, with option set, that option of it) from
// member: on PostgreSQL 16+ once per grantor whose grant holds it (holds
// reports whether a grant does; nil: every grant), before 16 once.
func revokeGrants(option, role, member string, grants []model.LiveMembership, pg16 bool, holds func(model.LiveMembership) bool) []plan.Statement {
	what := ident(role)
	if option != "" {
		what = option + " OPTION FOR " + what
	}
	sql := fmt.Sprintf("REVOKE %s FROM %s", what, ident(member))
	if !pg16 {
		return []plan.Statement{stmt("%s", sql)}
	}
	var out []plan.Statement
	for _, g := range grants {
		if holds != nil && !holds(g) {
			continue
		}
		if g.Grantor == "" {
			out = append(out, stmt("%s", sql))
			continue
		}
		out = append(out, stmt("%s GRANTED BY %s", sql, ident(g.Grantor)))
	}
	return out
}

// grantOptions renders the WITH clause of a new grant.
func grantOptions(m model.Membership, pg16 bool) []string {
	var opts []string
	if m.Admin != nil && *m.Admin {
		if pg16 {
			opts = append(opts, "ADMIN TRUE")
		} else {
			opts = append(opts, "ADMIN OPTION")
		}
	}
	if pg16 {
		if m.Inherit != nil {
			opts = append(opts, "INHERIT "+strings.ToUpper(onOff(*m.Inherit)))
		}
		if m.Set != nil {
			opts = append(opts, "SET "+strings.ToUpper(onOff(*m.Set)))
		}
	}
	return opts
}

// membershipOptions plans ADMIN (and, on PostgreSQL 16+, INHERIT and SET)
// option changes of an existing membership: an option is on when any of
// its grants has it.
func (b *builder) membershipOptions(r *model.Role, m model.Membership, grants []model.LiveMembership, pg16 bool, object string) {
	var stmts []plan.Statement
	var before, after []string
	option := func(name string, want *bool, holds func(model.LiveMembership) bool) {
		have, known := false, false
		for _, g := range grants {
			if v, ok := optionOf(name, g); ok {
				have, known = have || v, true
			}
		}
		if want == nil || !known || *want == have {
			return
		}
		if *want {
			with := name + " OPTION"
			if pg16 {
				with = name + " TRUE"
			}
			stmts = append(stmts, stmt("GRANT %s TO %s WITH %s", ident(m.Role), ident(r.Name), with))
		} else {
			stmts = append(stmts, revokeGrants(name, m.Role, r.Name, grants, pg16, holds)...)
		}
		before = append(before, strings.ToLower(name)+" "+onOff(have))
		after = append(after, strings.ToLower(name)+" "+onOff(*want))
	}
	on := func(name string) func(model.LiveMembership) bool {
		return func(g model.LiveMembership) bool { v, _ := optionOf(name, g); return v }
	}
	option("ADMIN", m.Admin, on("ADMIN"))
	if pg16 {
		option("INHERIT", m.Inherit, on("INHERIT"))
		option("SET", m.Set, on("SET"))
	}
	if len(stmts) > 0 {
		b.add(phMembership, plan.Change{Kind: plan.KindMembership, Action: plan.ActionChange, Object: object,
			Before: strings.Join(before, ", "), After: strings.Join(after, ", "), Statements: stmts,
			Reason: "membership options differ"})
	}
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

func describeMembership(m model.Membership, pg16 bool) string {
	s := "member"
	if opts := grantOptions(m, pg16); len(opts) > 0 {
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
