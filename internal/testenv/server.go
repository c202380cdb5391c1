package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/testenv/runas"
)

// Generous limits: they only bound how long a broken server is waited for
// on a busy machine, nothing is asserted about them.
const (
	startTimeout = 90 * time.Second
	stopTimeout  = 60 * time.Second
)

// Server is one PostgreSQL instance of a Cluster, run as a child process of
// the test binary. Its methods are safe for concurrent use.
type Server struct {
	Cluster   string // cluster name
	Seq       int    // 1 for the primary, 2, 3 … for the replicas
	Addr      string // the loopback address it listens on, e.g. 127.0.0.2
	Port      int    // shared by every server of the cluster
	DataDir   string
	SocketDir string // unix_socket_directories, outside the data directory
	LogFile   string // the server's stderr: every statement is logged here
	Primary   bool   // false for replicas (also after a test promoted one)

	cl  *Cluster
	dir string // the instance directory holding DataDir, SocketDir and LogFile

	mu   sync.Mutex
	proc *runas.Process // the postmaster; nil when stopped

	pristine map[string][]byte // configuration files as set up, restored by Reset
}

// Name is the Pigsty instance name, "<cluster>-<seq>".
func (s *Server) Name() string { return fmt.Sprintf("%s-%d", s.Cluster, s.Seq) }

// HBAPath is the path of the server's pg_hba.conf.
func (s *Server) HBAPath() string { return filepath.Join(s.DataDir, "pg_hba.conf") }

// Log returns the server log so far, across restarts.
func (s *Server) Log() (string, error) {
	b, err := os.ReadFile(s.LogFile)
	if err != nil {
		return "", fmt.Errorf("read server log: %w", err)
	}
	return string(b), nil
}

// PID returns the postmaster's process ID, or 0 when the server is stopped.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil || !s.proc.Running() {
		return 0
	}
	return s.proc.PID
}

// Start starts the stopped server and waits until it accepts connections
// (a replica: until it is a hot standby). After Kill it first waits for the
// old backends to exit.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil && s.proc.Running() {
		return fmt.Errorf("start %s: already running", s.Name())
	}
	if err := runas.WaitNoProcessesIn(s.DataDir, false, stopTimeout); err != nil {
		return fmt.Errorf("start %s: %w", s.Name(), err)
	}
	logf, err := os.OpenFile(s.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start %s: open log: %w", s.Name(), err)
	}
	defer logf.Close()
	offset, _ := logf.Seek(0, 2)
	// SIGQUIT (immediate shutdown) if the test binary dies.
	args := append([]string{"-D", s.DataDir}, s.cl.args...)
	cmd := s.cl.acct.Command(s.dir, syscall.SIGQUIT, filepath.Join(s.cl.binDir, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	p, err := runas.Spawn(cmd)
	if err != nil {
		return fmt.Errorf("start %s: %w", s.Name(), err)
	}
	s.proc = p
	if err := s.waitReady(p); err != nil {
		_ = s.stopLocked(syscall.SIGQUIT)
		return fmt.Errorf("start %s: %w\n%s", s.Name(), err, s.logSince(offset))
	}
	return nil
}

// waitReady polls postmaster.pid until the postmaster reports "ready" or
// "standby" (what pg_ctl -w waits for), or exits.
func (s *Server) waitReady(p *runas.Process) error {
	deadline := time.After(startTimeout)
	pidFile := filepath.Join(s.DataDir, "postmaster.pid")
	for {
		if b, err := os.ReadFile(pidFile); err == nil {
			lines := strings.Split(string(b), "\n")
			if len(lines) > 7 && strings.TrimSpace(lines[0]) == strconv.Itoa(p.PID) {
				switch strings.TrimSpace(lines[7]) {
				case "ready", "standby":
					return nil
				}
			}
		}
		select {
		case <-p.Done():
			return errors.New("postmaster exited during startup")
		case <-deadline:
			return fmt.Errorf("wait for startup: not ready after %s", startTimeout)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// logSince returns at most the last 40 lines of the log written after
// offset, to explain startup errors.
func (s *Server) logSince(offset int64) string {
	b, err := os.ReadFile(s.LogFile)
	if err != nil || int64(len(b)) < offset {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b[offset:]), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-40):], "\n")
}

// Stop shuts the server down (fast mode, falling back to immediate and
// SIGKILL) and waits until all its processes are gone. Stopping a stopped
// server does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked(syscall.SIGINT)
}

// stopLocked sends sig (SIGINT: fast, SIGQUIT: immediate shutdown) and
// escalates until the postmaster and its backends are gone.
func (s *Server) stopLocked(sig syscall.Signal) error {
	p := s.proc
	s.proc = nil
	if p != nil && p.Running() {
	escalate:
		for _, step := range []struct {
			sig  syscall.Signal
			wait time.Duration
		}{{sig, stopTimeout}, {syscall.SIGQUIT, 10 * time.Second}, {syscall.SIGKILL, stopTimeout}} {
			_ = syscall.Kill(p.PID, step.sig)
			select {
			case <-p.Done():
				break escalate
			case <-time.After(step.wait):
			}
		}
		if p.Running() {
			return fmt.Errorf("stop %s: postmaster %d survived SIGKILL", s.Name(), p.PID)
		}
	}
	if err := runas.WaitNoProcessesIn(s.DataDir, false, stopTimeout); err != nil {
		if err := runas.WaitNoProcessesIn(s.DataDir, true, 10*time.Second); err != nil {
			return fmt.Errorf("stop %s: %w", s.Name(), err)
		}
	}
	return nil
}

// Kill sends SIGKILL to the postmaster only, like a crash; its backends
// notice and exit on their own. Start afterwards runs crash recovery.
func (s *Server) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.proc
	if p == nil || !p.Running() {
		return fmt.Errorf("kill %s: not running", s.Name())
	}
	if err := syscall.Kill(p.PID, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill %s: %w", s.Name(), err)
	}
	<-p.Done()
	s.proc = nil
	return nil
}

// Reload sends SIGHUP to the postmaster and waits until new sessions see
// the reloaded configuration (pg_conf_load_time moved), so a connection
// made after Reload uses the new pg_hba.conf.
func (s *Server) Reload() error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	return s.reload(ctx)
}

func (s *Server) reload(ctx context.Context) error {
	before, _ := s.confLoadTime(ctx) // zero when the live HBA shuts us out
	pid := s.PID()
	if pid == 0 {
		return fmt.Errorf("reload %s: not running", s.Name())
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return fmt.Errorf("reload %s: %w", s.Name(), err)
	}
	for {
		t, err := s.confLoadTime(ctx)
		if err == nil && t.After(before) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("reload %s: wait for new configuration: %w (last error: %v)", s.Name(), ctx.Err(), err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (s *Server) confLoadTime(ctx context.Context) (time.Time, error) {
	conn, err := s.admin(ctx, "postgres", true)
	if err != nil {
		return time.Time{}, err
	}
	defer conn.Close(context.Background())
	var t time.Time
	err = conn.QueryRow(ctx, "SELECT pg_conf_load_time()").Scan(&t)
	return t, err
}
