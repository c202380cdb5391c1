package apply

import (
	"slices"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/plan"
)

func TestHasKeyword(t *testing.T) {
	for sql, want := range map[string]bool{
		`ALTER ROLE bot NOLOGIN`:                         true,
		`ALTER ROLE bot WITH nologin CONNECTION LIMIT 1`: true,
		`ALTER ROLE "NOLOGIN" LOGIN`:                     false,
		`COMMENT ON ROLE bot IS 'NOLOGIN soon'`:          false,
		`ALTER ROLE bot LOGIN -- NOLOGIN`:                false,
		`ALTER ROLE bot /* NOLOGIN */ LOGIN`:             false,
		`ALTER ROLE nologin_bot LOGIN`:                   false,
		`ALTER ROLE 'it''s' NOLOGIN`:                     true,
	} {
		if got := hasKeyword(sql, "NOLOGIN"); got != want {
			t.Errorf("hasKeyword(%q) = %v", sql, got)
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
// that may hold a credential (S5).
func TestShownSetting(t *testing.T) {
	if got := shownSetting("primary_conninfo", "host=10.0.0.1 password=s3cret"); strings.Contains(got, "s3cret") {
		t.Errorf("shownSetting shows a conninfo: %q", got)
	}
	if got := shownSetting("work_mem", "4096"); got != `"4096"` {
		t.Errorf("shownSetting(work_mem) = %s", got)
	}
}
