package diff

import (
	"fmt"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// fleet is the plan benchmark's workload (BENCHMARKS.md) as diff inputs:
// 100 group roles and 10,000 login roles, each login in 5 groups, every
// role with a comment; live holds all of it when inSync, nothing otherwise.
func fleet(inSync bool) (*model.Cluster, map[string]*model.InstanceState) {
	c, live := fixture()
	st := live["pg-x-1"]
	for g := range 100 {
		name := fmt.Sprintf("grp_%03d", g)
		c.Roles = append(c.Roles, &model.Role{Name: name, State: model.StateCreate, Login: ptr(false), Comment: "group " + name})
		if inSync {
			st.Roles = append(st.Roles, &model.LiveRole{Name: name, Inherit: true, ConnLimit: -1, Comment: ptr("group " + name)})
		}
	}
	for u := range 10000 {
		name := fmt.Sprintf("usr_%05d", u)
		r := &model.Role{Name: name, State: model.StateCreate, Login: ptr(true), ConnLimit: ptr(10), Comment: "user " + name}
		l := &model.LiveRole{Name: name, Login: true, Inherit: true, ConnLimit: 10, Comment: ptr("user " + name)}
		for k := range 5 {
			g := fmt.Sprintf("grp_%03d", (u+k*17)%100)
			r.MemberOf = append(r.MemberOf, model.Membership{Role: g})
			l.MemberOf = append(l.MemberOf, model.LiveMembership{Role: g, Grantor: "postgres"})
		}
		c.Roles = append(c.Roles, r)
		if inSync {
			st.Roles = append(st.Roles, l)
		}
	}
	return c, live
}

// BenchmarkDiff10kRoles is the diff alone of the plan benchmark's
// workload: in sync (nothing planned) and from empty (10,100 creates with
// their comments, 10,000 grants of 5 groups each).
func BenchmarkDiff10kRoles(b *testing.B) {
	for _, tc := range []struct {
		name   string
		inSync bool
		want   int
	}{{"in-sync", true, 0}, {"from-empty", false, 20100}} {
		b.Run(tc.name, func(b *testing.B) {
			c, live := fleet(tc.inSync)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if n := len(Cluster(c, live).Changes); n != tc.want {
					b.Fatalf("%d changes, want %d", n, tc.want)
				}
			}
		})
	}
}
