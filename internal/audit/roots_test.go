package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadRoots(t *testing.T) {
	if _, err := LoadRoots(cluster.CACertFile); err != nil {
		t.Errorf("the test CA: %v", err)
	}
	junk := filepath.Join(t.TempDir(), "junk.crt")
	if err := os.WriteFile(junk, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadRoots(junk); err == nil || !strings.Contains(err.Error(), "holds no certificate") {
		t.Errorf("a file without a certificate: %v", err)
	}
	if _, err := LoadRoots(filepath.Join(t.TempDir(), "missing.crt")); err == nil || !strings.Contains(err.Error(), "read sslrootcert") {
		t.Errorf("a missing file: %v", err)
	}
}
