package runas

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/testenv/sockdir"
)

// ownerFile holds the PID of the test binary that owns a harness directory.
const ownerFile = "owner.pid"

// NewDir creates a harness directory, prefix + name + "-" + a random
// suffix, short enough to hold unix sockets (sockdir.New), after removing
// the directories with the same prefix that killed test binaries left. It
// has mode 0755 so that the account can traverse it, is checked to be
// reachable by the account, and records this process as its owner. The
// caller removes it.
func (a Account) NewDir(prefix, name string) (string, error) {
	for _, tmp := range sockdir.Parents() {
		sweepStale(tmp, prefix)
	}
	dir, err := sockdir.New(prefix + name + "-")
	if err != nil {
		return "", fmt.Errorf("create harness directory: %w", err)
	}
	err = os.Chmod(dir, 0o755)
	if err == nil {
		if err = a.CanReach(dir); err != nil {
			err = fmt.Errorf("%w; set TMPDIR to a directory it can reach", err)
		}
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
	}
	if err != nil {
		return "", errors.Join(fmt.Errorf("prepare harness directory: %w", err), os.RemoveAll(dir))
	}
	return dir, nil
}

// sweepStale removes the directories in parent whose names start with
// prefix and that test binaries left when they were killed before they
// could clean up: the owner is gone and no process works inside any more
// (the servers died with their parent). Anything in doubt is left alone.
func sweepStale(parent, prefix string) {
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
