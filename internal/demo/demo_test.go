package demo

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemo plays the whole demo in quick mode: every narrated step must
// happen, or Run fails naming it.
func TestDemo(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "reconciler")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/pgreconciler/pgreconciler/cmd/reconciler").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	examples, _ := filepath.Abs("../../examples/repo")
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	err := Run(ctx, Options{Bin: bin, Dir: t.TempDir(), Examples: examples, Out: &out, Wait: 90 * time.Second})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"valid: 1 cluster(s), 2 instance(s)", "Plan:", "converged in", "picked up through fsnotify",
		"set it back to 128", "refused before the spec was even read", "pgreconciler_verification_failures_total"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo did not say %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "let-me-in") || strings.Contains(out.String(), "App.Secret.2026") {
		t.Error("a password reached the demo's output")
	}
}
