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
func (b *builder) memberships(r *model.Role, live *model.LiveRole) {
	have := map[string]model.LiveMembership{}
	if live != nil {
		for _, m := range live.MemberOf {
			have[m.Role] = m
		}
	}
	pg16 := b.pl.Version >= 160000
	var plain []string // missing memberships without options: one GRANT
	for _, m := range r.MemberOf {
		object := r.Name + " in " + m.Role
		cur, member := have[m.Role]
		if m.Revoke {
			if !member {
				continue
			}
			sql := fmt.Sprintf("REVOKE %s FROM %s", ident(m.Role), ident(r.Name))
			if pg16 && cur.Grantor != "" {
				sql += " GRANTED BY " + ident(cur.Grantor)
			}
			b.add(phRevoke, plan.Change{Kind: plan.KindMembership, Action: plan.ActionRemove, Object: object,
				Before: "member", After: "not a member", Statements: []plan.Statement{stmt("%s", sql)},
				Reason: "state: revoke"})
			continue
		}
		if !member {
			opts := grantOptions(m, pg16)
			if len(opts) == 0 {
				plain = append(plain, m.Role)
				continue
			}
			sql := fmt.Sprintf("GRANT %s TO %s", ident(m.Role), ident(r.Name))
			if len(opts) > 0 {
				sql += " WITH " + strings.Join(opts, ", ")
			}
			b.add(phMembership, plan.Change{Kind: plan.KindMembership, Action: plan.ActionCreate, Object: object,
				Before: "not a member", After: describeMembership(m, pg16), Statements: []plan.Statement{stmt("%s", sql)},
				Reason: "membership missing"})
			continue
		}
		b.membershipOptions(r, m, cur, pg16, object)
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
// option changes of an existing membership.
func (b *builder) membershipOptions(r *model.Role, m model.Membership, cur model.LiveMembership, pg16 bool, object string) {
	var stmts []plan.Statement
	var before, after []string
	option := func(name string, want *bool, have bool) {
		if want == nil || *want == have {
			return
		}
		if *want {
			with := name + " OPTION"
			if pg16 {
				with = name + " TRUE"
			}
			stmts = append(stmts, stmt("GRANT %s TO %s WITH %s", ident(m.Role), ident(r.Name), with))
		} else {
			stmts = append(stmts, stmt("REVOKE %s OPTION FOR %s FROM %s", name, ident(m.Role), ident(r.Name)))
		}
		before = append(before, strings.ToLower(name)+" "+onOff(have))
		after = append(after, strings.ToLower(name)+" "+onOff(*want))
	}
	option("ADMIN", m.Admin, cur.Admin)
	if pg16 {
		if cur.Inherit != nil {
			option("INHERIT", m.Inherit, *cur.Inherit)
		}
		if cur.Set != nil {
			option("SET", m.Set, *cur.Set)
		}
	}
	if len(stmts) > 0 {
		b.add(phMembership, plan.Change{Kind: plan.KindMembership, Action: plan.ActionChange, Object: object,
			Before: strings.Join(before, ", "), After: strings.Join(after, ", "), Statements: stmts,
			Reason: "membership options differ"})
	}
}

func describeMembership(m model.Membership, pg16 bool) string {
	s := "member"
	if opts := grantOptions(m, pg16); len(opts) > 0 {
		s += " with " + strings.ToLower(strings.Join(opts, ", "))
	}
	return s
}
