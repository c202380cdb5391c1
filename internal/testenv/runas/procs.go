package runas

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ProcessesIn returns the PIDs of processes whose working directory is dir
// or below it. PostgreSQL backends chdir to their data directory and call
// setsid, so this is how the harness finds the children of a postmaster that
// is already gone.
func ProcessesIn(dir string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	dir = filepath.Clean(dir)
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err != nil {
			continue
		}
		if cwd == dir || strings.HasPrefix(cwd, dir+"/") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Alive reports whether a process with this PID exists.
func Alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// WaitNoProcessesIn waits until no process works in dir, sending SIGKILL to
// the stragglers if kill is set; it gives up after timeout.
func WaitNoProcessesIn(dir string, kill bool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		pids := ProcessesIn(dir)
		if len(pids) == 0 {
			return nil
		}
		if kill {
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wait for processes %v in %s to exit: still running", pids, dir)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Process is a program started with Spawn.
type Process struct {
	PID  int
	done chan struct{}
}

// Spawn starts cmd and reaps it when it exits.
func Spawn(cmd *exec.Cmd) (*Process, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{PID: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Running reports whether the process has not exited yet.
func (p *Process) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Stop sends each signal in turn, waiting up to wait after each, until the
// process has exited (SIGKILL is always the last resort).
func (p *Process) Stop(wait time.Duration, sigs ...syscall.Signal) error {
	for _, sig := range append(sigs, syscall.SIGKILL) {
		_ = syscall.Kill(p.PID, sig)
		select {
		case <-p.done:
			return nil
		case <-time.After(wait):
		}
	}
	return fmt.Errorf("process %d survived SIGKILL", p.PID)
}
