package sockdir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// DeepTempDir returns a new directory, removed when the test ends, whose
// path is longer than any unix socket path: point TMPDIR or a working
// directory at it to show that a harness does not put sockets there.
func DeepTempDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), strings.Repeat("a-deep-checkout-path/", 6))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if len(dir) <= SunPathMax {
		t.Fatalf("%s is not deeper than %d bytes", dir, SunPathMax)
	}
	return dir
}
