//go:build unix

package preflight

import (
	"io/fs"
	"syscall"
)

// fileOwner returns the uid owning a file.
func fileOwner(st fs.FileInfo) (int, bool) {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(s.Uid), true
}
