package apply

import (
	"slices"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/protect"
)

// TestGuardsReadIntent: the executor's protection guard judges a change by
// its intent, never by its SQL text. SQL that says NOLOGIN or CONNECTION
// LIMIT 0 under an intent that does not is not refused (the intent is what
// the plan means; its SQL is rendered from it); an intent that does is
// refused whatever the SQL says; a role named like a keyword is a name.
func TestGuardsReadIntent(t *testing.T) {
	c := &model.Cluster{Name: "pg-g", Globals: model.Globals{DBSU: "postgres", ReplicationUser: "replicator",
		AdminUser: "dbuser_dba", MonitorUser: "dbuser_monitor"},
		Instances: []*model.Instance{{Cluster: "pg-g", Seq: 1, IP: "10.0.0.1", Role: model.RolePrimary, Port: 5432}}}
	e := &executor{t: Target{Cluster: c}, primary: c.Instances[0], cp: plan.ClusterPlan{Name: "pg-g"},
		policy: protect.New(c.Globals, "", "bot", "NOLOGIN")}
	f, tr := false, true
	zero := 0
	role := func(name string, action plan.Action, attrs plan.RoleAttrs, sql string) *plan.Change {
		return &plan.Change{Kind: plan.KindRole, Action: action, Object: "display text", Instance: "pg-g-1",
			Intent: plan.Intent{Role: &plan.RoleChange{Name: name, Attrs: attrs}}, Statements: []plan.Statement{{SQL: sql}}}
	}
	for _, tc := range []struct {
		name string
		c    *plan.Change
		want string // a part of the refusal, "" for none
	}{
		{"SQL says NOLOGIN, intent does not", role("bot", plan.ActionChange, plan.RoleAttrs{CreateDB: &f}, `ALTER ROLE bot NOLOGIN`), ""},
		{"SQL says CONNECTION LIMIT 0, intent does not", role("bot", plan.ActionChange, plan.RoleAttrs{}, `ALTER ROLE bot CONNECTION LIMIT 0`), ""},
		{"intent says NOLOGIN, SQL does not", role("bot", plan.ActionChange, plan.RoleAttrs{Login: &f}, `COMMENT ON ROLE bot IS 'x'`),
			"role bot is the reconciler's own login role: an apply never makes it NOLOGIN"},
		{"intent says NOSUPERUSER for the dbsu", role("postgres", plan.ActionChange, plan.RoleAttrs{Superuser: &f}, `SELECT 1`),
			"never makes it NOSUPERUSER"},
		{"intent says NOREPLICATION for the replication user", role("replicator", plan.ActionChange, plan.RoleAttrs{Replication: &f}, `SELECT 1`),
			"never makes it NOREPLICATION"},
		{"intent says CONNECTION LIMIT 0", role("bot", plan.ActionChange, plan.RoleAttrs{ConnLimit: &zero}, `SELECT 1`),
			"never sets CONNECTION LIMIT 0"},
		{"intent says VALID UNTIL in the past", role("bot", plan.ActionChange, plan.RoleAttrs{ValidUntil: "2001-01-01 00:00:00+00"}, `SELECT 1`),
			"never sets VALID UNTIL in the past"},
		{"a role named NOLOGIN given LOGIN", role("NOLOGIN", plan.ActionChange, plan.RoleAttrs{Login: &tr}, `ALTER ROLE "NOLOGIN" LOGIN`), ""},
		{"a role named NOLOGIN made NOLOGIN", role("NOLOGIN", plan.ActionChange, plan.RoleAttrs{Login: &f}, `ALTER ROLE "NOLOGIN" LOGIN`), "never makes it NOLOGIN"},
		{"removal read from the intent, not Object", role("pg_monitor", plan.ActionRemove, plan.RoleAttrs{}, `DROP ROLE app`), "role pg_monitor is reserved"},
		{"removal of a business role", role("app", plan.ActionRemove, plan.RoleAttrs{}, `DROP ROLE postgres`), ""},
		{"role change without intent", &plan.Change{Kind: plan.KindRole, Action: plan.ActionChange, Object: "app", Instance: "pg-g-1",
			Statements: []plan.Statement{{SQL: `ALTER ROLE app LOGIN`}}}, "cannot be judged"},
		{"password of the replication user", &plan.Change{Kind: plan.KindPassword, Action: plan.ActionChange, Object: "app", Instance: "pg-g-1",
			Intent: plan.Intent{Password: &plan.PasswordChange{Role: "replicator"}}}, "role replicator is the replication user"},
		{"password of a business user", &plan.Change{Kind: plan.KindPassword, Action: plan.ActionChange, Object: "replicator", Instance: "pg-g-1",
			Intent: plan.Intent{Password: &plan.PasswordChange{Role: "app"}}}, ""},
		{"password change without intent", &plan.Change{Kind: plan.KindPassword, Action: plan.ActionChange, Object: "app", Instance: "pg-g-1"},
			"cannot be judged"},
	} {
		got := e.refusal(tc.c)
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%s: refusal %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestStepsOf(t *testing.T) {
	st := func(db string, noTx bool) plan.Statement { return plan.Statement{SQL: "x", Database: db, NoTx: noTx} }
	steps := stepsOf([]plan.Statement{st("", false), st("", false), st("a", false), st("a", false), st("", true), st("", true), st("b", false), st("", false)})
	var shape []string
	for _, s := range steps {
		shape = append(shape, strings.Repeat(s.database+"/", len(s.stmts)))
	}
	if want := []string{"//", "a/a/", "/", "/", "b/", "/"}; !slices.Equal(shape, want) {
		t.Errorf("steps %q, want %q", shape, want)
	}
}

func TestLibraryCandidates(t *testing.T) {
	for _, c := range []struct {
		lib, path string
		want      []string
	}{
		{"pg_stat_statements", "$libdir", []string{"/lib/pg_stat_statements", "/lib/pg_stat_statements.so"}},
		{"auto_explain", "/opt/x:$libdir", []string{"/opt/x/auto_explain", "/lib/auto_explain", "/opt/x/auto_explain.so", "/lib/auto_explain.so"}},
		{"$libdir/plugins/foo", "$libdir", []string{"/lib/plugins/foo", "/lib/plugins/foo.so"}},
		{"/abs/bar.so", "$libdir", []string{"/abs/bar.so", "/abs/bar.so.so"}},
	} {
		got, err := libraryCandidates(c.lib, "/lib", c.path)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("libraryCandidates(%q, %q) = %q, %v; want %q", c.lib, c.path, got, err, c.want)
		}
	}
	if _, err := libraryCandidates("$sharedir/x", "/lib", "$libdir"); err == nil {
		t.Error("a macro other than $libdir was accepted")
	}
}

func TestSplitIdentifiers(t *testing.T) {
	got := splitIdentifiers(`pg_stat_statements, "Auto ""X""", "$libdir/a,b", citus`)
	want := []string{"pg_stat_statements", `Auto "X"`, "$libdir/a,b", "citus"}
	if !slices.Equal(got, want) {
		t.Errorf("splitIdentifiers = %q, want %q", got, want)
	}
}

func TestScrub(t *testing.T) {
	v := "SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0$c3RvcmVka2V5c3RvcmVka2V5:c2VydmVya2V5c2VydmVya2V5"
	msg := `syntax error at or near "'` + v + `'" and c2FsdHNhbHRzYWx0 again, plus hunter2`
	got := scrub(msg, []string{"hunter2", v})
	for _, s := range []string{"hunter2", "c2FsdHNhbHRzYWx0", "c3RvcmVka2V5c3RvcmVka2V5", "c2VydmVya2V5c2VydmVya2V5"} {
		if strings.Contains(got, s) {
			t.Errorf("scrub left %q in %q", s, got)
		}
	}
}

// TestShownSetting: readBack's "pg_settings shows …" never quotes a value
// that may hold a credential (promise P12; docs/promises.md).
func TestShownSetting(t *testing.T) {
	if got := shownSetting("primary_conninfo", "host=10.0.0.1 password=s3cret"); strings.Contains(got, "s3cret") {
		t.Errorf("shownSetting shows a conninfo: %q", got)
	}
	if got := shownSetting("work_mem", "4096"); got != `"4096"` {
		t.Errorf("shownSetting(work_mem) = %s", got)
	}
}
