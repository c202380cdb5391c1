package apply_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// TestLongRunSplitIntoTransactions: a run of consecutive transactional
// changes for one database is sent in plan order in transactions of at
// most Options.MaxTxChanges changes, each holding the change-log rows of
// its own changes (postgres database) or their intent rows with its
// transaction id (another database); a failing change in the middle of a
// transaction is still rolled back alone (promise P14; docs/promises.md).
func TestLongRunSplitIntoTransactions(t *testing.T) {
	f := newFixture(t)
	f.opts.MaxTxChanges = 3
	var changes []plan.Change
	for k := range 9 {
		changes = append(changes, createRole(fmt.Sprintf("chunk_%d", k), "NOLOGIN"))
	}
	// the middle of the second transaction fails; the last change, alone
	// in the fourth, needs roles the first and third made
	changes[4] = change(plan.KindMembership, plan.ActionCreate, "chunk_3->missing", stmt(`GRANT no_such_group TO chunk_3`))
	changes = append(changes, change(plan.KindMembership, plan.ActionCreate, "chunk_8->chunk_0", stmt(`GRANT chunk_0 TO chunk_8`)))
	res := f.apply(changes...)
	for i, o := range res.Outcomes {
		if i == 4 {
			if o.Status != plan.StatusFailed || o.SQLState != "42704" {
				t.Errorf("change %d (%s): %s %q sqlstate %q, want failed with 42704", i, o.Change.Object, o.Status, o.Error, o.SQLState)
			}
			continue
		}
		if o.Status != plan.StatusApplied {
			t.Errorf("change %d (%s): %s %q, want applied", i, o.Change.Object, o.Status, o.Error)
		}
	}

	// Each change-log row was written by the transaction that made its
	// change: row k (plan order) belongs to transaction k/3, and its object
	// was made (in a subtransaction: the savepoint) after that transaction
	// began and before the next did.
	conn := mustConnect(t)
	rows, _ := conn.Query(context.Background(), `SELECT l.object, l.status, l.xmin::text::bigint,
			coalesce(a.xmin::text::bigint, m.xmin::text::bigint, 0)
		FROM pgreconciler.change_log l
		LEFT JOIN pg_authid a ON a.rolname = l.object
		LEFT JOIN pg_auth_members m ON l.object = m.member::regrole::text || '->' || m.roleid::regrole::text
		WHERE l.commit = $1 ORDER BY l.id`, f.commit)
	type row struct {
		Object, Status  string
		LogXact, ObjXid int64
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(changes) {
		t.Fatalf("%d change-log rows for %d changes: %+v", len(got), len(changes), got)
	}
	var xacts []int64 // the transactions, in order
	for k, r := range got {
		if r.Object != changes[k].Object {
			t.Errorf("change-log row %d is about %s, want %s (plan order)", k, r.Object, changes[k].Object)
		}
		if len(xacts) == 0 || xacts[len(xacts)-1] != r.LogXact {
			xacts = append(xacts, r.LogXact)
		}
		if len(xacts)-1 != k/3 {
			t.Errorf("change-log row %d was written by transaction #%d (%d), want #%d: at most 3 changes per transaction", k, len(xacts)-1, r.LogXact, k/3)
		}
	}
	for k, r := range got {
		c := min(k/3, len(xacts)-1)
		if r.Status == "applied" && (r.ObjXid <= xacts[c] || c+1 < len(xacts) && r.ObjXid >= xacts[c+1]) {
			t.Errorf("%s was made by transaction %d, not within its change-log row's transaction %d", r.Object, r.ObjXid, xacts[c])
		}
	}
	if len(xacts) != 4 {
		t.Errorf("%d transactions for 10 changes, want 4", len(xacts))
	}

	// In another database, each transaction has its own intent rows,
	// settled applied.
	exec(t, "postgres", "CREATE DATABASE chunk_db")
	changes = changes[:0]
	for k := range 7 {
		changes = append(changes, change(plan.KindSchema, plan.ActionCreate, fmt.Sprintf("chunk_db.s%d", k),
			in("chunk_db", fmt.Sprintf("CREATE SCHEMA s%d", k))))
	}
	wantStatus(t, f.apply(changes...), plan.StatusApplied)
	var n, pending int
	queryRow(t, env.Primary, "postgres", `SELECT count(DISTINCT xact), count(*) FILTER (WHERE status <> 'applied')
		FROM pgreconciler.change_log WHERE commit = $1 AND object LIKE 'chunk_db.%'`, []any{f.commit}, &n, &pending)
	if n != 3 || pending != 0 {
		t.Errorf("the 7 changes in chunk_db have %d transaction ids and %d rows not applied, want 3 and 0", n, pending)
	}
	queryRow(t, env.Primary, "chunk_db", `SELECT count(DISTINCT xmin::text) FROM pg_namespace WHERE nspname ~ '^s[0-9]$'`, nil, &n)
	if n != 3 {
		t.Errorf("the 7 schemas were made by %d transactions, want 3", n)
	}
}

// TestLongRunBeyondTheLockTable: a run of more changes than the server's
// lock table has room for in one transaction applies in full, in
// transactions of the default size (promise P14; docs/promises.md). Each
// COMMENT ON ROLE (and, on 16 and later, each CREATE ROLE) holds a lock on
// its role until its transaction ends.
func TestLongRunBeyondTheLockTable(t *testing.T) {
	const roles = 4000
	small := testenv.NewCluster(t, testenv.Options{Name: "pg-locks", Replicas: -1, BaseIP: 76, ExtraConf: map[string]string{
		"max_connections":            "10",
		"max_locks_per_transaction":  "20", // room for about 2,000 locks on 18, 1,500 on 13
		"log_statement":              "none",
		"log_min_duration_statement": "-1",
	}})
	changes := make([]plan.Change, 0, 2*roles)
	for k := range roles {
		changes = append(changes, createRole(fmt.Sprintf("lock_%04d", k), "NOLOGIN"))
	}
	for k := range roles {
		name := fmt.Sprintf("lock_%04d", k)
		changes = append(changes, change(plan.KindComment, plan.ActionCreate, name, stmt("COMMENT ON ROLE "+ident(name)+" IS 'x'")))
	}
	stmts := make([]string, len(changes))
	for k := range changes {
		changes[k].Cluster, changes[k].Instance = small.Name, small.Primary.Name()
		stmts[k] = changes[k].Statements[0].SQL
	}
	ctx := context.Background()

	// The witness: the same statements in one transaction exhaust the
	// lock table.
	conn, err := small.Primary.Connect(ctx, small.SuperUser, small.SuperPassword, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, strings.Join(stmts, ";\n"))
	_ = tx.Rollback(ctx)
	if st := dbconn.SQLState(err); st != "53200" {
		t.Fatalf("%d changes in one transaction: %v (SQLSTATE %q), want 53200: the lock table is not smaller than the run", len(changes), err, st)
	}

	cl := modelClusterOf(small)
	d := dialerTo(small, small.SuperUser, small.SuperPassword)
	lock, err := apply.AcquireLock(ctx, d, cl)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lock.Release(context.WithoutCancel(ctx)) }()
	res, err := apply.Apply(ctx, apply.Target{Cluster: cl, Dialer: d}, plan.ClusterPlan{Name: small.Name, Changes: changes}, apply.Options{Lock: lock})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	failed := 0
	for _, o := range res.Outcomes {
		if o.Status != plan.StatusApplied {
			if failed++; failed <= 3 {
				t.Errorf("%s: %s %q sqlstate %q, want applied", o.Change.Object, o.Status, o.Error, o.SQLState)
			}
		}
	}
	var made, logged int
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_roles WHERE rolname LIKE 'lock\_%'),
		(SELECT count(*) FROM pgreconciler.change_log WHERE status = 'applied')`).Scan(&made, &logged); err != nil {
		t.Fatal(err)
	}
	if failed > 0 || made != roles || logged != len(changes) {
		t.Errorf("%d of %d changes not applied, %d roles made, %d applied change-log rows", failed, len(changes), made, logged)
	}
}
