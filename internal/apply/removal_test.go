package apply_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// removal is Pigsty's drop procedure as the diff engine plans it: NOLOGIN,
// terminate sessions, REASSIGN OWNED + DROP OWNED in every database, DROP
// ROLE.
func removal(role, successor string, dbs ...string) plan.Change {
	return rendered(plan.Change{Kind: plan.KindRole, Action: plan.ActionRemove, Object: role,
		Intent: plan.Intent{Role: &plan.RoleChange{Name: role, Drop: &plan.RoleDrop{Successor: successor, Databases: dbs}}}})
}

// TestRemoveRoleOwningObjectsInTwoDatabases (cases S01, S02; docs/promises.md): the procedure runs
// per database, the role is gone, its tables belong to the successor, its
// default privileges and its open session are gone.
func TestRemoveRoleOwningObjectsInTwoDatabases(t *testing.T) {
	f := newFixture(t)
	pw := rand.Text()
	exec(t, "postgres", "CREATE ROLE leaver LOGIN PASSWORD "+quote(pw), "CREATE DATABASE rm_one", "CREATE DATABASE rm_two",
		"CREATE ROLE keeper")
	for _, db := range []string{"rm_one", "rm_two"} {
		exec(t, db, "CREATE TABLE t_"+db+" (id int)", "ALTER TABLE t_"+db+" OWNER TO leaver",
			"ALTER DEFAULT PRIVILEGES FOR ROLE leaver GRANT SELECT ON TABLES TO keeper")
	}
	ctx := context.Background()
	session, err := env.Primary.Connect(ctx, "leaver", pw, "rm_one")
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close(ctx)

	res := f.apply(removal("leaver", env.SuperUser, "postgres", "rm_one", "rm_two"))
	wantStatus(t, res, plan.StatusApplied)

	var exists bool
	queryRow(t, env.Primary, "postgres", "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = 'leaver')", nil, &exists)
	if exists {
		t.Error("role leaver still exists")
	}
	for _, db := range []string{"rm_one", "rm_two"} {
		var owner string
		var defacls int
		queryRow(t, env.Primary, db, "SELECT pg_get_userbyid(relowner), (SELECT count(*) FROM pg_default_acl) FROM pg_class WHERE relname = $1",
			[]any{"t_" + db}, &owner, &defacls)
		if owner != env.SuperUser || defacls != 0 {
			t.Errorf("%s: table owned by %q, %d default ACLs left", db, owner, defacls)
		}
	}
	if err := session.Ping(ctx); err == nil {
		t.Error("the removed role's session survived")
	}
	if rows := f.changeLog(); len(rows) != 1 || rows[0].Status != "applied" || !strings.Contains(rows[0].Statement, `DROP ROLE "leaver"`) {
		t.Errorf("change log: %+v", rows)
	}
}

// TestRemovalStopsAtTheFailingStep: a step that fails stops the procedure;
// the error names the step, and the earlier steps stay done.
func TestRemovalStopsAtTheFailingStep(t *testing.T) {
	f := newFixture(t)
	exec(t, "postgres", "CREATE ROLE stuck LOGIN", "CREATE DATABASE rm_stuck")
	exec(t, "rm_stuck", "CREATE TABLE t (id int)", "ALTER TABLE t OWNER TO stuck")
	res := f.apply(removal("stuck", "no_such_successor", "rm_stuck"))
	o := res.Outcomes[0]
	if o.Status != plan.StatusFailed || o.SQLState != "42704" ||
		!strings.Contains(o.Error, "step 2 of 3") || !strings.Contains(o.Error, "database rm_stuck") ||
		!strings.Contains(o.Error, "step 1 is committed") {
		t.Fatalf("outcome %s %q sqlstate %q", o.Status, o.Error, o.SQLState)
	}
	var login bool
	queryRow(t, env.Primary, "postgres", "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'stuck'", nil, &login)
	if login {
		t.Error("the first step (NOLOGIN) was not committed")
	}
}

// TestGuardsRefuseWhateverThePlanSays (promises P7, P12; case S03; docs/promises.md): protected roles are
// never removed, a database owner is never dropped, the reconciler's own
// login role keeps its password, LOGIN and SUPERUSER, and neither the
// replication user's nor the dbsu's password is changed.
func TestGuardsRefuseWhateverThePlanSays(t *testing.T) {
	f := newFixture(t)
	botPW := rand.Text()
	exec(t, "postgres", "CREATE ROLE reconciler_bot LOGIN SUPERUSER PASSWORD "+quote(botPW),
		"CREATE ROLE db_owner", "CREATE DATABASE owned_db OWNER db_owner")
	f.dialer = dialerAs("reconciler_bot", botPW).WithCommit(f.commit)

	pwChange := func(role string) plan.Change {
		return passwordChange(role, alterPassword(role), rand.Text(), "")
	}
	changes := []plan.Change{
		removal(env.ReplUser, "postgres", "postgres"),
		removal(env.MonitorUser, "postgres", "postgres"),
		removal(env.SuperUser, "postgres", "postgres"),
		removal("postgres", "dbuser_dba", "postgres"),
		removal("pg_monitor", "postgres", "postgres"),
		removal("reconciler_bot", "postgres", "postgres"),
		removal("db_owner", "postgres", "postgres"),
		pwChange("reconciler_bot"),
		pwChange(env.ReplUser),
		pwChange("postgres"),
		rendered(plan.Change{Kind: plan.KindRole, Action: plan.ActionChange, Object: "reconciler_bot",
			Intent: plan.Intent{Role: &plan.RoleChange{Name: "reconciler_bot", Attrs: plan.RoleAttrs{Login: new(bool)}}}}),
		rendered(plan.Change{Kind: plan.KindRole, Action: plan.ActionChange, Object: "reconciler_bot",
			Intent: plan.Intent{Role: &plan.RoleChange{Name: "reconciler_bot", Attrs: plan.RoleAttrs{Superuser: new(bool)}}}}),
	}
	res := f.apply(changes...)
	wantStatus(t, res, plan.StatusRefused)
	for _, o := range res.Outcomes {
		t.Logf("%s %s: %s", o.Change.Kind, o.Change.Object, o.Error)
	}
	if e := res.Outcomes[6].Error; !strings.Contains(e, "owned_db") {
		t.Errorf("refusal for a database owner does not name the database: %q", e)
	}
	if e := res.Outcomes[5].Error; !strings.Contains(e, "own login role") {
		t.Errorf("refusal for the reconciler's role: %q", e)
	}
	var n int
	queryRow(t, env.Primary, "postgres", `SELECT count(*) FROM pg_roles WHERE rolcanlogin AND rolname = ANY($1)`,
		[]any{[]string{env.ReplUser, env.MonitorUser, env.SuperUser, "postgres", "reconciler_bot"}}, &n)
	if n != 5 {
		t.Errorf("%d of 5 protected login roles left with LOGIN", n)
	}
	conn, err := env.Primary.Connect(context.Background(), "reconciler_bot", botPW, "postgres")
	if err != nil {
		t.Fatalf("the reconciler's role lost its password or login: %v", err)
	}
	var super bool
	err = conn.QueryRow(context.Background(), "SELECT rolsuper FROM pg_roles WHERE rolname = 'reconciler_bot'").Scan(&super)
	conn.Close(context.Background())
	if err != nil || !super {
		t.Errorf("reconciler_bot superuser: %v, %v", super, err)
	}
	if rows := f.changeLog(); len(rows) != len(changes) || rows[0].Status != "refused" {
		t.Errorf("change log: %d rows, first %+v", len(rows), rows)
	}
}
