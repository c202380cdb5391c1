package reconcile

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// The reconciler creates app and app2; Pigsty's pg-db.sql, run by hand,
// makes their twins with the same options.
const pigstyRoles = `pg_users: [{name: "dbuser_app", password: "App.Secret.2026", roles: ["dbrole_readwrite"]}]`

const pigstyDatabases = pigstyRoles + `
pg_databases: [
	{name: "app", owner: "dbuser_app", revokeconn: true},
	{name: "twin", owner: "dbuser_app", revokeconn: true},
	{name: "app2", owner: "dbuser_app"},
	{name: "twin2", owner: "dbuser_app"},
]`

// pigstyCreate does what Pigsty's pgsql-db.yml does for a database with
// an owner, with the default system user names: createdb -O owner, then
// pg-db.sql rendered with the role defaults, run by psql as the dbsu in
// the new database. templateDefaults are the default privileges a template1
// initialised by pg-init-template.sql would have handed down (FOR ROLE the
// dbsu, the admin user and dbrole_admin); the test cluster's template1
// lacks them.
func pigstyCreate(t *testing.T, name, owner string, revokeconn bool, defaultPrivileges []string) {
	t.Helper()
	db, o := pgx.Identifier{name}.Sanitize(), pgx.Identifier{owner}.Sanitize()
	cluster.Primary.MustLocal(t, "postgres", "CREATE DATABASE "+db+" OWNER "+o)
	var stmts []string
	for _, role := range []string{"postgres", "dbuser_dba", "dbrole_admin"} { // template1's (pg-init-template.sql)
		for _, p := range defaultPrivileges {
			stmts = append(stmts, "ALTER DEFAULT PRIVILEGES FOR ROLE "+role+" "+p)
		}
	}
	// pg-db.sql, in its order.
	stmts = append(stmts,
		"ALTER DATABASE "+db+" OWNER TO "+o,
		"GRANT ALL PRIVILEGES ON DATABASE "+db+" TO "+o,
		"COMMENT ON DATABASE "+db+" IS 'business database "+name+"'")
	if revokeconn {
		stmts = append(stmts,
			"REVOKE CONNECT ON DATABASE "+db+" FROM PUBLIC",
			"GRANT CONNECT ON DATABASE "+db+` TO "replicator"`,
			"GRANT CONNECT ON DATABASE "+db+` TO "dbuser_monitor"`,
			"GRANT CONNECT ON DATABASE "+db+` TO "dbuser_dba" WITH GRANT OPTION`,
			"GRANT CONNECT ON DATABASE "+db+" TO "+o+" WITH GRANT OPTION")
	}
	stmts = append(stmts,
		"REVOKE CREATE ON DATABASE "+db+" FROM PUBLIC",
		"GRANT CREATE ON DATABASE "+db+` TO "dbrole_admin"`,
		"REVOKE CREATE ON SCHEMA public FROM PUBLIC",
		`GRANT CREATE ON SCHEMA public TO "dbrole_admin"`)
	for _, p := range defaultPrivileges {
		stmts = append(stmts, "ALTER DEFAULT PRIVILEGES FOR ROLE "+o+" "+p)
	}
	cluster.Primary.MustLocal(t, name, strings.Join(stmts, ";\n")) // psql as the dbsu, as Pigsty runs it
}

// privileges is everything pg-db.sql decides about a database: its ACL,
// schema public's owner and ACL, and its default privileges (exploded and
// sorted: their order inside an aclitem[] is not meaningful).
type privileges struct {
	datacl, nspacl []string
	nspowner       string
	defaults       []string
}

