package apply_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// blockCreateDatabase holds a lock on pg_database that stops every CREATE
// DATABASE until the returned function releases it.
func blockCreateDatabase(t *testing.T) func() {
	t.Helper()
	ctx := context.Background()
	conn, err := env.Primary.Connect(ctx, env.SuperUser, env.SuperPassword, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "BEGIN; LOCK TABLE pg_catalog.pg_database IN EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	released := false
	release := func() {
		if !released {
			released = true
			_, _ = conn.Exec(ctx, "ROLLBACK")
			conn.Close(ctx)
		}
	}
	t.Cleanup(release)
	return release
}

// TestIntentRowBeforeCreateDatabase (case F11; docs/faults.md): a CREATE
// DATABASE, which cannot share a transaction with its change-log row, has
// a committed pending row while it runs, so that a run dying then leaves a
// trace; the row becomes applied when it completes, and stays the only one.
func TestIntentRowBeforeCreateDatabase(t *testing.T) {
	f := newFixture(t)
	wantStatus(t, f.apply(createRole("intent_someone", "")), plan.StatusApplied) // creates the change log
	release := blockCreateDatabase(t)
	done := make(chan *plan.Result, 1)
	go func() {
		res, err := f.applyTo(context.Background(), f.target(), plan.ClusterPlan{Name: env.Name, Changes: []plan.Change{
			change(plan.KindDatabase, plan.ActionCreate, "intent_db", noTx("CREATE DATABASE intent_db"))}}, f.opts)
		if err != nil {
			t.Errorf("apply: %v", err)
		}
		done <- res
	}()
	var rows []logRow
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if rows = f.changeLog()[1:]; len(rows) > 0 {
			break
		}
	}
	if len(rows) != 1 || rows[0].Status != apply.StatusPending {
		t.Errorf("while CREATE DATABASE runs, the change log holds %+v, want one pending row", rows)
	}
	release()
	if res := <-done; res != nil {
		wantStatus(t, res, plan.StatusApplied)
	}
	if rows := f.changeLog()[1:]; len(rows) != 1 || rows[0].Status != "applied" || rows[0].Statement != "CREATE DATABASE intent_db" {
		t.Errorf("after the apply, the change log holds %+v, want one applied row", rows)
	}
}

