package reconcile

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

// sessionCounter counts the sessions a dialer opens, per host, through
// pgx's connect tracing.
type sessionCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (s *sessionCounter) TraceConnectStart(ctx context.Context, d pgx.TraceConnectStartData) context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == nil {
		s.n = map[string]int{}
	}
	s.n[d.ConnConfig.Host]++
	return ctx
}

func (s *sessionCounter) TraceConnectEnd(context.Context, pgx.TraceConnectEndData) {}

func (s *sessionCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

func (s *sessionCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TestSessionsPerReconcile counts the sessions one reconcile opens per
// instance (BENCHMARKS.md states them). A plan: one per instance, the
// inspection. An apply, on the primary: the apply lock's session, on
// which the primary is also inspected, before and after the apply; the
// apply's own session, which writes (a change that ends its session must
// not take the lock with it); and, when pg_hba.conf changes, the login
// that proves the new file lets the reconciler in. On a replica: the
// inspections, and for a new pg_hba.conf the reload and the login.
func TestSessionsPerReconcile(t *testing.T) {
	cluster.ResetForReconciler(t)
	c := loadSpec(t, cluster.PigstySpec(pipelineVars))
	run := func(mode Mode) (primary, replica int, o Outcome) {
		var sc sessionCounter
		d := dialer()
		d.Tracer = &sc
		o, err := Cluster(context.Background(), Target{Cluster: c, Dialer: d},
			Options{Mode: mode, HBA: apply.NewLocalWriter(), Provenance: testProvenance})
		if err != nil {
			t.Fatal(err)
		}
		if mode == ModeApply && o.Result != nil && o.Result.Failed() {
			t.Fatalf("apply: %+v", o)
		}
		return sc.n[cluster.Primary.Addr], sc.n[cluster.Replicas[0].Addr], o
	}
	if p, r, o := run(ModePlan); p != 1 || r != 1 || len(o.Plan.Changes) == 0 {
		t.Errorf("plan: %d sessions to the primary, %d to the replica, %d changes; want 1, 1 and some", p, r, len(o.Plan.Changes))
	}
	if p, r, o := run(ModeApply); p != 3 || r != 4 || o.Result == nil || !roleExists(t, "dbuser_pipe") {
		t.Errorf("apply with a new pg_hba.conf: %d sessions to the primary, %d to the replica; want 3 and 4, and the role", p, r)
	}
	cluster.Primary.MustLocal(t, "postgres", "ALTER ROLE dbuser_pipe CONNECTION LIMIT 3")
	if p, r, o := run(ModeApply); p != 2 || r != 2 || o.Result == nil || len(o.Result.Outcomes) != 1 {
		t.Errorf("apply of one role change: %d sessions to the primary, %d to the replica; want 2 and 2, one change", p, r)
	}
	if p, r, _ := run(ModeApply); p != 1 || r != 1 {
		t.Errorf("apply, nothing to do: %d sessions to the primary, %d to the replica; want 1 and 1", p, r)
	}
}

// keptSessions is a Sessions that keeps one session per instance, and
// counts the sessions reused.
type keptSessions struct {
	mu    sync.Mutex
	m     map[string]*pgx.Conn
	taken int
}

func (k *keptSessions) Take(in *model.Instance) *pgx.Conn {
	k.mu.Lock()
	defer k.mu.Unlock()
	conn := k.m[in.Name()]
	delete(k.m, in.Name())
	return conn
}

func (k *keptSessions) Reused(*model.Instance) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.taken++
}

func (k *keptSessions) Keep(in *model.Instance, conn *pgx.Conn) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]*pgx.Conn{}
	}
	k.m[in.Name()] = conn
}

func (k *keptSessions) pid(name string) uint32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	if conn := k.m[name]; conn != nil {
		return conn.PgConn().PID()
	}
	return 0
}

func (k *keptSessions) size() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.m)
}

func (k *keptSessions) close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, conn := range k.m {
		conn.Close(context.Background())
	}
}

