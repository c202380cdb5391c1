package reconcile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// TestHBAInclude: an include directive added to a managed pg_hba.conf
// (PostgreSQL 16+) brings in rules nobody declared: the plan shows them
// as drift, naming the included file, and the apply's rewrite removes the
// directive. Before 16 the directive is a broken line, drift too.
func TestHBAInclude(t *testing.T) {
	cluster.ResetForReconciler(t)
	c := loadSpec(t, cluster.PigstySpec(""))
	applyAll(t, c)
	primary := cluster.Primary
	extra := filepath.Join(filepath.Dir(primary.HBAPath()), "extra_hba.conf")
	if err := os.WriteFile(extra, []byte("host all all 10.99.0.0/16 trust\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(extra) })
	f, err := os.OpenFile(primary.HBAPath(), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString("include extra_hba.conf\n")
	_ = f.Close()

	want := "extra_hba.conf line 1 (an include directive): host all all 10.99.0.0/16 trust"
	if cluster.Major < 16 {
		want = `invalid connection type "include"`
	}
	var found []string
	for _, ch := range driftOf(first(planOf(t, c))) {
		if ch.Kind == plan.KindHBA && ch.Instance == "pg-e2e-1" && ch.HBA != nil {
			found = append(found, strings.Join(ch.HBA.Diff, "\n"))
		}
	}
	if len(found) != 1 || !strings.Contains(strings.Join(strings.Fields(found[0]), " "), want) {
		t.Fatalf("PostgreSQL %d: HBA drift %q, want one naming %q", cluster.Major, found, want)
	}
	applyAll(t, c)
	if left := driftOf(first(planOf(t, c))); len(left) > 0 {
		t.Fatalf("apply did not heal it:%s", describe(left))
	}
	if text, _ := os.ReadFile(primary.HBAPath()); strings.Contains(string(text), "include") {
		t.Errorf("the directive is still in pg_hba.conf")
	}
}
