package reconcile

import (
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// TestLocaleProviders: databases created with the locale options of the
// server's major (an ICU locale from 15, ICU rules from 16, the builtin
// provider from 17) read back as the spec says: the next plan has neither
// drift nor a note about them, and a second apply changes nothing. On an
// older major the database is refused before any write, naming the version.
func TestLocaleProviders(t *testing.T) {
	cluster.ResetForReconciler(t)
	dbs := []struct {
		name, options string
		since         int
		missing       string // what an older major is refused for
	}{
		{"icu15", `locale_provider: "icu", icu_locale: "en_US"`, 15, "LOCALE_PROVIDER (new in 15)"},
		{"icu16", `locale_provider: "icu", icu_locale: "en-US", icu_rules: "&a < g"`, 16, "ICU_RULES (new in 16)"},
		{"builtin17", `locale_provider: "builtin", builtin_locale: "C.UTF8"`, 17, "BUILTIN_LOCALE (new in 17)"},
	}
	var decl []string
	for _, d := range dbs {
		decl = append(decl, `{name: "`+d.name+`", template: "template0", encoding: "UTF8", `+d.options+`}`)
	}
	c := loadSpec(t, cluster.PigstySpec("pg_databases: ["+strings.Join(decl, ", ")+"]"))
	applyAll(t, c)
	p, live := planOf(t, c)
	refused := map[string]bool{}
	for _, d := range dbs {
		refused[d.name] = cluster.Major < d.since
	}
	var drift []plan.Change
	for _, ch := range driftOf(p) {
		if !(ch.Kind == plan.KindDatabase && refused[ch.Object]) { // checked below
			drift = append(drift, ch)
		}
	}
	if len(drift) > 0 {
		t.Fatalf("drift after the apply:%s", describe(drift))
	}
	for _, d := range dbs {
		exists := live["pg-e2e-1"].Database(d.name) != nil
		var said []string
		for _, ch := range p.Changes {
			if ch.Kind == plan.KindDatabase && ch.Object == d.name {
				said = append(said, ch.Action.String()+": "+ch.Before+" "+ch.Reason)
			}
		}
		switch {
		case cluster.Major >= d.since && (!exists || len(said) > 0):
			t.Errorf("PostgreSQL %d: %s exists %v, plan says %q", cluster.Major, d.name, exists, said)
		case cluster.Major < d.since && (exists || len(said) != 1 || !strings.Contains(said[0], "has no") || !strings.Contains(said[0], d.missing)):
			t.Errorf("PostgreSQL %d: %s exists %v, plan says %q; want it refused for %s", cluster.Major, d.name, exists, said, d.missing)
		}
	}
	for _, o := range applyAll(t, c).Outcomes {
		if o.Status == plan.StatusApplied {
			t.Errorf("second apply changed %s %s", o.Change.Kind, o.Change.Object)
		}
	}
}