// TestSessionsKeptAcrossPlans: plans given Sessions read each instance on
// the session the previous plan kept, so that three plans open one
// session per instance; a session ended on the server, or one that
// processed a reload, is replaced by a new one without an error; an apply
// takes them, and keeps none.
func TestSessionsKeptAcrossPlans(t *testing.T) {
	cluster.ResetForReconciler(t)
	c := loadSpec(t, cluster.PigstySpec(pipelineVars))
	var sc sessionCounter
	d := dialer()
	d.Tracer = &sc
	kept := &keptSessions{}
	defer kept.close()
	run := func(mode Mode) Outcome {
		t.Helper()
		o, err := Cluster(context.Background(), Target{Cluster: c, Dialer: d},
			Options{Mode: mode, HBA: apply.NewLocalWriter(), Provenance: testProvenance, Sessions: kept})
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Instances) > 0 {
			t.Fatalf("inspection failed: %v", o.Instances)
		}
		return o
	}
	counts := func() (int, int) {
		sc.mu.Lock()
		defer sc.mu.Unlock()
		return sc.n[cluster.Primary.Addr], sc.n[cluster.Replicas[0].Addr]
	}
	for range 3 {
		run(ModePlan)
	}
	if p, r := counts(); p != 1 || r != 1 || kept.taken != 4 {
		t.Errorf("three plans: %d sessions to the primary, %d to the replica, %d reused; want 1, 1 and 4", p, r, kept.taken)
	}
	primary := c.Primary().Name()
	// Every statement the inspections prepared fits the sessions'
	// statement cache (dbconn keeps it small: it is paid per kept session).
	kept.mu.Lock()
	if conn := kept.m[primary]; conn != nil {
		var n int
		if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_prepared_statements").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 || n >= dbconn.SessionCacheCapacity {
			t.Errorf("the kept session holds %d prepared statements; want some, fewer than the cache's %d", n, dbconn.SessionCacheCapacity)
		}
		t.Logf("the inspections prepared %d statements", n)
	}
	kept.mu.Unlock()
	pid := kept.pid(primary)
	if pid == 0 {
		t.Fatal("no session kept for the primary")
	}
	cluster.Primary.MustLocal(t, "postgres", fmt.Sprintf("SELECT pg_terminate_backend(%d)", pid))
	waitGone(t, pid)
	run(ModePlan) // fails the test on an inspection error
	if p, r := counts(); p != 2 || r != 1 {
		t.Errorf("after the primary's session was ended: %d sessions to the primary, %d to the replica; want 2 and 1", p, r)
	}
	cluster.Primary.MustLocal(t, "postgres", "SELECT pg_reload_conf()")
	time.Sleep(200 * time.Millisecond) // the kept session processes the reload at its next query
	run(ModePlan)
	if p, r := counts(); p != 3 || r != 1 {
		t.Errorf("after a reload of the primary: %d sessions to the primary, %d to the replica; want 3 and 1", p, r)
	}
	// An apply takes the kept sessions (the primary's for the lock and the
	// inspection, the replica's for its inspection), and keeps none: its
	// sessions end with it. This one writes a new pg_hba.conf, which
	// TestSessionsPerReconcile counts at 3 sessions to the primary and 4
	// to the replica: one fewer each here.
	taken := kept.taken
	o := run(ModeApply)
	if !o.Locked || o.Result == nil {
		t.Fatalf("the apply did not take the lock or applied nothing: %+v", o)
	}
	if p, r := counts(); kept.taken != taken+2 || p != 3+2 || r != 1+3 || kept.size() != 0 {
		t.Errorf("an apply reused %d kept sessions, opened %d to the primary and %d to the replica, and left %d kept; want 2 reused, 2 and 3 opened, none kept",
			kept.taken-taken, p-3, r-1, kept.size())
	}
	run(ModePlan)
	if p, r := counts(); p != 6 || r != 5 {
		t.Errorf("a plan after the apply: %d sessions to the primary, %d to the replica; want 6 and 5 (a new one each)", p, r)
	}
}

// waitGone waits until the backend pid has left pg_stat_activity.
func waitGone(t *testing.T, pid uint32) {
	t.Helper()
	for range 100 {
		if cluster.Primary.MustLocalValue(t, "postgres", fmt.Sprintf("SELECT count(*) FROM pg_stat_activity WHERE pid = %d", pid)) == "0" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("backend %d still there", pid)
}
