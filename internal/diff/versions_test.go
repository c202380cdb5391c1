package diff

import (
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// onVersion is the fixture with the primary on server_version_num v.
func onVersion(v int) (*model.Cluster, map[string]*model.InstanceState) {
	c, live := fixture()
	live["pg-x-1"].Version = v
	return c, live
}

// TestMembershipGrantors16: on PostgreSQL 16+ a membership may hold one
// grant per grantor; a revoke, of the membership or of an option, takes
// each grant that holds it, GRANTED BY its grantor, so that the next plan
// is empty. Before 16, one plain REVOKE.
func TestMembershipGrantors16(t *testing.T) {
	grants := func(st *model.InstanceState) {
		st.Role("app").MemberOf = []model.LiveMembership{
			{Role: "dbrole_readonly", Grantor: "dbuser_dba", Admin: true, Inherit: ptr(true), Set: ptr(true)},
			{Role: "dbrole_readonly", Grantor: "postgres", Inherit: ptr(false), Set: ptr(true)},
		}
	}
	c, live := onVersion(160004)
	grants(live["pg-x-1"])
	if p := Cluster(c, live); len(p.Changes) != 0 {
		t.Fatalf("two grants of a listed membership are drift: %+v", p.Changes)
	}

	c.Role("app").MemberOf = []model.Membership{{Role: "dbrole_readonly", Admin: ptr(false), Inherit: ptr(true)}}
	p := Cluster(c, live)
	m := changesOf(p, plan.KindMembership)
	// INHERIT is on (one grant has it); ADMIN comes off the one grant that holds it.
	if len(m) != 1 || sqlOf(m[0]) != `REVOKE ADMIN OPTION FOR "dbrole_readonly" FROM "app" GRANTED BY "dbuser_dba"` {
		t.Fatalf("admin option off: %+v", m)
	}

	c.Role("app").MemberOf = []model.Membership{{Role: "dbrole_readonly", Inherit: ptr(false)}}
	m = changesOf(Cluster(c, live), plan.KindMembership)
	if len(m) != 1 || sqlOf(m[0]) != `REVOKE INHERIT OPTION FOR "dbrole_readonly" FROM "app" GRANTED BY "dbuser_dba"` {
		t.Fatalf("inherit option off: %+v", m)
	}

	c.Role("app").MemberOf = []model.Membership{{Role: "dbrole_readonly", Revoke: true}}
	m = changesOf(Cluster(c, live), plan.KindMembership)
	want := `REVOKE "dbrole_readonly" FROM "app" GRANTED BY "dbuser_dba"; REVOKE "dbrole_readonly" FROM "app" GRANTED BY "postgres"`
	if len(m) != 1 || m[0].Action != plan.ActionRemove || sqlOf(m[0]) != want {
		t.Fatalf("revoke: %+v", m)
	}

	c, live = onVersion(150018)
	live["pg-x-1"].Role("app").MemberOf = []model.LiveMembership{{Role: "dbrole_readonly", Grantor: "dbuser_dba", Admin: true}}
	c.Role("app").MemberOf = []model.Membership{{Role: "dbrole_readonly", Admin: ptr(false)}}
	m = changesOf(Cluster(c, live), plan.KindMembership)
	if len(m) != 1 || sqlOf(m[0]) != `REVOKE ADMIN OPTION FOR "dbrole_readonly" FROM "app"` {
		t.Fatalf("PostgreSQL 15: %+v", m)
	}
}
