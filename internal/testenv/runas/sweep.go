package runas

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ownerFile holds the PID of the test binary that owns a harness directory.
const ownerFile = "owner.pid"

// MarkOwner records this process as the owner of a harness directory, for
// SweepStale.
func MarkOwner(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("write owner file: %w", err)
	}
	return nil
}

// SweepStale removes the directories in parent whose names start with prefix
// and that test binaries left when they were killed before they could clean
// up: the owner is gone and no process works inside any more (the servers
// died with their parent). Anything in doubt is left alone.
func SweepStale(parent, prefix string) {
	dirs, _ := filepath.Glob(filepath.Join(parent, prefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || Alive(pid) || len(ProcessesIn(dir)) > 0 {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}
