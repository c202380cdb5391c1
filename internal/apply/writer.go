package apply

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// HBAWriter reads and replaces pg_hba.conf on an instance's host.
type HBAWriter interface {
	// Read returns the live file at path on the instance's host, with its
	// owner and mode.
	Read(ctx context.Context, in *model.Instance, path string) ([]byte, FileInfo, error)
	// Write atomically replaces path with content (temp file beside it,
	// same owner and mode, fsync, rename).
	Write(ctx context.Context, in *model.Instance, path string, content []byte, info FileInfo) error
}

// FileInfo is what Write keeps of the file it replaces.
type FileInfo struct {
	UID, GID int
	Mode     fs.FileMode // permission bits
	ModTime  time.Time
}

// NewLocalWriter returns the writer for a reconciler that runs on the
// instance's host: it reads and replaces the file directly. It refuses an
// instance whose IP is not an address of this host (loopback addresses
// count as local).
func NewLocalWriter() HBAWriter { return localWriter{} }

type localWriter struct{}

func (localWriter) Read(_ context.Context, in *model.Instance, path string) ([]byte, FileInfo, error) {
	if err := onThisHost(in); err != nil {
		return nil, FileInfo{}, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, FileInfo{}, fmt.Errorf("read %s of %s: %w", path, in.Name(), err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, FileInfo{}, fmt.Errorf("stat %s of %s: %w", path, in.Name(), err)
	}
	info := FileInfo{Mode: st.Mode().Perm(), ModTime: st.ModTime()}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		info.UID, info.GID = int(sys.Uid), int(sys.Gid)
	}
	return b, info, nil
}

func (localWriter) Write(_ context.Context, in *model.Instance, path string, content []byte, info FileInfo) (err error) {
	if err := onThisHost(in); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	RemoveStaleTemps(dir, "."+filepath.Base(path)+".pgreconciler-*", StaleTempAge)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".pgreconciler-*") // .pg_hba.conf.pgreconciler-…
	if err != nil {
		return fmt.Errorf("write %s of %s: %w", path, in.Name(), err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(content); err != nil {
		return fmt.Errorf("write %s of %s: %w", tmp, in.Name(), err)
	}
	if err := f.Chmod(info.Mode.Perm()); err != nil {
		return fmt.Errorf("chmod %s of %s: %w", tmp, in.Name(), err)
	}
	if os.Geteuid() != info.UID || os.Getegid() != info.GID {
		if err := f.Chown(info.UID, info.GID); err != nil {
			return fmt.Errorf("chown %s of %s to %d:%d: %w", tmp, in.Name(), info.UID, info.GID, err)
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s of %s: %w", tmp, in.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s of %s: %w", tmp, in.Name(), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s over %s of %s: %w", tmp, path, in.Name(), err)
	}
	if d, err := os.Open(dir); err == nil { // make the rename durable
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// StaleTempAge is the age from which a writer's temporary file is
// another writer's leftover (a reconciler killed while it wrote): a
// write never takes that long.
const StaleTempAge = time.Minute

// RemoveStaleTemps removes the files in dir matching pattern (a
// filepath.Match pattern of a writer's temporary files) that were last
// modified more than age ago. A kill during a write leaves its temporary
// file beside the target; the next write cleans it up. Errors are
// ignored: a leftover that cannot be removed harms nothing.
func RemoveStaleTemps(dir, pattern string, age time.Duration) {
	names, _ := filepath.Glob(filepath.Join(dir, pattern))
	for _, n := range names {
		if st, err := os.Lstat(n); err == nil && st.Mode().IsRegular() && time.Since(st.ModTime()) > age {
			_ = os.Remove(n)
		}
	}
}

// onThisHost refuses an instance whose IP is not an address of this host.
func onThisHost(in *model.Instance) error {
	ip := net.ParseIP(in.IP)
	if ip == nil {
		return fmt.Errorf("local HBA writer: instance %s has no IP address (%q)", in.Name(), in.IP)
	}
	if ip.IsLoopback() {
		return nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return fmt.Errorf("local HBA writer: list this host's addresses: %w", err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return nil
		}
	}
	return errors.New("local HBA writer: instance " + in.Name() + " (" + in.IP + ") is not on this host; use the SSH writer")
}
