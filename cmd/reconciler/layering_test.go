package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering enforces the imports STYLE.md forbids: the diff (and
// PgBouncer's render and compare) is pure,
// the model imports nothing of ours, validation never connects, inspection
// never writes, and the source never applies. (Nothing can import cmd/:
// Go refuses to import a main package.)
func TestLayering(t *testing.T) {
	const mod = "github.com/pgreconciler/pgreconciler/"
	forbidden := map[string][]string{
		"internal/diff":    {"internal/inspect", "internal/apply", "internal/source", "internal/dbconn", "internal/reconcile"},
		"internal/model":   {"internal/"},
		"internal/spec":    {"internal/inspect", "internal/apply", "internal/dbconn", "internal/source"},
		"internal/inspect": {"internal/apply"},
		"internal/source":  {"internal/apply"},
		"internal/drift":   {"internal/apply", "internal/inspect"},
		"internal/apply":   {"internal/drift"},
		"internal/audit":   {"internal/apply", "internal/diff", "internal/reconcile"},
		"internal/pgbouncer": {"internal/inspect", "internal/apply", "internal/dbconn", "internal/source", "internal/spec",
			"internal/diff", "internal/drift", "internal/reconcile"},
	}
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-deps", "../../"+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			rel, ok := strings.CutPrefix(dep, mod)
			if !ok || rel == pkg {
				continue
			}
			for _, b := range bad {
				if strings.HasPrefix(rel, b) {
					t.Errorf("%s must not import %s", pkg, rel)
				}
			}
		}
	}
}
