package testenv

import (
	"os"
	"os/exec"
	"syscall"

	"github.com/pgreconciler/pgreconciler/internal/testenv/runas"
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
	return s.cl.acct.Command(dir, deathSig, name, args...)
}

// WriteFile atomically replaces path with data, with mode, owned by the
// server's OS user.
func (s *Server) WriteFile(path string, data []byte, mode os.FileMode) error {
	return s.cl.acct.WriteFile(path, data, mode)
}

// Mkdir creates path with mode, owned by the server's OS user.
func (s *Server) Mkdir(path string, mode os.FileMode) error { return s.cl.acct.Mkdir(path, mode) }

// TLSFiles are the servers' certificate (signed by CACertFile's CA) and
// key, the key readable by the server's OS user only.
func (c *Cluster) TLSFiles() (cert, key string) { return c.certFile, c.keyFile }

// OSUser is the name of the OS user the servers run as.
func (c *Cluster) OSUser() string { return c.acct.Name }

// Process is a program a harness started (pgbouncer, sshd), watched for
// its exit.
type Process = runas.Process

// StartProcess starts cmd and watches it.
func StartProcess(cmd *exec.Cmd) (*Process, error) { return runas.Spawn(cmd) }
