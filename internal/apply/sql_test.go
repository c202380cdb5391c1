package apply_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/scram"
)

// TestEachKindConverges applies one handcrafted change of every SQL kind,
// in the order the diff engine emits them, and checks the catalogs and the
// change log.
func TestEachKindConverges(t *testing.T) {
	f := newFixture(t)
	alicePW := rand.Text()
	bobVerifier, err := scram.New(rand.Text(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	changes := []plan.Change{
		createRole("app_ro", "NOLOGIN"),
		createRole("app_rw", "NOLOGIN"),
		createRole("alice", "LOGIN CREATEDB CONNECTION LIMIT 5"),
		createRole("bob", "LOGIN"),
		roleChange(plan.ActionChange, "alice", plan.RoleAttrs{CreateDB: new(bool), ConnLimit: new(3)},
			stmt(`ALTER ROLE alice NOCREATEDB CONNECTION LIMIT 3`)),
		change(plan.KindComment, plan.ActionCreate, "alice", stmt(`COMMENT ON ROLE alice IS 'business user alice'`)),
		change(plan.KindRoleSetting, plan.ActionCreate, "alice", stmt(`ALTER ROLE alice SET search_path = app, public`)),
		passwordChange("alice", "ALTER ROLE alice PASSWORD "+plan.PasswordPlaceholder, alicePW, "scram-sha-256"),
		passwordChange("bob", "ALTER ROLE bob PASSWORD "+plan.PasswordPlaceholder, bobVerifier, ""),
		change(plan.KindMembership, plan.ActionCreate, "alice->app_rw", stmt(`GRANT app_rw TO alice`)),
		change(plan.KindMembership, plan.ActionCreate, "alice->app_ro", stmt(`GRANT app_ro TO alice`)),
		change(plan.KindDatabase, plan.ActionCreate, "appdb",
			noTx(`CREATE DATABASE appdb OWNER alice`), stmt(`COMMENT ON DATABASE appdb IS 'business database appdb'`)),
		change(plan.KindSchema, plan.ActionCreate, "appdb.app", in("appdb", `CREATE SCHEMA app AUTHORIZATION alice`)),
		change(plan.KindExtension, plan.ActionCreate, "appdb.pg_trgm", in("appdb", `CREATE EXTENSION pg_trgm SCHEMA app`)),
		change(plan.KindDefaultPrivilege, plan.ActionCreate, "appdb.alice.app",
			in("appdb", `ALTER DEFAULT PRIVILEGES FOR ROLE alice IN SCHEMA app GRANT SELECT ON TABLES TO app_ro`)),
		change(plan.KindDatabase, plan.ActionChange, "appdb", in("appdb", `REVOKE CONNECT ON DATABASE appdb FROM PUBLIC`),
			in("appdb", `GRANT CONNECT ON DATABASE appdb TO app_rw`)),
		change(plan.KindMembership, plan.ActionRemove, "alice->app_ro", stmt(`REVOKE app_ro FROM alice`)),
	}
	res := f.apply(changes...)
	wantStatus(t, res, plan.StatusApplied)

	ctx := context.Background()
	var createdb bool
	var connLimit int
	var comment, config, bobStored string
	queryRow(t, env.Primary, "postgres", `SELECT r.rolcreatedb, r.rolconnlimit, shobj_description(r.oid, 'pg_authid'),
		array_to_string(r.rolconfig, ';'), (SELECT rolpassword FROM pg_authid WHERE rolname = 'bob')
		FROM pg_roles r WHERE rolname = 'alice'`, nil, &createdb, &connLimit, &comment, &config, &bobStored)
	if createdb || connLimit != 3 || comment != "business user alice" || config != "search_path=app, public" || bobStored != bobVerifier {
		t.Errorf("alice: createdb %v, connlimit %d, comment %q, config %q; bob's verifier stored as given: %v",
			createdb, connLimit, comment, config, bobStored == bobVerifier)
	}
	conn, err := env.Primary.Connect(ctx, "alice", alicePW, "appdb")
	if err != nil {
		t.Fatalf("alice cannot log in with the new password: %v", err)
	}
	conn.Close(ctx)

	var groups, dbOwner, schemaOwner, extSchema, defacl, datacl string
	queryRow(t, env.Primary, "appdb", `SELECT
		(SELECT string_agg(g.rolname, ',' ORDER BY g.rolname) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
		 JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = 'alice'),
		(SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'appdb'),
		(SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'app'),
		(SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'),
		(SELECT defaclacl::text FROM pg_default_acl WHERE defaclrole = 'alice'::regrole),
		(SELECT datacl::text FROM pg_database WHERE datname = 'appdb')`, nil,
		&groups, &dbOwner, &schemaOwner, &extSchema, &defacl, &datacl)
	if groups != "app_rw" || dbOwner != "alice" || schemaOwner != "alice" || extSchema != "app" ||
		defacl != "{app_ro=r/alice}" || strings.Contains(datacl, "=Tc/") || !strings.Contains(datacl, "app_rw=c/") {
		t.Errorf("groups %q, db owner %q, schema owner %q, extension schema %q, default acl %q, datacl %q",
			groups, dbOwner, schemaOwner, extSchema, defacl, datacl)
	}

	rows := f.changeLog()
	if len(rows) != len(changes) {
		t.Fatalf("%d change-log rows for %d changes: %+v", len(rows), len(changes), rows)
	}
	for i, r := range rows {
		c := changes[i]
		if r.Kind != string(c.Kind) || r.Object != c.Object || r.Action != c.Action.String() || r.Status != "applied" ||
			r.Signer != f.opts.Provenance.Signer || r.Author != f.opts.Provenance.Author || r.Cluster != env.Name || r.Instance != primaryName() {
			t.Errorf("row %d: %+v, for change %s %s", i, r, c.Kind, c.Object)
		}
	}
	if !strings.Contains(rows[7].Statement, "'"+model.Redacted+"'") {
		t.Errorf("password row statement: %q", rows[7].Statement)
	}
	got, err := apply.LastApplied(ctx, mustConnect(t))
	if err != nil || got.Commit != f.commit || time.Since(got.At) > time.Hour || time.Since(got.At) < -time.Hour {
		t.Errorf("LastApplied = %+v, %v; want commit %q applied just now", got, err, f.commit)
	}
	if n := strings.Count(f.logs.String(), `"msg":"applied change"`); n != len(changes) {
		t.Errorf("%d 'applied change' log lines for %d changes", n, len(changes))
	}
}

// TestFailingChangeIsRolledBackAlone: in one database transaction, the
// failing changes are reported with their SQLSTATE and leave no trace,
// while the changes around them commit (promise P14; docs/promises.md).
func TestFailingChangeIsRolledBackAlone(t *testing.T) {
	f := newFixture(t)
	res := f.apply(
		createRole("iso_a", "LOGIN"),
		change(plan.KindMembership, plan.ActionCreate, "iso_a->missing", stmt(`GRANT no_such_group TO iso_a`)),
		createRole("iso_b", "NOLOGIN"),
		// two statements: the second fails, so the first must be undone too
		change(plan.KindRole, plan.ActionCreate, "iso_half", stmt(`CREATE ROLE iso_half`), stmt(`GRANT no_such_group TO iso_half`)),
		change(plan.KindComment, plan.ActionCreate, "iso_b", stmt(`COMMENT ON ROLE iso_b IS 'kept'`)),
		change(plan.KindComment, plan.ActionCreate, "missing", stmt(`COMMENT ON ROLE no_such_role IS 'x'`)),
		change(plan.KindMembership, plan.ActionCreate, "iso_a->iso_b", stmt(`GRANT iso_b TO iso_a`)),
	)
	want := []plan.Status{plan.StatusApplied, plan.StatusFailed, plan.StatusApplied, plan.StatusFailed,
		plan.StatusApplied, plan.StatusFailed, plan.StatusApplied}
	for i, o := range res.Outcomes {
		if o.Status != want[i] {
			t.Errorf("change %d (%s): %s %q, want %s", i, o.Change.Object, o.Status, o.Error, want[i])
		}
		if o.Status == plan.StatusFailed && (o.SQLState != "42704" || !strings.Contains(o.Error, "does not exist")) {
			t.Errorf("change %d: error %q sqlstate %q, want 42704", i, o.Error, o.SQLState)
		}
	}
	var roles, comment, member string
	queryRow(t, env.Primary, "postgres", `SELECT string_agg(rolname, ',' ORDER BY rolname), shobj_description('iso_b'::regrole, 'pg_authid'),
		(SELECT string_agg(roleid::regrole::text, ',') FROM pg_auth_members WHERE member = 'iso_a'::regrole)
		FROM pg_roles WHERE rolname LIKE 'iso_%'`, nil, &roles, &comment, &member)
	if roles != "iso_a,iso_b" || comment != "kept" || member != "iso_b" {
		t.Errorf("roles %q, comment %q, iso_a member of %q", roles, comment, member)
	}
	var statuses []string
	for _, r := range f.changeLog() {
		statuses = append(statuses, r.Status)
		if r.Status == "failed" && !strings.Contains(r.Error, "does not exist") {
			t.Errorf("failed row without the error: %+v", r)
		}
	}
	if strings.Join(statuses, ",") != "applied,failed,applied,failed,applied,failed,applied" {
		t.Errorf("change-log statuses %v", statuses)
	}
}

// mustConnect opens a superuser session to the primary's postgres
// database for the rest of the test.
func mustConnect(t testing.TB) *pgx.Conn {
	t.Helper()
	conn, err := env.Primary.Connect(context.Background(), env.SuperUser, env.SuperPassword, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
