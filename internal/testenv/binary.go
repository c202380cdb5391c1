package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var reconcilerBuild struct {
	once sync.Once
	path string
	err  error
}

// ReconcilerBinary builds cmd/reconciler once per test binary (into a
// temporary directory) and returns its path, for tests that run the
// reconciler as a process: to kill it, restart it, read what it prints.
func ReconcilerBinary(t testing.TB) string {
	t.Helper()
	b := &reconcilerBuild
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "pgreconciler-bin-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, "reconciler")
		out, err := exec.Command("go", "build", "-o", b.path, "github.com/pgreconciler/pgreconciler/cmd/reconciler").CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}
