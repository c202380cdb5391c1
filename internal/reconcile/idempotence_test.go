package reconcile

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// logEntry starts a server log entry (log_line_prefix begins with %m);
// other lines continue the entry before.
var logEntry = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`)

// loggedSQL finds the statement of an entry logged by log_statement.
var loggedSQL = regexp.MustCompile(`(?s)LOG: +(?:statement|execute [^:]*): (.*)`)

// modifying matches a statement, comment lines removed, that changes
// something: DDL, DML, privileges, a configuration reload. The
// reconciler's catalog reads (SELECT … FROM pg_…, BEGIN READ ONLY,
// COMMIT) do not match.
var modifying = regexp.MustCompile(`(?is)^\s*(ALTER|CREATE|DROP|GRANT|REVOKE|COMMENT|SECURITY|REASSIGN|INSERT|UPDATE|DELETE|` +
	`TRUNCATE|COPY|VACUUM|CLUSTER|REINDEX|REFRESH|IMPORT|LOCK|DO|CALL)\b|\bpg_reload_conf\b|\bALTER\s+SYSTEM\b`)

// logMark is where a server's log ended.
type logMark struct {
	s      *testenv.Server
	offset int
}

func markLog(t *testing.T, s *testenv.Server) logMark {
	t.Helper()
	text, err := s.Log()
	if err != nil {
		t.Fatal(err)
	}
	return logMark{s: s, offset: len(text)}
}

// statements returns the statements the reconciler's sessions (their
// application name says "pgreconciler") sent after the mark, comment lines
// removed.
func (m logMark) statements(t *testing.T) []string {
	t.Helper()
	text, err := m.s.Log()
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	for _, l := range strings.Split(text[m.offset:], "\n") {
		if logEntry.MatchString(l) || len(entries) == 0 {
			entries = append(entries, l)
		} else {
			entries[len(entries)-1] += "\n" + l
		}
	}
	var out []string
	for _, e := range entries {
		head, _, _ := strings.Cut(e, "\n")
		sm := loggedSQL.FindStringSubmatch(e)
		if !strings.Contains(head, "pgreconciler") || sm == nil {
			continue
		}
		var lines []string
		for _, l := range strings.Split(sm[1], "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "--") {
				lines = append(lines, l)
			}
		}
		out = append(out, strings.Join(lines, "\n"))
	}
	return out
}

// TestConvergedApplyIsQuiet (promise P14; docs/promises.md): an apply right after one that converged
// a primary and a replica — parameters written with ALTER SYSTEM and
// reloaded, pg_hba.conf written and reloaded on both — sends no modifying
// statement and no reload to either, and writes neither pg_hba.conf. The
// server logs (every statement is logged: the spec leaves log_statement
// alone) are the witness.
func TestConvergedApplyIsQuiet(t *testing.T) {
	cluster.ResetForReconciler(t)
	// fullVars with the parameters the reconciler's sessions run values of
	// their own for, set to other values than the sessions': a plan or a
	// read-back judged by the session would rewrite and reload them on
	// every apply.
	vars := strings.Replace(fullVars, `pg_parameters: {log_min_duration_statement: "250ms", work_mem: "4MB"}`, sessionParamsVars(true), 1)
	if vars == fullVars {
		t.Fatal("fullVars changed: cannot put the session parameters in")
	}
	c := loadSpec(t, cluster.PigstySpec(vars))
	res := applyAll(t, c)
	wrote := map[string]bool{}
	for _, o := range res.Outcomes {
		if o.Status == plan.StatusApplied && (o.Change.Kind == plan.KindHBA || o.Change.Kind == plan.KindParameter) {
			wrote[o.Change.Instance+" "+string(o.Change.Kind)] = true
		}
	}
	for _, s := range cluster.Servers() {
		for _, k := range []plan.Kind{plan.KindHBA, plan.KindParameter} {
			if !wrote[s.Name()+" "+string(k)] {
				t.Fatalf("the first apply wrote no %s on %s: the test would prove nothing", k, s.Name())
			}
		}
	}
	if left := driftOf(first(planOf(t, c))); len(left) > 0 {
		t.Fatalf("not converged after one apply:%s", describe(left))
	}

	var marks []logMark
	mtimes := map[string]int64{}
	for _, s := range cluster.Servers() {
		marks = append(marks, markLog(t, s))
		fi, err := os.Stat(s.HBAPath())
		if err != nil {
			t.Fatal(err)
		}
		mtimes[s.Name()] = fi.ModTime().UnixNano()
	}
	res = applyAll(t, c)
	for _, o := range res.Outcomes {
		if o.Change.Drift() {
			t.Errorf("second apply: %s %s %s on %s: %s %s", o.Status, o.Change.Kind, o.Change.Object, o.Change.Instance, o.Change.Reason, o.Error)
		}
	}
	for _, m := range marks {
		stmts := m.statements(t)
		if !slices.ContainsFunc(stmts, func(q string) bool { return strings.Contains(q, "pg_catalog.pg_settings") }) {
			t.Fatalf("%s logged none of the second apply's inspection: the check would prove nothing", m.s.Name())
		}
		for _, q := range stmts {
			if modifying.MatchString(q) {
				t.Errorf("%s: the second apply sent: %s", m.s.Name(), q)
			}
		}
		fi, err := os.Stat(m.s.HBAPath())
		if err != nil {
			t.Fatal(err)
		}
		if fi.ModTime().UnixNano() != mtimes[m.s.Name()] {
			t.Errorf("%s: the second apply wrote pg_hba.conf", m.s.Name())
		}
	}
}

// TestFutureModificationTimes: configuration files and a pg_hba.conf whose
// modification time is after the server's clock (a clock that stepped
// back) can never look loaded; the plan reports them instead of planning a
// write and a reload that would come back on every apply.
func TestFutureModificationTimes(t *testing.T) {
	cluster.ResetForReconciler(t)
	vars := sessionParamsVars(false)
	converge(t, vars)
	c := loadSpec(t, cluster.PigstySpec(vars))
	future := time.Now().Add(time.Hour)
	primary := cluster.Primary
	for _, f := range []string{primary.HBAPath(), filepath.Join(primary.DataDir, "postgresql.auto.conf")} {
		if err := os.Chtimes(f, future, future); err != nil {
			t.Fatal(err)
		}
	}
	cp, _ := planOf(t, c)
	for _, ch := range driftOf(cp) {
		if ch.Instance != primary.Name() || ch.Action != plan.ActionReport || len(ch.Statements) != 0 || !strings.Contains(ch.Reason, "future") {
			t.Errorf("%s %s %s on %s: %s", ch.Action, ch.Kind, ch.Object, ch.Instance, ch.Reason)
		}
	}
	reported := map[plan.Kind]int{}
	for _, ch := range driftOf(cp) {
		reported[ch.Kind]++
	}
	// sessionParams ends with two parameters only a role or a database
	// gives a session; 13 has no idle_session_timeout.
	if own := len(sessionParams()) - 2; reported[plan.KindHBA] != 1 || reported[plan.KindParameter] != own {
		t.Errorf("reported %v, want pg_hba.conf and the %d parameters the reconciler's sessions set for themselves", reported, own)
	}
	mark := markLog(t, primary)
	applyAll(t, c)
	for _, q := range mark.statements(t) {
		if modifying.MatchString(q) {
			t.Errorf("the apply sent: %s", q)
		}
	}
}
