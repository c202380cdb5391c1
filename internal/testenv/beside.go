package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// What harnesses of programs that run beside a server (PgBouncer) need:
// the server's OS account, its instance directory and its TLS files.

// Dir is the server's instance directory, which holds DataDir, SocketDir
// and LogFile; Cluster.Close removes it, and kills any process still
// working in it.
func (s *Server) Dir() string { return s.dir }

// Command prepares a program to run as the server's OS user (postgres
// when the test runs as root), in dir, in its own process group, with the
// harness's clean environment; deathSig, if non-zero, is sent to it when
// the test binary dies.
func (s *Server) Command(dir string, deathSig syscall.Signal, name string, args ...string) *exec.Cmd {
	return s.cl.acct.command(dir, deathSig, name, args...)
}

// WriteFile atomically replaces path with data, with mode, owned by the
// server's OS user.
func (s *Server) WriteFile(path string, data []byte, mode os.FileMode) error {
	return s.cl.acct.writeFile(path, data, mode)
}

// Mkdir creates path with mode, owned by the server's OS user.
func (s *Server) Mkdir(path string, mode os.FileMode) error { return s.cl.acct.mkdir(path, mode) }

// TLSFiles are the cluster's certificate (also its CA: it is self-signed)
// and key, the key readable by the server's OS user only.
func (c *Cluster) TLSFiles() (cert, key string) { return c.certFile, c.keyFile }

// OSUser is the name of the OS user the servers run as.
func (c *Cluster) OSUser() string { return c.acct.name }

// Process is a program a harness started (pgbouncer, sshd), watched for
// its exit.
type Process struct {
	Pid  int
	done chan struct{}
}

// StartProcess starts cmd and watches it.
func StartProcess(cmd *exec.Cmd) (*Process, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{Pid: cmd.Process.Pid, done: make(chan struct{})}
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
		_ = syscall.Kill(p.Pid, sig)
		select {
		case <-p.done:
			return nil
		case <-time.After(wait):
		}
	}
	return fmt.Errorf("process %d survived SIGKILL", p.Pid)
}
