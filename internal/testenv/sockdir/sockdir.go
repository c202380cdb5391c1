package sockdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

const (
	// SunPathMax is the longest unix socket path Linux accepts: sockaddr_un's
	// sun_path holds 108 bytes including the terminating NUL.
	SunPathMax = 107
	// MaxLen is the longest directory path New returns.
	MaxLen = 64
	// Room is what a caller may add below a directory from New and still
	// name a socket: "/pg-test-1/socket/.s.PGSQL.65535" (32 bytes),
	// "/S.gpg-agent.browser" (20).
	Room = SunPathMax - MaxLen
)

// fallback is where New goes when os.TempDir() is too deep.
const fallback = "/tmp"

// randomLen is the most os.MkdirTemp appends to a pattern (a uint32 in
// decimal).
const randomLen = 10

// Parents returns the directories New may create directories in, os.TempDir()
// first, so that a caller can find (and sweep) what an earlier run left.
func Parents() []string {
	tmp := filepath.Clean(os.TempDir())
	if tmp == fallback {
		return []string{tmp}
	}
	return []string{tmp, fallback}
}

// New creates a directory (mode 0700) whose name starts with prefix, in
// os.TempDir() if the result is at most MaxLen bytes long, else in /tmp.
// The caller removes it.
func New(prefix string) (string, error) {
	var errs []error
	for _, parent := range Parents() {
		if n := len(parent) + 1 + len(prefix) + randomLen; n > MaxLen {
			errs = append(errs, fmt.Errorf("%s/%s… would be %d bytes, more than %d", parent, prefix, n, MaxLen))
			continue
		}
		dir, err := os.MkdirTemp(parent, prefix)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		return dir, nil
	}
	return "", fmt.Errorf("create a directory for unix sockets: %w", errors.Join(errs...))
}

// Check returns an error when path is too long for a unix socket.
func Check(path string) error {
	if len(path) > SunPathMax {
		return fmt.Errorf("socket path %s is %d bytes, more than the %d a unix socket allows", path, len(path), SunPathMax)
	}
	return nil
}