func privilegesOf(t *testing.T, db string) privileges {
	t.Helper()
	ctx := context.Background()
	conn, err := cluster.Primary.Connect(ctx, cluster.SuperUser, cluster.SuperPassword, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var p privileges
	err = conn.QueryRow(ctx, `SELECT d.datacl::text[], n.nspacl::text[], pg_get_userbyid(n.nspowner),
		coalesce((SELECT array_agg(format('%s %s %s to %s%s', pg_get_userbyid(a.defaclrole), a.defaclobjtype,
		                 x.privilege_type, CASE x.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END,
		                 CASE WHEN x.is_grantable THEN ' with grant option' ELSE '' END))
		          FROM pg_default_acl a CROSS JOIN LATERAL aclexplode(a.defaclacl) x), '{}')
		FROM pg_database d, pg_namespace n WHERE d.datname = current_database() AND n.nspname = 'public'`).
		Scan(&p.datacl, &p.nspacl, &p.nspowner, &p.defaults)
	if err != nil {
		t.Fatalf("read the privileges of %s: %v", db, err)
	}
	slices.Sort(p.defaults)
	return p
}

// samePrivileges fails unless the reconciler's database and Pigsty's twin
// hold the same privileges.
func samePrivileges(t *testing.T, db, twin string) {
	t.Helper()
	got, want := privilegesOf(t, db), privilegesOf(t, twin)
	if !slices.Equal(got.datacl, want.datacl) {
		t.Errorf("%s's ACL is %v, Pigsty's %s has %v", db, got.datacl, twin, want.datacl)
	}
	if !slices.Equal(got.nspacl, want.nspacl) || got.nspowner != want.nspowner {
		t.Errorf("%s's schema public is %s's with %v, Pigsty's %s has %s's with %v", db, got.nspowner, got.nspacl,
			twin, want.nspowner, want.nspacl)
	}
	if !slices.Equal(got.defaults, want.defaults) {
		t.Errorf("%s's default privileges are\n%s\nPigsty's %s has\n%s", db, strings.Join(got.defaults, "\n"),
			twin, strings.Join(want.defaults, "\n"))
	}
}

// TestDatabasesAsPigstyMakesThem: databases the reconciler creates hold
// exactly the privileges Pigsty's pg-db.sql gives their twins, the twins
// show no drift, a second apply changes nothing, and drift from those
// privileges (the least-privilege baseline) is planned and healed.
func TestDatabasesAsPigstyMakesThem(t *testing.T) {
	cluster.ResetForReconciler(t)
	applyAll(t, loadSpec(t, cluster.PigstySpec(pigstyRoles))) // Pigsty creates users before databases
	c := loadSpec(t, cluster.PigstySpec(pigstyDatabases))
	pigstyCreate(t, "twin", "dbuser_app", true, c.DefaultPrivileges)
	pigstyCreate(t, "twin2", "dbuser_app", false, c.DefaultPrivileges)

	initial, _ := planOf(t, c)
	for _, ch := range driftOf(initial) {
		if strings.Contains(ch.Object, "twin") {
			t.Errorf("a database as Pigsty made it is drift: %s %s: %s → %s", ch.Kind, ch.Object, ch.Before, ch.After)
		}
	}
	applyAll(t, c)
	if left := driftOf(first(planOf(t, c))); len(left) > 0 {
		t.Fatalf("not converged after one apply:%s", describe(left))
	}
	for _, o := range applyAll(t, c).Outcomes {
		if o.Status == plan.StatusApplied {
			t.Fatalf("second apply changed %s %s", o.Change.Kind, o.Change.Object)
		}
	}
	want := []string{"=T/dbuser_app", "dbuser_app=CTc*/dbuser_app", "replicator=c/dbuser_app", "dbuser_monitor=c/dbuser_app",
		"dbuser_dba=c*/dbuser_app", "dbrole_admin=C/dbuser_app"}
	if got := privilegesOf(t, "twin").datacl; !slices.Equal(got, want) {
		t.Fatalf("pg-db.sql made %v, this test expects %v", got, want)
	}
	samePrivileges(t, "app", "twin")
	samePrivileges(t, "app2", "twin2")

	primary := cluster.Primary
	t.Cleanup(func() { primary.MustLocal(t, "postgres", "REVOKE CREATE ON SCHEMA public FROM PUBLIC") })
	for _, tc := range []struct {
		name, db, drift, object string
	}{
		{"PUBLIC may create in schema public", "app", "GRANT CREATE ON SCHEMA public TO PUBLIC", "schema app.public"},
		{"dbrole_admin may not create in schema public", "app2", `REVOKE CREATE ON SCHEMA public FROM dbrole_admin`, "schema app2.public"},
		{"PUBLIC may create schemas", "app", "GRANT CREATE ON DATABASE app TO PUBLIC", "database app"},
		{"dbrole_admin may not create schemas", "postgres", "REVOKE CREATE ON DATABASE app2 FROM dbrole_admin", "database app2"},
		{"the owner lost TEMPORARY", "postgres", "REVOKE TEMPORARY ON DATABASE app2 FROM dbuser_app", "database app2"},
		{"PUBLIC may connect again", "postgres", "GRANT CONNECT ON DATABASE app TO PUBLIC", "database app"},
		{"PUBLIC may create in postgres's schema public", "postgres", "GRANT CREATE ON SCHEMA public TO PUBLIC", "schema postgres.public"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			primary.MustLocal(t, tc.db, tc.drift)
			got := driftOf(first(planOf(t, c)))
			if len(got) != 1 || got[0].Kind != plan.KindPrivilege || got[0].Object != tc.object || got[0].Instance != "pg-e2e-1" {
				t.Fatalf("want exactly one privilege drift of %s, got:%s", tc.object, describe(got))
			}
			applyAll(t, c)
			if left := driftOf(first(planOf(t, c))); len(left) > 0 {
				t.Fatalf("apply did not heal it:%s", describe(left))
			}
		})
	}
	samePrivileges(t, "app", "twin")
	samePrivileges(t, "app2", "twin2")
}