// TestPendingRowsResolvedUnderTheLock (cases F11, F12; docs/faults.md): the
// pending rows a dead run left are settled by the next run when it takes
// the lock, from the catalog, after the dead run's statement that still
// runs on the server has ended; the plan made after it sees its effect.
func TestPendingRowsResolvedUnderTheLock(t *testing.T) {
	f := newFixture(t)
	wantStatus(t, f.apply(createRole("intent_someone", "")), plan.StatusApplied) // creates the change log
	exec(t, "postgres", "CREATE DATABASE intent_made")
	release := blockCreateDatabase(t)
	ctx := context.Background()
	dead, err := env.Primary.Connect(ctx, env.SuperUser, env.SuperPassword, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close(ctx)
	sent := make(chan error, 1)
	for _, r := range [][4]string{
		{"database", "create", "intent_made", "CREATE DATABASE intent_made"},
		{"database", "create", "intent_never", "CREATE DATABASE intent_never"},
		{"role", "remove", "intent_gone", `DROP ROLE "intent_gone"`},
		{"database", "change", "intent_made", "ALTER DATABASE intent_made SET TABLESPACE pg_default"},
		{"database", "create", "intent_raced", "CREATE DATABASE intent_raced"},
	} {
		exec(t, "postgres", `INSERT INTO pgreconciler.change_log (cluster, instance, kind, action, object, statement, commit, signer, author, status)
			VALUES (`+quote(env.Name)+`, 'x', `+quote(r[0])+`, `+quote(r[1])+`, `+quote(r[2])+`, `+quote(r[3])+`, `+quote(f.commit)+`, '', '', 'pending')`)
	}
	for _, end := range []string{"COMMIT", "ROLLBACK"} { // changes in another database: their transaction's status
		var xact int64
		tx, err := dead.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.QueryRow(ctx, "SELECT txid_current()").Scan(&xact); err != nil {
			t.Fatal(err)
		}
		exec(t, "postgres", `INSERT INTO pgreconciler.change_log (cluster, instance, kind, action, object, statement, commit, signer, author, status, xact)
			VALUES (`+quote(env.Name)+`, 'x', 'role', 'change', 'r_`+end+`', 'ALTER ROLE x', `+quote(f.commit)+`, '', '', 'pending', `+strconv.FormatInt(xact, 10)+`)`)
		if _, err := dead.Exec(ctx, end); err != nil {
			t.Fatal(err)
		}
	}
	go func() { _, err := dead.Exec(ctx, "CREATE DATABASE intent_raced"); sent <- err }() // the dead run's statement, still running
	for running := false; !running; time.Sleep(50 * time.Millisecond) {
		queryRow(t, env.Primary, "postgres", "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE query = 'CREATE DATABASE intent_raced')", nil, &running)
	}
	time.AfterFunc(time.Second, release)
	start := time.Now()
	l, err := apply.AcquireLock(ctx, f.dialer, f.cluster)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	if time.Since(start) < 900*time.Millisecond {
		t.Errorf("the lock was taken in %s, while the dead run's CREATE DATABASE still ran", time.Since(start))
	}
	if err := <-sent; err != nil {
		t.Fatalf("the dead run's CREATE DATABASE: %v", err)
	}
	want := []string{"applied", "applied", "failed", "applied", "interrupted", "applied", "applied", "failed"}
	rows := f.changeLog()
	if len(rows) != len(want) {
		t.Fatalf("change log: %+v", rows)
	}
	for k, r := range rows {
		if r.Status != want[k] || k > 0 && !strings.Contains(r.Error, "run that made it ended") {
			t.Errorf("row %d (%s %s): status %q (%s), want %q", k, r.Action, r.Object, r.Status, r.Error, want[k])
		}
	}
}

// TestChangeInAnotherDatabaseHasItsIntent (promise P20, case F13;
// docs/faults.md): a change in another database than postgres, whose
// change-log row cannot be in its transaction, gets its row written
// pending with the transaction's id before the commit, then applied: a run
// that dies between the commit and the row leaves a row the next run
// settles from the transaction's status.
func TestChangeInAnotherDatabaseHasItsIntent(t *testing.T) {
	f := newFixture(t)
	exec(t, "postgres", "CREATE DATABASE intent_other")
	res := f.apply(change(plan.KindSchema, plan.ActionCreate, "intent_other.app", in("intent_other", "CREATE SCHEMA app")))
	wantStatus(t, res, plan.StatusApplied)
	rows := f.changeLog()
	if len(rows) != 1 || rows[0].Status != "applied" {
		t.Fatalf("change log: %+v", rows)
	}
	var committed string
	queryRow(t, env.Primary, "postgres", "SELECT coalesce(txid_status(max(xact)), 'none') FROM pgreconciler.change_log WHERE commit = $1",
		[]any{f.commit}, &committed)
	if committed != "committed" {
		t.Errorf("the row's transaction: %s, want the committed transaction of the change", committed)
	}
}

// TestPendingRowsLookupReadsTheIndex: the lookups of pending change-log
// rows, which every run makes under the apply lock, read the partial index
// of pending rows, not a change log of many rows; a change log an older
// version made without the index gets it on the next apply.
func TestPendingRowsLookupReadsTheIndex(t *testing.T) {
	f := newFixture(t)
	wantStatus(t, f.apply(createRole("index_someone", "")), plan.StatusApplied) // creates the change log
	exec(t, "postgres", "DROP INDEX pgreconciler.change_log_pending")           // as an older version left it
	wantStatus(t, f.apply(createRole("index_other", "")), plan.StatusApplied)
	var indexed bool
	queryRow(t, env.Primary, "postgres", `SELECT to_regclass('pgreconciler.change_log_pending') IS NOT NULL`, nil, &indexed)
	if !indexed {
		t.Fatal("the apply did not add the index of pending rows to the change log")
	}

	const filler = "pg-index-filler" // a cluster no run resolves
	t.Cleanup(func() { exec(t, "postgres", "DELETE FROM pgreconciler.change_log WHERE cluster = "+quote(filler)) })
	exec(t, "postgres", `INSERT INTO pgreconciler.change_log (cluster, instance, kind, action, object, statement, commit, status, error, xact)
		SELECT `+quote(filler)+`, 'pg-index-filler-1', 'role', 'create', 'r' || i, 'CREATE ROLE r' || i, 'c',
			CASE WHEN i % 10000 = 0 THEN 'pending' ELSE 'applied' END, '', i
		FROM generate_series(1, 30000) i`,
		"ANALYZE pgreconciler.change_log")
	conn := mustConnect(t)
	for sql, args := range apply.PendingLookups() {
		var doc []map[string]any
		if err := conn.QueryRow(context.Background(), "EXPLAIN (FORMAT JSON) "+sql, args...).Scan(&doc); err != nil {
			t.Fatalf("explain %s: %v", sql, err)
		}
		var scans []string // how each plan node reads the change log
		var walk func(n map[string]any)
		walk = func(n map[string]any) {
			if n["Relation Name"] == "change_log" || n["Index Name"] != nil {
				scans = append(scans, fmt.Sprintf("%v %v", n["Node Type"], n["Index Name"]))
			}
			kids, _ := n["Plans"].([]any)
			for _, k := range kids {
				if m, ok := k.(map[string]any); ok {
					walk(m)
				}
			}
		}
		walk(doc[0]["Plan"].(map[string]any))
		if !slices.ContainsFunc(scans, func(s string) bool { return strings.HasSuffix(s, " change_log_pending") }) ||
			slices.ContainsFunc(scans, func(s string) bool { return strings.HasPrefix(s, "Seq Scan") }) {
			t.Errorf("%s\nreads the change log as %q, want through change_log_pending only", sql, scans)
		}
	}
}
