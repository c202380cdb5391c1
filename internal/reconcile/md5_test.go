package reconcile

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/spec"
)

// TestMD5Deprecated: a spec that hashes passwords with md5 (pg_pwd_enc:
// md5) is reported on PostgreSQL 18, which deprecates md5 passwords, and
// applied all the same (the password is the spec's); before 18 nothing is
// said. The stored hash is md5 either way, and the next plan is quiet but
// for the report.
func TestMD5Deprecated(t *testing.T) {
	cluster.ResetForReconciler(t)
	// The baseline profile refuses md5: no profile, as a fleet that still
	// uses it has.
	l, err := spec.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	src := cluster.PigstySpec(`pg_pwd_enc: "md5"
		pg_default_roles: [], pg_default_hba_rules: [], pg_default_privileges: []
		pg_users: [{name: "u_md5", password: "Md5.Secret.2026", login: true}]`)
	res, err := l.Load(fstest.MapFS{"fleet.cue": {Data: []byte(src)}}, spec.Options{Profile: "none"})
	if err != nil || res.Err() != nil {
		t.Fatalf("%v %v", err, res.Err())
	}
	c := res.Desired.Cluster("pg-e2e")
	reported := func(p plan.ClusterPlan) []plan.Change {
		var out []plan.Change
		for _, ch := range p.Changes {
			if ch.Kind == plan.KindPassword && ch.Object == "u_md5" && ch.Action == plan.ActionReport {
				out = append(out, ch)
			}
		}
		return out
	}
	const why = "pg_pwd_enc is md5: PostgreSQL 18 deprecates md5 passwords"
	check := func(when string, p plan.ClusterPlan) {
		t.Helper()
		r := reported(p)
		switch {
		case cluster.Major >= 18 && (len(r) != 1 || !strings.Contains(r[0].Reason, why) || len(r[0].Statements) != 0):
			t.Errorf("PostgreSQL %d, %s: %+v, want one report saying %q", cluster.Major, when, r, why)
		case cluster.Major < 18 && len(r) != 0:
			t.Errorf("PostgreSQL %d, %s: %+v", cluster.Major, when, r)
		}
		for _, ch := range p.Changes {
			if strings.Contains(ch.Reason+ch.Before+ch.After, "Md5.Secret") {
				t.Errorf("the password shows in the plan: %+v", ch)
			}
		}
	}
	check("first plan", first(planOf(t, c)))
	applyAll(t, c)
	if got := cluster.Primary.MustLocalValue(t, "postgres", "SELECT left(rolpassword, 3) FROM pg_authid WHERE rolname = 'u_md5'"); got != "md5" {
		t.Errorf("stored as %q, want an md5 hash", got)
	}
	p := first(planOf(t, c))
	check("after the apply", p)
	for _, ch := range driftOf(p) {
		if !(ch.Kind == plan.KindPassword && ch.Action == plan.ActionReport) {
			t.Errorf("after the apply: %s %s %s: %s", ch.Action, ch.Kind, ch.Object, ch.Reason)
		}
	}
}
