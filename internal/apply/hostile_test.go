package apply_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// TestHostileTextInABatch (issue #18; promise P14; docs/promises.md): in one batch, a statement
// holding a NUL byte is refused before it is sent, a statement the server
// rejects as a whole message (invalid UTF-8: the transaction is aborted
// before the run's savepoint exists) and a statement that ends its own
// session each fail alone, with their own error and SQLSTATE; every other
// change of the batch, and the parameter and HBA changes after it, are
// applied, and each change gets its change-log row.
func TestHostileTextInABatch(t *testing.T) {
	f := newFixture(t)
	f.opts.HBA = apply.NewLocalWriter()
	hbaText := readHBA(t, env.Primary) + "# hostile batch\n"
	changes := []plan.Change{
		createRole("hb_a", "NOLOGIN"),
		change(plan.KindComment, plan.ActionCreate, "hb_a", stmt("COMMENT ON ROLE hb_a IS 'before\x00after'")),
		createRole("hb_b", "NOLOGIN"),
		change(plan.KindRole, plan.ActionCreate, "hb_utf8", stmt("CREATE ROLE hb_utf8"), stmt("COMMENT ON ROLE hb_utf8 IS 'bad \xff byte'")),
		change(plan.KindComment, plan.ActionCreate, "hb_b", stmt("COMMENT ON ROLE hb_b IS 'kept'")),
		roleChange(plan.ActionChange, "hb_kill", plan.RoleAttrs{}, stmt("SELECT pg_terminate_backend(pg_backend_pid())")),
		createRole("hb_c", "NOLOGIN"),
		parameter(primaryName(), "work_mem", "7MB"),
		hbaChange(primaryName(), hbaText),
	}
	res := f.apply(changes...)
	want := []struct {
		status         plan.Status
		sqlstate, text string
	}{
		{plan.StatusApplied, "", ""},
		{plan.StatusRefused, "", "statement 1 of 1 holds a NUL byte"},
		{plan.StatusApplied, "", ""},
		{plan.StatusFailed, "22021", "invalid byte sequence"},
		{plan.StatusApplied, "", ""},
		{plan.StatusFailed, "57P01", "terminating connection"},
		{plan.StatusApplied, "", ""},
		{plan.StatusApplied, "", ""},
		{plan.StatusApplied, "", ""},
	}
	for i, o := range res.Outcomes {
		w := want[i]
		if o.Status != w.status || o.SQLState != w.sqlstate || !strings.Contains(o.Error, w.text) {
			t.Errorf("change %d (%s %s): %s %q sqlstate %q; want %s %q sqlstate %q",
				i, o.Change.Kind, o.Change.Object, o.Status, o.Error, o.SQLState, w.status, w.text, w.sqlstate)
		}
	}
	var roles, comment, workMem string
	queryRow(t, env.Primary, "postgres", `SELECT string_agg(rolname, ',' ORDER BY rolname),
		coalesce(shobj_description('hb_b'::regrole, 'pg_authid'), ''), current_setting('work_mem')
		FROM pg_roles WHERE rolname LIKE 'hb_%'`, nil, &roles, &comment, &workMem)
	if roles != "hb_a,hb_b,hb_c" || comment != "kept" || workMem != "7MB" {
		t.Errorf("roles %q, comment of hb_b %q, work_mem %q", roles, comment, workMem)
	}
	if readHBA(t, env.Primary) != hbaText {
		t.Error("the HBA change after the batch was not written")
	}
	// One row per change, in the order they were settled (a refused
	// change before the run it was taken out of).
	rows := map[string]logRow{}
	for _, r := range f.changeLog() {
		rows[r.Kind+" "+r.Object] = r
		if strings.ContainsRune(r.Statement, 0) || strings.ContainsRune(r.Error, 0) {
			t.Errorf("row %s %s holds a NUL byte", r.Kind, r.Object)
		}
	}
	if len(rows) != len(changes) {
		t.Errorf("%d change-log rows for %d changes: %+v", len(rows), len(changes), rows)
	}
	for _, o := range res.Outcomes {
		r, ok := rows[string(o.Change.Kind)+" "+o.Change.Object]
		switch {
		case !ok:
			t.Errorf("no change-log row for %s %s", o.Change.Kind, o.Change.Object)
		case r.Status != o.Status.String():
			t.Errorf("row %s %s: status %s, want %s", r.Kind, r.Object, r.Status, o.Status)
		case o.Status != plan.StatusApplied && (r.Error == "" || !strings.Contains(r.Error, "SQLSTATE "+o.SQLState) && o.SQLState != ""):
			t.Errorf("row %s %s: error %q, want the outcome's error and SQLSTATE %s", r.Kind, r.Object, r.Error, o.SQLState)
		}
	}
	if r := rows["comment hb_a"]; !strings.Contains(r.Statement, `'before\x00after'`) {
		t.Errorf("the refused statement is logged as %q, want its NUL escaped", r.Statement)
	}
}

// TestLostLockStopsTheApply: a statement that ends every session of the
// apply, the one holding the apply lock included, fails alone, and the
// apply stops there: without the lock nothing more runs, the changes of
// the lost transaction are not attempted (none committed), and the failed
// change still gets its change-log row.
func TestLostLockStopsTheApply(t *testing.T) {
	f := newFixture(t)
	kill := "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE " +
		quote("pgreconciler@"+f.commit[:12]+"%")
	changes := []plan.Change{
		createRole("ll_a", "NOLOGIN"),
		roleChange(plan.ActionChange, "ll_kill", plan.RoleAttrs{}, stmt(kill)),
		createRole("ll_b", "NOLOGIN"),
	}
	res, err := f.applyTo(context.Background(), f.target(), plan.ClusterPlan{Name: env.Name, Changes: changes}, f.opts)
	if err == nil || !strings.Contains(err.Error(), "lock is lost") {
		t.Fatalf("apply: %v, want the lost lock", err)
	}
	want := []plan.Status{plan.StatusSkipped, plan.StatusFailed, plan.StatusSkipped}
	for i, o := range res.Outcomes {
		if o.Status != want[i] {
			t.Errorf("change %d (%s): %s %q, want %s", i, o.Change.Object, o.Status, o.Error, want[i])
		}
	}
	if o := res.Outcomes[1]; o.SQLState != "57P01" {
		t.Errorf("the change at fault: %q sqlstate %q, want 57P01", o.Error, o.SQLState)
	}
	var n int
	queryRow(t, env.Primary, "postgres", "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'll\\_%'", nil, &n)
	if n != 0 {
		t.Errorf("%d roles of the lost transaction exist", n)
	}
	if rows := f.changeLog(); len(rows) != 1 || rows[0].Object != "ll_kill" || rows[0].Status != "failed" {
		t.Errorf("change log: %+v, want the failed change's row", rows)
	}
}
