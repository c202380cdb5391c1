package apply_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// TestLockoutGuardEveryDatabase (issue #18): a rule that denies the
// reconciler on one declared database, existing or not yet, is refused
// before anything is written; the same rule for a database the reconciler
// never enters (not declared, or declared without connections) is applied.
func TestLockoutGuardEveryDatabase(t *testing.T) {
	f := newFixture(t)
	f.opts.HBA = apply.NewLocalWriter()
	off := false
	f.cluster.Databases = []*model.Database{
		{Name: "lock_meta", State: model.DatabaseCreate},
		{Name: "lock_closed", State: model.DatabaseCreate, AllowConn: &off},
		{Name: "lock_gone", State: model.DatabaseAbsent},
	}
	exec(t, "postgres", "CREATE DATABASE lock_meta")
	original, before := readHBA(t, env.Primary), loadTime(t, env.Primary)
	deny := func(db string) string {
		return "hostssl " + db + " " + env.SuperUser + " 127.0.0.0/8 reject\n" + original
	}
	for _, db := range []string{"lock_meta", "lock_new"} {
		if db == "lock_new" { // declared, not created yet: a later change creates and enters it
			f.cluster.Databases = append(f.cluster.Databases, &model.Database{Name: db, State: model.DatabaseCreate})
		}
		o := f.apply(hbaChange(primaryName(), deny(db))).Outcomes[0]
		want := `line 1 "hostssl ` + db + ` ` + env.SuperUser + ` 127.0.0.0/8 reject" would reject ` + env.SuperUser +
			` (the reconciler's own connection) to database ` + db + ` from 127.0.0.`
		if o.Status != plan.StatusRefused || !strings.Contains(o.Error, want) || !strings.Contains(o.Error, "nothing written") {
			t.Errorf("%s: %s %q, want refused: %s", db, o.Status, o.Error, want)
		}
		unchanged(t, env.Primary, original, before)
	}
	// The replica's reconciler session only enters postgres.
	o := f.apply(hbaChange(replicaName(), deny("lock_meta"))).Outcomes[0]
	if o.Status != plan.StatusApplied {
		t.Errorf("replica: %s %q, want applied", o.Status, o.Error)
	}
	for _, db := range []string{"lock_closed", "lock_gone", "lock_other"} {
		if o := f.apply(hbaChange(primaryName(), deny(db))).Outcomes[0]; o.Status != plan.StatusApplied {
			t.Errorf("%s: %s %q, want applied", db, o.Status, o.Error)
		}
	}
}

// TestLockoutGuardReplicationFromMembers (issue #18): a rule that denies
// the replication user from a member's address is refused on every
// member, even while that member is down and not connected.
func TestLockoutGuardReplicationFromMembers(t *testing.T) {
	f := newFixture(t)
	f.opts.HBA = apply.NewLocalWriter()
	replica := env.Replicas[0]
	if err := replica.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Reset(context.Background()); err != nil { // starts the replica again
			t.Error(err)
		}
	})
	original, before := readHBA(t, env.Primary), loadTime(t, env.Primary)
	content := "host replication " + env.ReplUser + " " + replica.Addr + "/32 reject\n" + original

	waitNoReplication(t)
	all := f.cluster.Instances
	f.cluster.Instances = []*model.Instance{f.cluster.Primary()} // the replica is down: read the primary's live state only
	tg := f.target()
	f.cluster.Instances = all
	res, err := f.applyTo(context.Background(), tg, plan.ClusterPlan{Name: env.Name, Changes: []plan.Change{hbaChange(primaryName(), content)}}, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	o := res.Outcomes[0]
	want := `line 1 "host replication ` + env.ReplUser + ` ` + replica.Addr + `/32 reject" would reject ` + env.ReplUser +
		` replication from member ` + replicaName() + ` from ` + replica.Addr + ` (ssl)`
	if o.Status != plan.StatusRefused || !strings.Contains(o.Error, want) {
		t.Errorf("%s %q, want refused: %s", o.Status, o.Error, want)
	}
	unchanged(t, env.Primary, original, before)
}

// waitNoReplication waits until the primary has no replication client.
func waitNoReplication(t testing.TB) {
	t.Helper()
	for range 100 {
		var n int
		queryRow(t, env.Primary, "postgres", "SELECT count(*) FROM pg_stat_replication", nil, &n)
		if n == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the primary still has a replication client")
}
