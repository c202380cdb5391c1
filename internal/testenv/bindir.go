package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// defaultBinDir is where Debian's postgresql-15 package puts its programs.
const defaultBinDir = "/usr/lib/postgresql/15/bin"

// programs are the binaries the harness runs.
func programs() []string { return []string{"initdb", "postgres", "pg_basebackup", "psql"} }

// findBinDir returns the directory holding the PostgreSQL programs:
// $PG_BINDIR when set, else Debian's PostgreSQL 15 directory, else
// pg_config --bindir.
func findBinDir() (string, error) {
	candidates := []string{os.Getenv("PG_BINDIR")}
	if candidates[0] == "" {
		candidates = []string{defaultBinDir}
		if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
			candidates = append(candidates, strings.TrimSpace(string(out)))
		}
	}
	for _, dir := range candidates {
		if hasPrograms(dir) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("find PostgreSQL 15 programs (%s) in %s: not found; run scripts/install-deps.sh or set PG_BINDIR",
		strings.Join(programs(), ", "), strings.Join(candidates, ", "))
}

func hasPrograms(dir string) bool {
	for _, p := range programs() {
		fi, err := os.Stat(filepath.Join(dir, p))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}
