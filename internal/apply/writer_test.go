package apply_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

// staleTemp writes a temporary file as a writer killed two minutes ago
// would have left it.
func staleTemp(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Minute)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
}

// TestWriterRemovesStaleTemps (case H11; docs/faults.md): a write removes
// the temporary files a writer killed mid-write left beside its target,
// and leaves a fresh one (another write in progress) and other files alone.
func TestWriterRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "pg_hba.conf")
	stale := filepath.Join(dir, ".pg_hba.conf.pgreconciler-123456")
	fresh := filepath.Join(dir, ".pg_hba.conf.pgreconciler-654321")
	other := filepath.Join(dir, ".pgbouncer.ini.pgreconciler-111111")
	staleTemp(t, stale)
	staleTemp(t, other)
	if err := os.WriteFile(fresh, []byte("in progress"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := &model.Instance{Cluster: "pg-w", Seq: 1, IP: "127.0.0.1", Port: 5432}
	err := apply.NewLocalWriter().Write(context.Background(), in, target, []byte("local all all peer\n"),
		apply.FileInfo{UID: os.Geteuid(), GID: os.Getegid(), Mode: 0o600})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{stale: false, fresh: true, other: true, target: true} {
		if _, err := os.Stat(path); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(path), err == nil, want)
		}
	}
}
