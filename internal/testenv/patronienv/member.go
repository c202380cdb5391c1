package patronienv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/pgreconciler/pgreconciler/internal/testenv/runas"
)

// Member is one Patroni member: a Patroni daemon, child of the test binary,
// and the PostgreSQL it manages. Its methods are safe for concurrent use.
type Member struct {
	Cluster    string // cluster name (Patroni scope)
	Seq        int    // pg_seq: 1, 2, 3 …
	Addr       string // the loopback address PostgreSQL and the REST API listen on
	Port       int    // PostgreSQL's port
	APIPort    int    // the REST API's port
	DataDir    string
	SocketDir  string // unix_socket_directories, outside the data directory
	LogFile    string // Patroni's and PostgreSQL's stderr: every statement is logged here
	ConfigFile string // the member's patroni.yml

	cl  *Cluster
	dir string // the member directory holding everything above

	mu   sync.Mutex
	proc *runas.Process // the Patroni daemon; nil when stopped
}

// Name is Pigsty's pg_instance and Patroni's member name, "<cluster>-<seq>".
func (m *Member) Name() string { return fmt.Sprintf("%s-%d", m.Cluster, m.Seq) }

// APIURL is the base URL of the member's REST API, https when the cluster
// has SSL.
func (m *Member) APIURL() string {
	scheme := "http"
	if m.cl.opts.SSL {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(m.Addr, strconv.Itoa(m.APIPort))
}

// HBAPath is the path of the member's pg_hba.conf.
func (m *Member) HBAPath() string { return filepath.Join(m.DataDir, "pg_hba.conf") }

// Log returns the member's log so far, across restarts.
func (m *Member) Log() (string, error) {
	b, err := os.ReadFile(m.LogFile)
	if err != nil {
		return "", fmt.Errorf("read log of %s: %w", m.Name(), err)
	}
	return string(b), nil
}

// startMember writes m's patroni.yml and starts Patroni, which bootstraps
// the cluster (the first member) or clones the leader; it waits until
// PostgreSQL runs.
func (c *Cluster) startMember(ctx context.Context, m *Member) error {
	for _, d := range []string{m.dir, m.SocketDir} {
		if err := c.acct.Mkdir(d, 0o700); err != nil {
			return fmt.Errorf("prepare %s: %w", m.Name(), err)
		}
	}
	cfg, err := c.config(m)
	if err != nil {
		return err
	}
	if err := c.acct.WriteFile(m.ConfigFile, cfg, 0o600); err != nil {
		return fmt.Errorf("write patroni.yml of %s: %w", m.Name(), err)
	}
	return m.start(ctx)
}

// StartPatroni starts the member's stopped Patroni and waits until its
// PostgreSQL runs (Patroni starts it, or adopts the one still running).
func (m *Member) StartPatroni(ctx context.Context) error { return m.start(ctx) }

func (m *Member) start(ctx context.Context) error {
	m.mu.Lock()
	if m.proc != nil && m.proc.Running() {
		m.mu.Unlock()
		return fmt.Errorf("start Patroni of %s: already running", m.Name())
	}
	offset := fileSize(m.LogFile)
	bin, err := exec.LookPath("patroni")
	if err != nil {
		m.mu.Unlock()
		return fmt.Errorf("start Patroni of %s: %w", m.Name(), err)
	}
	// SIGTERM when the test binary dies: Patroni stops PostgreSQL and exits.
	p, err := m.cl.spawn(m.dir, m.LogFile, syscall.SIGTERM, bin, m.ConfigFile)
	if err != nil {
		m.mu.Unlock()
		return fmt.Errorf("start Patroni of %s: %w", m.Name(), err)
	}
	m.proc = p
	m.mu.Unlock()
	if err := m.cl.waitRunning(ctx, m, p); err != nil {
		return fmt.Errorf("start Patroni of %s: %w\n%s", m.Name(), err, tail(m.LogFile, offset))
	}
	return nil
}

// StopPatroni stops the member's Patroni the way systemctl stop does
// (SIGTERM): Patroni shuts PostgreSQL down and, on the leader, releases the
// leader key, so another member takes over. Stopping a stopped member does
// nothing.
func (m *Member) StopPatroni() error {
	m.mu.Lock()
	p := m.proc
	m.proc = nil
	m.mu.Unlock()
	if p == nil {
		return nil
	}
	if err := stop(p, syscall.SIGTERM, stopTimeout); err != nil {
		return fmt.Errorf("stop Patroni of %s: %w", m.Name(), err)
	}
	if err := runas.WaitNoProcessesIn(m.DataDir, false, stopTimeout); err != nil {
		return fmt.Errorf("stop Patroni of %s: %w", m.Name(), err)
	}
	return nil
}

// KillPatroni kills the member's Patroni with SIGKILL, like a crash of the
// daemon; PostgreSQL keeps running unmanaged. A killed leader keeps the
// leader key until its ttl (20 s) expires.
func (m *Member) KillPatroni() error {
	m.mu.Lock()
	p := m.proc
	m.proc = nil
	m.mu.Unlock()
	if p == nil || !p.Running() {
		return fmt.Errorf("kill Patroni of %s: not running", m.Name())
	}
	if err := syscall.Kill(p.PID, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill Patroni of %s: %w", m.Name(), err)
	}
	<-p.Done()
	return nil
}

// PatroniRunning reports whether the member's Patroni daemon runs.
func (m *Member) PatroniRunning() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.proc != nil && m.proc.Running()
}

// PostmasterPID returns the PID in postmaster.pid when that process runs,
// else 0.
func (m *Member) PostmasterPID() int {
	b, err := os.ReadFile(filepath.Join(m.DataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 || syscall.Kill(pid, 0) != nil {
		return 0
	}
	return pid
}

// KillPostmaster sends SIGKILL to the member's postmaster, like a crash of
// PostgreSQL; Patroni notices within a loop. On the leader that is a
// failover: the DCS has primary_start_timeout 0, so Patroni gives up the
// leader key instead of restarting the crashed primary in place.
func (m *Member) KillPostmaster() error {
	pid := m.PostmasterPID()
	if pid == 0 {
		return fmt.Errorf("kill postmaster of %s: not running", m.Name())
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill postmaster of %s: %w", m.Name(), err)
	}
	return nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
