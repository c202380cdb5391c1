package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// staleDirPrefix names every cluster directory (in one of sockdir.Parents).
const staleDirPrefix = "pgreconciler-testenv-"

// ownerFile holds the PID of the test binary that owns a cluster directory.
const ownerFile = "owner.pid"

// markOwner records this process as the owner of a cluster directory.
func markOwner(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("write owner file: %w", err)
	}
	return nil
}

// sweepStale removes cluster directories left by test binaries that were
// killed before they could clean up: the owner is gone and no process
// works inside any more (the postmasters died with their parent). Anything
// in doubt is left alone.
func sweepStale(tmp string) {
	dirs, _ := filepath.Glob(filepath.Join(tmp, staleDirPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || alive(pid) || len(processesIn(dir)) > 0 {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}
