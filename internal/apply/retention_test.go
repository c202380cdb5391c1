package apply_test

import (
	"context"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/apply"
)

// TestChangeLogRetention (issue #17): rows older than the retention age
// (a year by default), and rows beyond the newest MaxRows, are deleted in
// batches, the newest applied row from a commit (the rewind check's floor)
// always kept; and an apply that wrote rows enforces its Retention.
func TestChangeLogRetention(t *testing.T) {
	f := newFixture(t)
	f.apply(createRole("rt_a", "NOLOGIN")) // creates the change log
	ctx := context.Background()
	conn, err := env.Primary.Connect(ctx, env.SuperUser, env.SuperPassword, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	count := func() (n int64, floor string) {
		t.Helper()
		if err := conn.QueryRow(ctx, `SELECT count(*), coalesce((SELECT commit FROM pgreconciler.change_log
			WHERE status = 'applied' AND commit <> '' ORDER BY id DESC LIMIT 1), '') FROM pgreconciler.change_log`).Scan(&n, &floor); err != nil {
			t.Fatal(err)
		}
		return n, floor
	}
	// Two years old, applied from commits (the last one is the floor);
	// then a day old, observed drift (no commit).
	if _, err := conn.Exec(ctx, `DELETE FROM pgreconciler.change_log;
		INSERT INTO pgreconciler.change_log (at, cluster, kind, action, object, commit, status)
		SELECT now() - interval '730 days', 'pg-apply', 'role', 'create', 'r' || i, 'c-old-' || i, 'applied'
		FROM generate_series(1, 12000) i;
		INSERT INTO pgreconciler.change_log (at, cluster, kind, action, object, commit, status)
		SELECT now() - interval '1 day', 'pg-apply', 'role', 'alter', 'r' || i, '', 'observed'
		FROM generate_series(1, 3000) i`); err != nil {
		t.Fatal(err)
	}
	n, err := apply.PruneChangeLog(ctx, conn, apply.Retention{})
	if err != nil {
		t.Fatal(err)
	}
	if left, floor := count(); n != 11999 || left != 3001 || floor != "c-old-12000" {
		t.Errorf("default retention: %d deleted, %d left, floor %q; want 11999, 3001 (a day old, and the floor c-old-12000)", n, left, floor)
	}
	if n, err := apply.PruneChangeLog(ctx, conn, apply.Retention{MaxAge: -1, MaxRows: 1000}); err != nil || n != 2000 {
		t.Errorf("1,000 rows: %d deleted (%v), want 2000", n, err)
	}
	if left, floor := count(); left != 1001 || floor != "c-old-12000" {
		t.Errorf("1,000 rows: %d left, floor %q; want 1001 and c-old-12000", left, floor)
	}
	if n, err := apply.PruneChangeLog(ctx, conn, apply.Retention{MaxAge: -1}); err != nil || n != 0 {
		t.Errorf("no limits: %d deleted (%v), want none", n, err)
	}

	// An apply enforces its retention once it has written its rows.
	f.opts.Retention = apply.Retention{MaxRows: 10}
	f.apply(createRole("rt_b", "NOLOGIN"))
	if left, floor := count(); left != 10 || floor != f.commit {
		t.Errorf("after an apply keeping 10 rows: %d left, floor %q; want 10 and %s", left, floor, f.commit)
	}
	if rows := f.changeLog(); len(rows) != 1 || rows[0].Object != "rt_b" {
		t.Errorf("the apply's own rows: %+v, want rt_b's", rows)
	}
}
