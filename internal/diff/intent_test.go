package diff

import (
	"reflect"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// richPlan plans one change of nearly every kind and action against the
// grants fixture.
func richPlan() plan.ClusterPlan {
	c, st := grantsFixture()
	live := map[string]*model.InstanceState{"pg-x-1": st}
	c.Role("app").CreateDB = ptr(true)
	c.Role("app").Settings = []model.Setting{{Name: "work_mem", Value: "64MB"}}
	c.Role("app").MemberOf = append(c.Role("app").MemberOf, model.Membership{Role: "dbuser_dba", Admin: model.Yes},
		model.Membership{Role: "pg_monitor", Revoke: true})
	st.Role("app").MemberOf = append(st.Role("app").MemberOf, model.LiveMembership{Role: "pg_monitor"})
	c.Role("app").Password = model.NewSecret("new password")
	c.Roles = append(c.Roles,
		&model.Role{Name: "NOLOGIN", State: model.StateCreate, Comment: "a role named like a keyword", Settings: []model.Setting{{Name: "search_path", Value: "a"}}},
		&model.Role{Name: "legacy", State: model.StateAbsent})
	st.Roles = append(st.Roles, &model.LiveRole{Name: "legacy", Login: true}, &model.LiveRole{Name: "bob", Login: true})
	c.Databases = append(c.Databases,
		&model.Database{Name: "newdb", State: model.DatabaseCreate, Owner: "app", Comment: "new", RevokeConn: ptr(true),
			Settings: []model.Setting{{Name: "timezone", Value: "UTC"}},
			Schemas:  []model.Schema{{Name: "s", Owner: "app"}}, Extensions: []model.Extension{{Name: "pg_trgm", Schema: "s"}}},
		&model.Database{Name: "olddb", State: model.DatabaseAbsent})
	c.Databases[0].ConnLimit = ptr(5)
	c.Databases[0].Comment = "changed"
	c.Databases[0].Schemas = []model.Schema{{Name: "gone", Absent: true}}
	st.Database("app").Schemas = append(st.Database("app").Schemas, model.LiveSchema{Name: "gone", Owner: "app"})
	st.Databases = append(st.Databases, &model.LiveDatabase{Name: "olddb", Owner: "postgres", AllowConn: true, IsTemplate: true})
	c.DefaultPrivileges = []string{"GRANT SELECT ON TABLES TO dbrole_readonly"}
	in := c.Instances[0]
	in.Parameters = []model.Parameter{{Name: "work_mem", Value: "8MB"}}
	st.Settings["work_mem"] = &model.LiveSetting{Name: "work_mem", Setting: "4096", Unit: "kB", Context: "user", VarType: "integer",
		MinVal: "64", MaxVal: "2147483647", Source: "default"}
	return Cluster(c, live)
}

// TestEveryPlannedChangeCarriesItsIntent: a change that is planned (not a
// report or a note) says what it means as data, and its statements are
// exactly what that intent renders: no statement is written any other way.
func TestEveryPlannedChangeCarriesItsIntent(t *testing.T) {
	p := richPlan()
	kinds := map[plan.Kind]bool{}
	for _, ch := range p.Changes {
		if ch.Action == plan.ActionReport || ch.Action == plan.ActionNote {
			if len(ch.Statements) != 0 {
				t.Errorf("%s %s %s has statements", ch.Action, ch.Kind, ch.Object)
			}
			continue
		}
		kinds[ch.Kind] = true
		if ch.Kind == plan.KindHBA {
			continue
		}
		if len(ch.Statements) == 0 {
			t.Errorf("%s %s %s: no statements (no intent?)", ch.Action, ch.Kind, ch.Object)
		}
		if got := ch.Render(150018); !reflect.DeepEqual(got, ch.Statements) {
			t.Errorf("%s %s %s: statements %v, its intent renders %v", ch.Action, ch.Kind, ch.Object, ch.Statements, got)
		}
		intent := map[plan.Kind]bool{
			plan.KindRole: ch.Role != nil, plan.KindMembership: ch.Membership != nil, plan.KindPassword: ch.Password != nil,
			plan.KindComment: ch.Comment != nil, plan.KindRoleSetting: ch.Settings != nil,
			plan.KindDatabase: ch.Database != nil || ch.Settings != nil, plan.KindSchema: ch.Schema != nil,
			plan.KindExtension: ch.Extension != nil, plan.KindPrivilege: len(ch.Grants) > 0,
			plan.KindDefaultPrivilege: ch.DefaultPrivileges != nil, plan.KindParameter: ch.Parameter != nil,
		}
		if !intent[ch.Kind] {
			t.Errorf("%s %s %s: no intent of its kind: %+v", ch.Action, ch.Kind, ch.Object, ch)
		}
	}
	for _, k := range []plan.Kind{plan.KindRole, plan.KindMembership, plan.KindPassword, plan.KindComment, plan.KindRoleSetting,
		plan.KindDatabase, plan.KindSchema, plan.KindExtension, plan.KindPrivilege, plan.KindDefaultPrivilege, plan.KindParameter} {
		if !kinds[k] {
			t.Errorf("the fixture plans no %s change: the test covers less than it says", k)
		}
	}
}

// TestIntentNamesTheObject: the guards read the role from the intent, and
// the intent is the spec's name, whatever the display text (Object) says.
func TestIntentNamesTheObject(t *testing.T) {
	for _, ch := range richPlan().Changes {
		switch {
		case ch.Kind == plan.KindRole && ch.Action == plan.ActionCreate && ch.Object == "NOLOGIN":
			if ch.Role.Name != "NOLOGIN" || *ch.Role.Attrs.Login != true || sqlOf(ch) != `CREATE ROLE "NOLOGIN" LOGIN; `+
				`COMMENT ON ROLE "NOLOGIN" IS 'a role named like a keyword'; ALTER ROLE "NOLOGIN" SET "search_path" = 'a'` {
				t.Errorf("role NOLOGIN: %+v: %s", ch.Role, sqlOf(ch))
			}
		case ch.Kind == plan.KindRole && ch.Action == plan.ActionRemove:
			if ch.Role.Name != "legacy" || ch.Role.Drop == nil || ch.Role.Drop.Successor != "postgres" ||
				!reflect.DeepEqual(ch.Role.Drop.Databases, []string{"postgres", "app"}) {
				t.Errorf("removal: %+v %+v", ch.Role, ch.Role.Drop)
			}
		case ch.Kind == plan.KindMembership && ch.Action == plan.ActionRemove:
			if ch.Membership.Member != "app" || !reflect.DeepEqual(ch.Membership.Roles, []string{"pg_monitor"}) {
				t.Errorf("revoke: %+v", ch.Membership)
			}
		case ch.Kind == plan.KindComment && ch.Object == "database app":
			if ch.Comment.On != plan.OnDatabase || ch.Comment.Name != "app" || ch.Comment.Text != "changed" {
				t.Errorf("comment: %+v", ch.Comment)
			}
		}
	}
}

// TestReportCarriesTheRefusedAttributes: what the lockout guard keeps out
// of a plan is in the report's intent; what it lets through is planned.
func TestReportCarriesTheRefusedAttributes(t *testing.T) {
	c, live := fixture()
	c.Role("dbuser_dba").Superuser = ptr(false) // the reconciler's own role
	c.Role("dbuser_dba").CreateDB = ptr(true)
	roles := changesOf(Cluster(c, live), plan.KindRole)
	if len(roles) != 2 {
		t.Fatalf("got %+v", roles)
	}
	planned, report := roles[0], roles[1]
	if planned.Action != plan.ActionChange || !reflect.DeepEqual(planned.Role.Attrs.Clauses(), []string{"CREATEDB"}) ||
		sqlOf(planned) != `ALTER ROLE "dbuser_dba" CREATEDB` {
		t.Errorf("planned: %+v %s", planned.Role, sqlOf(planned))
	}
	if report.Action != plan.ActionReport || report.Role.Name != "dbuser_dba" ||
		!reflect.DeepEqual(report.Role.Attrs.Clauses(), []string{"NOSUPERUSER"}) {
		t.Errorf("report: %+v", report.Role)
	}
}
