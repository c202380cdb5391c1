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
// directive. Before 16 the directive is a broken line, drift too. So is a
// line the server reads but this package does not understand (18's oauth).
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
	if cluster.Major >= 18 { // what lets the server accept an oauth line (never loaded: nobody logs in with it)
		primary.MustLocal(t, "postgres", "ALTER SYSTEM SET oauth_validator_libraries = 'no_such_validator'")
		t.Cleanup(func() {
			primary.MustLocal(t, "postgres", "ALTER SYSTEM RESET oauth_validator_libraries")
			primary.MustLocal(t, "postgres", "SELECT pg_reload_conf()")
		})
		primary.MustLocal(t, "postgres", "SELECT pg_reload_conf()")
	}
	f, err := os.OpenFile(primary.HBAPath(), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString("include extra_hba.conf\nhost all all 10.98.0.0/16 oauth issuer=https://issuer.example scope=openid\n")
	_ = f.Close()

	want := []string{"extra_hba.conf line 1 (an include directive): host all all 10.99.0.0/16 trust",
		// 18's oauth method, which Parse does not know: drift all the same
		"(not understood by pgreconciler, read by the server): host all all 10.98.0.0/16 oauth issuer=https://issuer.example scope=openid"}
	switch {
	case cluster.Major < 16:
		want = []string{`invalid connection type "include"`, `invalid authentication method "oauth"`}
	case cluster.Major < 18:
		want[1] = `invalid authentication method "oauth"`
	}
	var found []string
	for _, ch := range driftOf(first(planOf(t, c))) {
		if ch.Kind == plan.KindHBA && ch.Instance == "pg-e2e-1" && ch.HBA != nil {
			found = append(found, strings.Join(ch.HBA.Diff, "\n"))
		}
	}
	if len(found) != 1 {
		t.Fatalf("PostgreSQL %d: HBA drift %q, want one", cluster.Major, found)
	}
	for _, w := range want {
		if !strings.Contains(strings.Join(strings.Fields(found[0]), " "), w) {
			t.Errorf("PostgreSQL %d: HBA drift %q does not name %q", cluster.Major, found[0], w)
		}
	}
	applyAll(t, c)
	if left := driftOf(first(planOf(t, c))); len(left) > 0 {
		t.Fatalf("apply did not heal it:%s", describe(left))
	}
	if text, _ := os.ReadFile(primary.HBAPath()); strings.Contains(string(text), "include") {
		t.Errorf("the directive is still in pg_hba.conf")
	}
}
