package diff

import (
	"slices"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// What Pigsty's pg-db.sql leaves on PostgreSQL 15 for database app owned
// by app, and on its schema public.
var (
	pigstyDatACL    = []string{"=Tc/app", "app=CTc/app", "dbrole_admin=C/app"}
	pigstyPublicACL = []string{"pg_database_owner=UC/pg_database_owner", "=U/pg_database_owner", "dbrole_admin=C/pg_database_owner"}
)

// grantsFixture is the diff fixture plus dbrole_admin and a database app
// in the state Pigsty's pg-db.sql leaves it.
func grantsFixture() (*model.Cluster, *model.InstanceState) {
	c, live := fixture()
	st := live["pg-x-1"]
	c.Roles = append(c.Roles, &model.Role{Name: "dbrole_admin", State: model.StateCreate, Login: ptr(false), Comment: "admin group", System: true})
	st.Roles = append(st.Roles, &model.LiveRole{Name: "dbrole_admin", Inherit: true, ConnLimit: -1, Comment: ptr("admin group")})
	c.Databases = []*model.Database{{Name: "app", State: model.DatabaseCreate, Owner: "app", Comment: "business database app"}}
	st.Databases = append(st.Databases, &model.LiveDatabase{Name: "app", Owner: "app", AllowConn: true, ConnLimit: -1,
		Comment: ptr("business database app"), ACL: pigstyDatACL, Inside: true,
		Schemas: []model.LiveSchema{{Name: "public", Owner: "pg_database_owner", ACL: pigstyPublicACL}}})
	return c, st
}

// planned lists a plan's changes as "<kind> <object>: <sql>; <sql>",
// statements run elsewhere than postgres prefixed with \c <db>.
func planned(p plan.ClusterPlan) []string {
	var out []string
	for _, ch := range p.Changes {
		var sqls []string
		for _, s := range ch.Statements {
			if s.Database != "" {
				sqls = append(sqls, `\c `+s.Database+" "+s.SQL)
			} else {
				sqls = append(sqls, s.SQL)
			}
		}
		out = append(out, string(ch.Kind)+" "+ch.Object+": "+strings.Join(sqls, "; "))
	}
	return out
}

// TestPigstyPrivileges checks each privilege pg-db.sql and
// pg-init-template.sql make true, against a live state that lacks it.
func TestPigstyPrivileges(t *testing.T) {
	noAdmin := func(c *model.Cluster, st *model.InstanceState) { // pg_default_roles: []
		c.Roles = slices.DeleteFunc(c.Roles, func(r *model.Role) bool { return r.Name == "dbrole_admin" })
		st.Roles = slices.DeleteFunc(st.Roles, func(r *model.LiveRole) bool { return r.Name == "dbrole_admin" })
	}
	app := func(st *model.InstanceState) *model.LiveDatabase { return st.Database("app") }
	for _, tc := range []struct {
		name string
		edit func(c *model.Cluster, st *model.InstanceState)
		want []string
	}{
		{"pigsty's state is in sync", func(*model.Cluster, *model.InstanceState) {}, nil},
		{"default ACLs: dbrole_admin lacks CREATE", func(_ *model.Cluster, st *model.InstanceState) {
			app(st).ACL, app(st).Schemas[0].ACL = nil, []string{"pg_database_owner=UC/pg_database_owner", "=U/pg_database_owner"}
		}, []string{
			`privilege database app: GRANT CREATE ON DATABASE "app" TO "dbrole_admin"`,
			`privilege schema app.public: \c app GRANT CREATE ON SCHEMA public TO "dbrole_admin"`,
		}},
		{"PUBLIC may create in the database", func(_ *model.Cluster, st *model.InstanceState) {
			app(st).ACL = []string{"=CTc/app", "app=CTc/app", "dbrole_admin=C/app"}
		}, []string{`privilege database app: REVOKE CREATE ON DATABASE "app" FROM PUBLIC`}},
		{"PUBLIC may create in schema public", func(_ *model.Cluster, st *model.InstanceState) {
			app(st).Schemas[0].ACL = []string{"pg_database_owner=UC/pg_database_owner", "=UC/pg_database_owner", "dbrole_admin=C/pg_database_owner"}
		}, []string{`privilege schema app.public: \c app REVOKE CREATE ON SCHEMA public FROM PUBLIC`}},
		{"PostgreSQL 14's public schema", func(_ *model.Cluster, st *model.InstanceState) {
			app(st).Schemas[0] = model.LiveSchema{Name: "public", Owner: "postgres", ACL: []string{"postgres=UC/postgres", "=UC/postgres"}}
		}, []string{
			`privilege schema app.public: \c app REVOKE CREATE ON SCHEMA public FROM PUBLIC; \c app GRANT CREATE ON SCHEMA public TO "dbrole_admin"`,
		}},
		{"a public schema with the default ACL", func(_ *model.Cluster, st *model.InstanceState) {
			app(st).Schemas[0] = model.LiveSchema{Name: "public", Owner: "app"}
		}, []string{`privilege schema app.public: \c app GRANT CREATE ON SCHEMA public TO "dbrole_admin"`}},
		{"dbrole_admin owns schema public", func(_ *model.Cluster, st *model.InstanceState) {
			app(st).Schemas[0] = model.LiveSchema{Name: "public", Owner: "dbrole_admin"}
		}, nil},
		{"the owner revoked its own CONNECT", func(_ *model.Cluster, st *model.InstanceState) {
			app(st).ACL = []string{"=Tc/app", "app=CT/app", "dbrole_admin=C/app"}
		}, []string{`privilege database app: GRANT ALL PRIVILEGES ON DATABASE "app" TO "app"`}},
		{"no owner declared: no GRANT ALL", func(c *model.Cluster, st *model.InstanceState) {
			c.Databases[0].Owner = ""
			app(st).ACL = []string{"=Tc/app", "app=CT/app", "dbrole_admin=C/app"}
		}, nil},
		{"a new owner inherits the old owner's privileges", func(c *model.Cluster, st *model.InstanceState) {
			app(st).Owner, app(st).ACL = "dbuser_dba", []string{"=Tc/dbuser_dba", "dbuser_dba=CTc/dbuser_dba", "dbrole_admin=C/dbuser_dba"}
		}, []string{`database app: ALTER DATABASE "app" OWNER TO "app"`}},
		{"a new owner the old one had revoked", func(c *model.Cluster, st *model.InstanceState) {
			app(st).Owner, app(st).ACL = "dbuser_dba", []string{"=Tc/dbuser_dba", "dbuser_dba=C/dbuser_dba", "dbrole_admin=C/dbuser_dba"}
		}, []string{
			`database app: ALTER DATABASE "app" OWNER TO "app"`,
			`privilege database app: GRANT ALL PRIVILEGES ON DATABASE "app" TO "app"`,
		}},
		{"without dbrole_admin only PUBLIC is revoked", func(c *model.Cluster, st *model.InstanceState) {
			noAdmin(c, st)
			app(st).ACL = []string{"=CTc/app", "app=CTc/app"}
			app(st).Schemas[0].ACL = []string{"pg_database_owner=UC/pg_database_owner", "=UC/pg_database_owner"}
		}, []string{
			`privilege database app: REVOKE CREATE ON DATABASE "app" FROM PUBLIC`,
			`privilege schema app.public: \c app REVOKE CREATE ON SCHEMA public FROM PUBLIC`,
		}},
		{"without dbrole_admin the default ACLs are in sync", func(c *model.Cluster, st *model.InstanceState) {
			noAdmin(c, st)
			app(st).ACL, app(st).Schemas[0].ACL = nil, nil
		}, nil},
		{"dbrole_admin being removed gets nothing", func(c *model.Cluster, st *model.InstanceState) {
			c.Role("dbrole_admin").State = model.StateAbsent
			app(st).ACL = nil
		}, []string{`role dbrole_admin`}},
		{"a database not entered: nothing inside", func(_ *model.Cluster, st *model.InstanceState) {
			app(st).Inside, app(st).Schemas = false, nil
			app(st).ACL = nil
		}, []string{`privilege database app: GRANT CREATE ON DATABASE "app" TO "dbrole_admin"`}},
		{"no schema public", func(_ *model.Cluster, st *model.InstanceState) { app(st).Schemas = nil }, nil},
		{"schema public declared absent", func(c *model.Cluster, st *model.InstanceState) {
			c.Databases[0].Schemas = []model.Schema{{Name: "public", Absent: true}}
			app(st).Schemas[0].ACL = nil
		}, []string{`schema app.public: \c app DROP SCHEMA IF EXISTS "public" CASCADE`}},
		{"schema public declared and missing", func(c *model.Cluster, st *model.InstanceState) {
			c.Databases[0].Schemas = []model.Schema{{Name: "public", Owner: "app"}}
			app(st).Schemas = nil
		}, []string{
			`schema app.public: \c app CREATE SCHEMA IF NOT EXISTS "public" AUTHORIZATION "app"`,
			`privilege schema app.public: \c app REVOKE CREATE ON SCHEMA public FROM PUBLIC; \c app GRANT CREATE ON SCHEMA public TO "dbrole_admin"`,
		}},
		{"postgres, undeclared: pg-init-template.sql only revokes", func(_ *model.Cluster, st *model.InstanceState) {
			st.Database("postgres").Schemas = []model.LiveSchema{{Name: "public", Owner: "pg_database_owner",
				ACL: []string{"pg_database_owner=UC/pg_database_owner", "=UC/pg_database_owner"}}}
			st.Database("postgres").ACL = []string{"=CTc/postgres", "postgres=CTc/postgres"}
		}, []string{`privilege schema postgres.public: \c postgres REVOKE CREATE ON SCHEMA public FROM PUBLIC`}},
		{"postgres, declared: pg-db.sql", func(c *model.Cluster, st *model.InstanceState) {
			c.Databases = []*model.Database{{Name: "postgres", State: model.DatabaseCreate, Comment: "system"}}
			st.Databases = st.Databases[:1]
			st.Database("postgres").Comment = ptr("system")
			st.Database("postgres").Schemas = []model.LiveSchema{{Name: "public", Owner: "pg_database_owner",
				ACL: []string{"pg_database_owner=UC/pg_database_owner", "=U/pg_database_owner"}}}
		}, []string{
			`privilege database postgres: GRANT CREATE ON DATABASE "postgres" TO "dbrole_admin"`,
			`privilege schema postgres.public: \c postgres GRANT CREATE ON SCHEMA public TO "dbrole_admin"`,
		}},
		{"revokeconn in sync, owner's grant option implicit", func(c *model.Cluster, st *model.InstanceState) {
			c.Databases[0].RevokeConn = ptr(true)
			app(st).ACL = []string{"=T/app", "app=CTc/app", "dbuser_dba=c*/app", "dbrole_admin=C/app"}
		}, nil},
		{"revokeconn: the admin user lacks the grant option", func(c *model.Cluster, st *model.InstanceState) {
			c.Databases[0].RevokeConn = ptr(true)
			app(st).ACL = []string{"=T/app", "app=CTc/app", "dbuser_dba=c/app", "dbrole_admin=C/app"}
		}, []string{`privilege database app: GRANT CONNECT ON DATABASE "app" TO "dbuser_dba" WITH GRANT OPTION`}},
		{"revokeconn false: PUBLIC gets CONNECT back", func(c *model.Cluster, st *model.InstanceState) {
			c.Databases[0].RevokeConn = ptr(false)
			app(st).ACL = []string{"=T/app", "app=CTc/app", "dbrole_admin=C/app"}
		}, []string{`privilege database app: GRANT CONNECT ON DATABASE "app" TO PUBLIC`}},
		{"quoted names", func(c *model.Cluster, st *model.InstanceState) {
			c.Roles = append(c.Roles, &model.Role{Name: `App "Owner"`, State: model.StateCreate, Comment: "o"})
			st.Roles = append(st.Roles, &model.LiveRole{Name: `App "Owner"`, Login: true, Inherit: true, ConnLimit: -1, Comment: ptr("o")})
			c.Databases[0].Name, app(st).Name = "my-db", "my-db"
			c.Databases[0].Comment, st.Database("my-db").Comment = "c", ptr("c")
			c.Databases[0].Owner, st.Database("my-db").Owner = `App "Owner"`, `App "Owner"`
			st.Database("my-db").ACL = []string{`=Tc/"App ""Owner"""`, `"App ""Owner"""=CTc/"App ""Owner"""`}
		}, []string{`privilege database my-db: GRANT CREATE ON DATABASE "my-db" TO "dbrole_admin"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, st := grantsFixture()
			tc.edit(c, st)
			got := planned(Cluster(c, map[string]*model.InstanceState{"pg-x-1": st}))
			for i, g := range got { // a role removal's statements are not this test's
				if strings.HasPrefix(g, "role ") {
					got[i], _, _ = strings.Cut(g, ":")
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("planned\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

// TestNewDatabaseGetsPigstyPrivileges: a database the plan creates gets
// pg-db.sql's statements in its order, and its schema public the revoke
// and the grant whatever its template holds, unless the template is known
// to have no schema public.
func TestNewDatabaseGetsPigstyPrivileges(t *testing.T) {
	c, st := grantsFixture()
	c.Roles = append(c.Roles, &model.Role{Name: "replicator", State: model.StateCreate, Comment: "r"},
		&model.Role{Name: "dbuser_monitor", State: model.StateCreate, Comment: "m"})
	st.Roles = append(st.Roles, &model.LiveRole{Name: "replicator", Login: true, Inherit: true, ConnLimit: -1, Comment: ptr("r")},
		&model.LiveRole{Name: "dbuser_monitor", Login: true, Inherit: true, ConnLimit: -1, Comment: ptr("m")})
	st.Databases = st.Databases[:1]
	c.Databases[0].RevokeConn = ptr(true)
	p := Cluster(c, map[string]*model.InstanceState{"pg-x-1": st})
	want := []string{
		`database app: CREATE DATABASE "app" OWNER "app"; COMMENT ON DATABASE "app" IS 'business database app'; ` +
			`GRANT ALL PRIVILEGES ON DATABASE "app" TO "app"; REVOKE CONNECT ON DATABASE "app" FROM PUBLIC; ` +
			`GRANT CONNECT ON DATABASE "app" TO "replicator"; GRANT CONNECT ON DATABASE "app" TO "dbuser_monitor"; ` +
			`GRANT CONNECT ON DATABASE "app" TO "dbuser_dba" WITH GRANT OPTION; GRANT CONNECT ON DATABASE "app" TO "app" WITH GRANT OPTION; ` +
			`REVOKE CREATE ON DATABASE "app" FROM PUBLIC; GRANT CREATE ON DATABASE "app" TO "dbrole_admin"`,
		`privilege schema app.public: \c app REVOKE CREATE ON SCHEMA public FROM PUBLIC; \c app GRANT CREATE ON SCHEMA public TO "dbrole_admin"`,
	}
	if got := planned(p); !slices.Equal(got, want) {
		t.Fatalf("planned\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	schema := p.Changes[1]
	if schema.Action != plan.ActionCreate || schema.After != "PUBLIC has no CREATE, dbrole_admin has CREATE" ||
		schema.Kind.DriftClass() != "privilege" {
		t.Errorf("schema change %+v", schema)
	}

	// A template that was entered and has no schema public: nothing to
	// revoke on it.
	c.Databases[0].Template = "tmpl"
	c.Databases = append(c.Databases, &model.Database{Name: "tmpl", State: model.DatabaseCreate, Owner: "app", Comment: "t"})
	st.Databases = append(st.Databases, &model.LiveDatabase{Name: "tmpl", Owner: "app", AllowConn: true, ConnLimit: -1,
		Comment: ptr("t"), ACL: pigstyDatACL, Inside: true})
	want = []string{`database app: CREATE DATABASE "app" OWNER "app" TEMPLATE "tmpl"; COMMENT ON DATABASE "app"`}
	got := planned(Cluster(c, map[string]*model.InstanceState{"pg-x-1": st}))
	if len(got) != 1 || !strings.HasPrefix(got[0], want[0]) {
		t.Fatalf("from a template without schema public: planned\n  %s", strings.Join(got, "\n  "))
	}
}

// TestPrivilegeWording: the plan line says what holds and what will.
func TestPrivilegeWording(t *testing.T) {
	c, st := grantsFixture()
	c.Databases[0].RevokeConn = ptr(true)
	st.Database("app").ACL = []string{"=CTc/app", "app=CTc/app", "dbuser_dba=c/app"}
	p := Cluster(c, map[string]*model.InstanceState{"pg-x-1": st})
	if len(p.Changes) != 1 {
		t.Fatalf("got %v", planned(p))
	}
	ch := p.Changes[0]
	wantBefore := "PUBLIC has CONNECT, dbuser_dba has CONNECT without grant option, PUBLIC has CREATE, dbrole_admin has no CREATE"
	wantAfter := "PUBLIC has no CONNECT, dbuser_dba has CONNECT WITH GRANT OPTION, PUBLIC has no CREATE, dbrole_admin has CREATE"
	if ch.Kind != plan.KindPrivilege || ch.Action != plan.ActionChange || ch.Before != wantBefore || ch.After != wantAfter {
		t.Errorf("got %s %s %q → %q", ch.Kind, ch.Action, ch.Before, ch.After)
	}
}
