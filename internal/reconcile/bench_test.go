package reconcile

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/spec"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// bigFleet is the plan benchmark's workload: 100 group roles and 10,000
// login roles, each login in 5 groups, every role with a comment; as a
// spec (no defaults: nothing else is managed) and as SQL.
func bigFleet(groups, logins int) (cue string, sql string) {
	var users, ddl strings.Builder
	for g := 0; g < groups; g++ {
		fmt.Fprintf(&users, "\t{name: \"grp_%03d\", login: false, comment: \"group %d\"},\n", g, g)
		fmt.Fprintf(&ddl, "CREATE ROLE grp_%03d NOLOGIN; COMMENT ON ROLE grp_%03d IS 'group %d';\n", g, g, g)
	}
	for u := 0; u < logins; u++ {
		var roles []string
		for k := 0; k < 5; k++ {
			roles = append(roles, fmt.Sprintf("\"grp_%03d\"", (u+k*17)%groups))
		}
		fmt.Fprintf(&users, "\t{name: \"usr_%05d\", login: true, connlimit: 10, comment: \"user %d\", roles: [%s]},\n", u, u, strings.Join(roles, ", "))
		fmt.Fprintf(&ddl, "CREATE ROLE usr_%05d LOGIN CONNECTION LIMIT 10; COMMENT ON ROLE usr_%05d IS 'user %d';\n", u, u, u)
		for _, r := range roles {
			fmt.Fprintf(&ddl, "GRANT %s TO usr_%05d;\n", strings.Trim(r, `"`), u)
		}
	}
	vars := "pg_default_roles: []\npg_default_privileges: []\npg_default_hba_rules: []\npg_users: [\n" + users.String() + "]"
	return cluster.PigstySpec(vars), ddl.String()
}

// psqlFile runs a SQL script on the primary as the dbsu.
func psqlFile(b *testing.B, script string) {
	b.Helper()
	if err := cluster.Primary.LocalExec(context.Background(), "postgres", script); err != nil {
		b.Fatalf("run script: %v", err)
	}
}

// BenchmarkPlan10kRoles is the whole `plan` of one instance (spec load
// included) holding 10,100 roles and 50,000 memberships in sync with its
// spec, then with 100 drifts (50 connection limits, 50 missing
// memberships). Reports wall time, peak heap and catalog round trips.
func BenchmarkPlan10kRoles(b *testing.B) {
	if err := cluster.Reset(context.Background()); err != nil {
		b.Fatal(err)
	}
	src, ddl := bigFleet(100, 10000)
	psqlFile(b, "BEGIN;\n"+ddl+"COMMIT;\n")
	b.Cleanup(func() { _ = cluster.Reset(context.Background()) })
	b.Setenv("PGUSER", cluster.SuperUser)
	b.Setenv("PGPASSWORD", cluster.SuperPassword)
	b.Setenv("PGSSLMODE", "require")
	fsys := fstest.MapFS{"fleet.cue": {Data: []byte(src)}}

	run := func(b *testing.B, wantDrift int) {
		var rt testenv.RoundTrips
		var peak uint64
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			l, err := spec.NewLoader()
			if err != nil {
				b.Fatal(err)
			}
			res, err := l.Load(fsys, spec.Options{})
			if err != nil || res.Err() != nil {
				b.Fatal(err, res.Err())
			}
			d := dialer()
			d.Tracer = &rt
			c := res.Desired.Cluster("pg-e2e")
			c.Instances = c.Instances[:1] // one instance, as the workload says
			o, err := Cluster(context.Background(), Target{Cluster: c, Dialer: d}, Options{Mode: ModePlan})
			if err != nil || len(o.Instances) > 0 {
				b.Fatal(err, o.Instances)
			}
			if n := len(driftOf(o.Plan)); n != wantDrift {
				b.Fatalf("%d drift items, want %d", n, wantDrift)
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
		b.ReportMetric(float64(rt.N())/float64(b.N), "round-trips/op")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	}
	b.Run("in-sync", func(b *testing.B) { run(b, 0) })

	var drift strings.Builder
	for u := 0; u < 50; u++ {
		fmt.Fprintf(&drift, "ALTER ROLE usr_%05d CONNECTION LIMIT 3;\n", u*7)
		fmt.Fprintf(&drift, "REVOKE grp_%03d FROM usr_%05d;\n", (5000+u+0)%100, 5000+u)
	}
	psqlFile(b, drift.String())
	b.Run("100-drifts", func(b *testing.B) { run(b, 100) })
}

// BenchmarkApplyFromEmpty applies the plan benchmark's workload (10,100
// roles, 50,000 memberships, a comment each) to an instance that has none
// of it: the plan the diff makes, executed by apply. Reports the apply's
// wall time and statements per second.
func BenchmarkApplyFromEmpty(b *testing.B) {
	if err := cluster.Reset(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cluster.Reset(context.Background()) })
	b.Setenv("PGUSER", cluster.SuperUser)
	b.Setenv("PGPASSWORD", cluster.SuperPassword)
	b.Setenv("PGSSLMODE", "require")
	src, _ := bigFleet(100, 10000)
	l, err := spec.NewLoader()
	if err != nil {
		b.Fatal(err)
	}
	res, err := l.Load(fstest.MapFS{"fleet.cue": {Data: []byte(src)}}, spec.Options{})
	if err != nil || res.Err() != nil {
		b.Fatal(err, res.Err())
	}
	c := res.Desired.Cluster("pg-e2e")
	c.Instances = c.Instances[:1]
	var drop strings.Builder
	for u := 0; u < 10000; u++ {
		fmt.Fprintf(&drop, "DROP ROLE usr_%05d;\n", u)
	}
	for g := 0; g < 100; g++ {
		fmt.Fprintf(&drop, "DROP ROLE grp_%03d;\n", g)
	}
	statements := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		d := dialer()
		// The apply is timed alone: the plan is made, and the lock taken,
		// as Cluster does, outside the timer.
		lock, err := apply.AcquireLock(context.Background(), d, c)
		if err != nil {
			b.Fatal(err)
		}
		o, err := Cluster(context.Background(), Target{Cluster: c, Dialer: d}, Options{Mode: ModePlan})
		if err != nil || len(o.Instances) > 0 {
			b.Fatal(err, o.Instances)
		}
		statements = 0
		for _, ch := range o.Plan.Changes {
			statements += len(ch.Statements)
		}
		b.StartTimer()
		out, err := apply.Apply(context.Background(), apply.Target{Cluster: c, Dialer: d, Live: o.Live}, o.Plan, apply.Options{Lock: lock})
		b.StopTimer()
		_ = lock.Release(context.Background())
		if err != nil || out.Failed() {
			b.Fatal(err)
		}
		psqlFile(b, drop.String())
		b.StartTimer()
	}
	b.ReportMetric(float64(statements), "statements/op")
	b.ReportMetric(float64(statements)*float64(b.N)/b.Elapsed().Seconds(), "statements/s")
}
