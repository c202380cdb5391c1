package reconcile

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/apply"
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
