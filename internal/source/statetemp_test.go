package source

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSaveStateRemovesStaleTemps (case H11; docs/faults.md): saving the
// state removes the temporary state files a process killed while it wrote
// left, and keeps a fresh one and the other sources' files.
func TestSaveStateRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * time.Minute)
	stale := filepath.Join(dir, ".prod.state.json-123456")
	fresh := filepath.Join(dir, ".prod.state.json-654321")
	other := filepath.Join(dir, ".staging.state.json-111111")
	for _, p := range []string{stale, fresh, other} {
		if err := os.WriteFile(p, []byte("{"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{stale, other} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	if err := SaveState(dir, State{Source: "prod", Commit: strings.Repeat("a1", 20)}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{stale: false, fresh: true, other: true} {
		if _, err := os.Stat(path); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(path), err == nil, want)
		}
	}
}
