package inspect

import (
	"context"
	"fmt"
	"testing"
)

// TestRoundTrips: the number of queries and batches Inspect sends does not
// depend on how many roles there are.
func TestRoundTrips(t *testing.T) {
	counts := map[int]int64{}
	for _, n := range []int{10, 1000} {
		c := fresh(t)
		execIn(t, c.Primary, "postgres", fmt.Sprintf(`DO $$ BEGIN
			FOR i IN 1..%d LOOP
				EXECUTE format('CREATE ROLE %%I LOGIN IN ROLE pg_monitor', 'trip_' || i);
				EXECUTE format('COMMENT ON ROLE %%I IS %%L', 'trip_' || i, 'role ' || i);
				EXECUTE format('ALTER ROLE %%I SET work_mem = %%L', 'trip_' || i, (64 + i) || 'kB');
			END LOOP; END $$`, n), "CREATE DATABASE app")
		l := superuser(c.Primary)
		st := l.mustInspect(t, "postgres", "app")
		if st.Role(fmt.Sprintf("trip_%d", n)) == nil || !st.Database("app").Inside {
			t.Fatalf("%d roles: state incomplete", n)
		}
		counts[n] = l.count.N()
	}
	// The session query, the catalog batch, one batch per managed database.
	if counts[10] != 4 || counts[1000] != 4 {
		t.Errorf("round trips: %v, want 4 for each", counts)
	}
}

// BenchmarkInspect10kRoles: 100 groups and 10,000 login roles, each login
// in 5 groups (50,000 memberships), every role with a comment. The roles
// stay until the next fresh (Reset) or the end of the package.
func BenchmarkInspect10kRoles(b *testing.B) {
	c := fresh(b)
	execIn(b, c.Primary, "postgres", `DO $$ BEGIN
		FOR g IN 1..100 LOOP
			EXECUTE format('CREATE ROLE %I NOLOGIN', 'bench_group_' || g);
			EXECUTE format('COMMENT ON ROLE %I IS %L', 'bench_group_' || g, 'group ' || g);
		END LOOP;
		FOR u IN 1..10000 LOOP
			EXECUTE format('CREATE ROLE %I LOGIN IN ROLE %I, %I, %I, %I, %I', 'bench_user_' || u,
				'bench_group_' || (u % 100 + 1), 'bench_group_' || ((u + 1) % 100 + 1),
				'bench_group_' || ((u + 2) % 100 + 1), 'bench_group_' || ((u + 3) % 100 + 1),
				'bench_group_' || ((u + 4) % 100 + 1));
			EXECUTE format('COMMENT ON ROLE %I IS %L', 'bench_user_' || u, 'user ' || u);
		END LOOP; END $$`)
	l := superuser(c.Primary)
	conn, err := l.dial(b.Context(), "postgres")
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	opts := l.options("postgres")
	var roles, memberships int
	b.ReportAllocs()
	for b.Loop() {
		st, err := Inspect(b.Context(), conn, opts)
		if err != nil {
			b.Fatal(err)
		}
		roles, memberships = len(st.Roles), 0
		for _, r := range st.Roles {
			memberships += len(r.MemberOf)
		}
	}
	if roles < 10100 || memberships < 50000 {
		b.Fatalf("read %d roles, %d memberships", roles, memberships)
	}
	b.ReportMetric(float64(l.count.N())/float64(b.N), "roundtrips/op")
}
