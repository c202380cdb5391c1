package apply_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// fromEmptyPlan is the workload of case L02 (docs/promises.md): 100 group roles and 10,000 login
// roles, each commented, and 50,000 memberships (every login in 5 groups),
// in the diff engine's order. ldap2pg 6.6 needs 5.9 s for it (20,206
// autocommit statements).
func fromEmptyPlan() ([]plan.Change, []string) {
	var creates, comments, grants []plan.Change
	var roles []string
	add := func(name, attrs string) {
		roles = append(roles, name)
		creates = append(creates, createRole(name, attrs))
		comments = append(comments, change(plan.KindComment, plan.ActionCreate, name,
			stmt("COMMENT ON ROLE "+ident(name)+" IS "+quote("business user "+name))))
	}
	for g := range 100 {
		add(fmt.Sprintf("bench_g%03d", g), "NOLOGIN")
	}
	for u := range 10000 {
		user := fmt.Sprintf("bench_u%05d", u)
		add(user, "LOGIN")
		for k := range 5 {
			group := fmt.Sprintf("bench_g%03d", (u+k*20)%100)
			grants = append(grants, change(plan.KindMembership, plan.ActionCreate, user+"->"+group,
				stmt("GRANT "+ident(group)+" TO "+ident(user))))
		}
	}
	return append(append(creates, comments...), grants...), roles
}

// BenchmarkApplyFromEmpty applies the plan of case L02 to a cluster without those
// roles (target: 1.2 s); the roles are dropped between iterations,
// outside the timer.
func BenchmarkApplyFromEmpty(b *testing.B) {
	f := newFixture(b)
	changes, roles := fromEmptyPlan()
	statements := 0
	for _, c := range changes {
		statements += len(c.Statements)
	}
	cp := plan.ClusterPlan{Name: env.Name, Changes: changes}
	target := f.target()
	// The 70,200 log lines are formatted as in production, but not kept.
	f.opts.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	ctx := context.Background()
	lock, err := apply.AcquireLock(ctx, f.dialer, f.cluster) // taken once, as a reconcile takes it before inspecting
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = lock.Release(ctx) }()
	f.opts.Lock = lock
	var elapsed time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		res, err := apply.Apply(ctx, target, cp, f.opts)
		elapsed += time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range res.Outcomes {
			if o.Status != plan.StatusApplied {
				b.Fatalf("%s %s: %s %s", o.Change.Kind, o.Change.Object, o.Status, o.Error)
			}
		}
		dropRoles(b, roles)
		b.StartTimer()
	}
	b.ReportMetric(float64(statements)*float64(b.N)/elapsed.Seconds(), "stmts/s")
	b.ReportMetric(float64(len(changes)), "changes/op")
}

// dropRoles drops the benchmark's roles and its change-log rows, vacuums
// the catalogs and waits for the replica, so that every iteration starts
// from the same empty state.
func dropRoles(b testing.TB, roles []string) {
	b.Helper()
	var sqls []string
	for i := 0; i < len(roles); i += 1000 {
		names := make([]string, 0, 1000)
		for _, r := range roles[i:min(i+1000, len(roles))] {
			names = append(names, ident(r))
		}
		sqls = append(sqls, "DROP ROLE "+strings.Join(names, ", "))
	}
	exec(b, "postgres", append(sqls, "DELETE FROM pgreconciler.change_log WHERE commit LIKE '%0123456789'",
		"VACUUM pg_authid, pg_auth_members, pg_shdescription, pgreconciler.change_log")...)
	if err := env.WaitReplay(context.Background()); err != nil {
		b.Fatal(err)
	}
}
