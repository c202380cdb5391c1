package reconcile

import (
	"context"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// TestCreateroleReconciler: a reconciler that logs in as a CREATEROLE role,
// not a superuser. From PostgreSQL 16 it may grant, revoke or change the
// options of only the memberships of roles it holds ADMIN OPTION on
// (those it creates, and those granted to it WITH ADMIN OPTION): the plan
// reports the others before any write, naming the reason, as it does a
// revoke of a grant another role made (only that role's privileges allow
// it), and the apply does the rest. It does not become a member of the roles it creates,
// whatever the server's createrole_self_grant. Before 16 CREATEROLE is
// enough; on 13 and 14 the privileges of schema public, the bootstrap
// superuser's, are reported (only its owner may change them).
func TestCreateroleReconciler(t *testing.T) {
	cluster.ResetForReconciler(t)
	p := cluster.Primary
	p.MustLocal(t, "postgres", `CREATE ROLE dbuser_bot LOGIN CREATEROLE PASSWORD 'Bot.Secret.2026';
		GRANT CREATE ON DATABASE postgres TO dbuser_bot;
		CREATE ROLE g_old; CREATE ROLE g_admin; CREATE ROLE u_old LOGIN IN ROLE g_old; CREATE ROLE u_adm LOGIN IN ROLE g_admin;
		GRANT g_admin TO dbuser_bot WITH ADMIN OPTION`)
	pg16 := cluster.Major >= 16
	if cluster.Major < 15 { // as initdb makes it, whatever the tests before did
		p.MustLocal(t, "postgres", "GRANT CREATE ON SCHEMA public TO PUBLIC")
		t.Cleanup(func() { p.MustLocal(t, "postgres", "REVOKE CREATE ON SCHEMA public FROM PUBLIC") })
	}
	if pg16 { // what a DBA may have set: the reconciler's session overrides it
		p.MustLocal(t, "postgres", "ALTER SYSTEM SET createrole_self_grant = 'set, inherit'")
		t.Cleanup(func() {
			p.MustLocal(t, "postgres", "ALTER SYSTEM RESET createrole_self_grant")
			p.MustLocal(t, "postgres", "SELECT pg_reload_conf()")
		})
		if err := p.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cluster.WaitReplay(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PGUSER", "dbuser_bot")
	t.Setenv("PGPASSWORD", "Bot.Secret.2026")
	// No HBA rules: pg_hba.conf is not managed.
	c := loadSpec(t, cluster.PigstySpec(`pg_default_roles: [], pg_default_hba_rules: [], pg_default_privileges: []
		pg_users: [{name: "g_old"}, {name: "g_admin"}, {name: "g_new"},
			{name: "u_new", roles: ["g_old", "g_new", "g_admin"]},
			{name: "u_old", roles: [{name: "g_old", state: "revoke"}]},
			{name: "u_adm", roles: [{name: "g_admin", state: "revoke"}]}]`))
	pl, _ := planOf(t, c)
	reports := map[string]string{}
	for _, ch := range pl.Changes {
		if ch.Action == plan.ActionReport {
			reports[string(ch.Kind)+" "+ch.Object] = ch.Reason
		}
	}
	want := map[string]string{}
	if pg16 {
		want = map[string]string{
			"membership u_new in g_old": "only a role with ADMIN OPTION on g_old may grant it, and dbuser_bot has none",
			"membership u_old in g_old": "only a role with ADMIN OPTION on g_old may revoke it, and dbuser_bot has none",
			// The spec's comment (Pigsty's default) on roles made by hand.
			"comment g_old": "only a role with ADMIN OPTION on g_old may alter or drop it, and dbuser_bot has none",
			"comment u_old": "only a role with ADMIN OPTION on u_old may alter or drop it, and dbuser_bot has none",
			"comment u_adm": "only a role with ADMIN OPTION on u_adm may alter or drop it, and dbuser_bot has none",
			// ADMIN OPTION on g_admin, but the grant is the bootstrap superuser's.
			"membership u_adm in g_admin": "g_admin was granted by postgres, and from PostgreSQL 16 only a role with the privileges of postgres may revoke that grant",
		}
	}
	if cluster.Major < 15 { // schema public is the bootstrap superuser's, with CREATE for PUBLIC
		want["privilege schema postgres.public"] = "and dbuser_bot, not a superuser, cannot act as that role"
	}
	if len(reports) != len(want) {
		t.Errorf("PostgreSQL %d: reports %q, want %q", cluster.Major, reports, want)
	}
	for obj, why := range want {
		if !strings.Contains(reports[obj], why) {
			t.Errorf("PostgreSQL %d: %s: %q, want %q", cluster.Major, obj, reports[obj], why)
		}
	}
	applyAll(t, c)

	member := func(member, role string) bool {
		return p.MustLocalValue(t, "postgres", "SELECT pg_has_role('"+member+"', '"+role+"', 'MEMBER')::text") == "true"
	}
	for _, m := range []struct {
		member, role string
		want         bool
	}{
		{"u_new", "g_new", true}, {"u_new", "g_admin", true},
		{"u_new", "g_old", !pg16}, {"u_old", "g_old", pg16}, {"u_adm", "g_admin", pg16},
	} {
		if got := member(m.member, m.role); got != m.want {
			t.Errorf("PostgreSQL %d: %s member of %s: %v, want %v", cluster.Major, m.member, m.role, got, m.want)
		}
	}
	if pg16 {
		// 16 gives the creator ADMIN OPTION only: no SET, no INHERIT.
		got := p.MustLocalValue(t, "postgres", `SELECT string_agg(format('%s:%s%s%s', r.rolname,
			CASE WHEN admin_option THEN 'a' END, CASE WHEN inherit_option THEN 'i' END, CASE WHEN set_option THEN 's' END), ',' ORDER BY r.rolname)
			FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid WHERE m.member = 'dbuser_bot'::regrole AND r.rolname IN ('g_new', 'u_new')`)
		if got != "g_new:a,u_new:a" {
			t.Errorf("the reconciler's own memberships of the roles it created: %q, want g_new:a,u_new:a", got)
		}
	}
	// What is left is what was reported, and nothing else.
	pl, _ = planOf(t, c)
	for _, ch := range driftOf(pl) {
		if ch.Action != plan.ActionReport || want[string(ch.Kind)+" "+ch.Object] == "" {
			t.Errorf("PostgreSQL %d: after the apply: %s %s %s: %s", cluster.Major, ch.Action, ch.Kind, ch.Object, ch.Reason)
		}
	}
}