// TestDatabaseWithoutDbroleAdmin: with pg_default_roles: [] there is no
// dbrole_admin to grant to. A new database still gets CREATE revoked
// from PUBLIC, nothing fails, and nothing is left to plan.
func TestDatabaseWithoutDbroleAdmin(t *testing.T) {
	cluster.ResetForReconciler(t)
	c := loadSpec(t, cluster.PigstySpec(`pg_default_roles: []
		pg_default_privileges: []
		pg_databases: [{name: "bare"}]`))
	if slices.ContainsFunc(c.Roles, func(r *model.Role) bool { return r.Name == "dbrole_admin" }) {
		t.Fatal("dbrole_admin is declared: the test proves nothing")
	}
	applyAll(t, c)
	if left := driftOf(first(planOf(t, c))); len(left) > 0 {
		t.Fatalf("not converged after one apply:%s", describe(left))
	}
	got := privilegesOf(t, "bare")
	if want := []string{"=Tc/dbuser_dba", "dbuser_dba=CTc/dbuser_dba"}; !slices.Equal(got.datacl, want) {
		t.Errorf("datacl %v, want %v", got.datacl, want)
	}
	want := []string{"pg_database_owner=UC/pg_database_owner", "=U/pg_database_owner"}
	if cluster.Major < 15 { // the bootstrap superuser's public schema, CREATE revoked from PUBLIC
		want = []string{"postgres=UC/postgres", "=U/postgres"}
	}
	if !slices.Equal(got.nspacl, want) {
		t.Errorf("public's ACL %v, want %v", got.nspacl, want)
	}
	cluster.Primary.MustLocal(t, "bare", "GRANT CREATE ON SCHEMA public TO PUBLIC")
	drift := driftOf(first(planOf(t, c)))
	if len(drift) != 1 || drift[0].Object != "schema bare.public" || len(drift[0].Statements) != 1 {
		t.Fatalf("want the revoke alone, got:%s", describe(drift))
	}
}
