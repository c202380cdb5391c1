package runas

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"
)

// DialUnix connects to the unix socket at path as the server account, so
// that peer authentication (Pigsty's "local all postgres ident") sees the
// postgres OS user, as it did psql run as that user: the kernel records
// the effective uid of the thread that calls connect(2). When the test
// runs as root, that one locked thread takes the account's uid and gid
// for the connect (raw setresuid/setresgid: Go's own change every thread)
// and takes root's back; a thread that cannot is left locked, so that the
// runtime retires it.
func (a Account) DialUnix(ctx context.Context, path string) (net.Conn, error) {
	if !a.Switched {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}
	runtime.LockOSThread()
	fd, err := a.connectAsAccount(path)
	if restoreErr := setEffectiveIDs(0, 0); restoreErr != nil {
		if fd >= 0 {
			syscall.Close(fd)
		}
		return nil, fmt.Errorf("connect to %s: take back root: %w", path, restoreErr) // the thread stays locked
	}
	runtime.UnlockOSThread()
	if err != nil {
		return nil, fmt.Errorf("connect to %s as %s: %w", path, a.Name, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	conn, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", path, err)
	}
	return conn, nil
}

// connectAsAccount makes the locked thread the account and connects; it
// returns -1 on failure.
func (a Account) connectAsAccount(path string) (int, error) {
	if err := setEffectiveIDs(a.UID, a.GID); err != nil {
		return -1, err
	}
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if err := syscall.Connect(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

// setEffectiveIDs sets the calling thread's effective gid and uid (real
// and saved ones unchanged: root can come back).
func setEffectiveIDs(uid, gid int) error {
	const keep = ^uintptr(0) // -1: unchanged
	if uid != 0 {            // going to the account: the gid first, while still root
		if _, _, e := syscall.RawSyscall(syscall.SYS_SETRESGID, keep, uintptr(gid), keep); e != 0 {
			return fmt.Errorf("setresgid: %w", e)
		}
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_SETRESUID, keep, uintptr(uid), keep); e != 0 {
		return fmt.Errorf("setresuid: %w", e)
	}
	if uid == 0 { // back to root: the gid after the uid
		if _, _, e := syscall.RawSyscall(syscall.SYS_SETRESGID, keep, uintptr(gid), keep); e != 0 {
			return fmt.Errorf("setresgid: %w", e)
		}
	}
	return nil
}
