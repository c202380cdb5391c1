package patronienv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/testenv/runas"
)

// etcd is the cluster's single-node etcd (Debian's etcd-server, API v3),
// Patroni's DCS. It listens on 127.0.0.1 only, without TLS or auth: Pigsty's
// etcd uses both, but they protect the DCS, which the reconciler never
// talks to.
type etcd struct {
	ClientPort, PeerPort int
	dir, log             string
	proc                 *runas.Process
}

func (e *etcd) hostPort() string { return net.JoinHostPort(AdminIP, strconv.Itoa(e.ClientPort)) }

func (e *etcd) url(port int) string { return "http://" + net.JoinHostPort(AdminIP, strconv.Itoa(port)) }

// startEtcd starts etcd in dir and waits until it answers /health.
func (c *Cluster) startEtcd(ctx context.Context) error {
	bin, err := exec.LookPath("etcd")
	if err != nil {
		return fmt.Errorf("find etcd (run scripts/install-deps.sh): %w", err)
	}
	e := c.etcd
	e.dir = filepath.Join(c.baseDir, "etcd")
	e.log = filepath.Join(c.baseDir, "etcd.log")
	if err := c.acct.Mkdir(e.dir, 0o700); err != nil {
		return fmt.Errorf("prepare etcd: %w", err)
	}
	args := []string{
		"--name", "etcd-1",
		"--data-dir", filepath.Join(e.dir, "data"),
		"--listen-client-urls", e.url(e.ClientPort),
		"--advertise-client-urls", e.url(e.ClientPort),
		"--listen-peer-urls", e.url(e.PeerPort),
		"--initial-advertise-peer-urls", e.url(e.PeerPort),
		"--initial-cluster", "etcd-1=" + e.url(e.PeerPort),
		"--initial-cluster-state", "new",
		"--initial-cluster-token", c.Name,
		"--logger", "zap", "--log-level", "warn",
	}
	p, err := c.spawn(e.dir, e.log, syscall.SIGKILL, bin, args...)
	if err != nil {
		return fmt.Errorf("start etcd: %w", err)
	}
	e.proc = p
	hc := &http.Client{Timeout: time.Second}
	for {
		resp, err := hc.Get(e.url(e.ClientPort) + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.Done():
			return fmt.Errorf("start etcd: exited during startup\n%s", tail(e.log, 0))
		case <-ctx.Done():
			return fmt.Errorf("start etcd: wait for /health: %w\n%s", ctx.Err(), tail(e.log, 0))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stopEtcd stops etcd (SIGTERM, then SIGKILL).
func (c *Cluster) stopEtcd() error {
	if c.etcd.proc == nil {
		return nil
	}
	if err := stop(c.etcd.proc, syscall.SIGTERM, 10*time.Second); err != nil {
		return fmt.Errorf("stop etcd: %w", err)
	}
	return nil
}

// spawn starts a program as the account in dir, its stdout and stderr
// appended to logFile, in its own process group with deathSig sent when the
// test binary dies.
func (c *Cluster) spawn(dir, logFile string, deathSig syscall.Signal, name string, args ...string) (*runas.Process, error) {
	logf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	defer logf.Close()
	cmd := c.acct.Command(dir, deathSig, name, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	return runas.Spawn(cmd)
}

// stop sends sig to p, waits up to wait, then kills it.
func stop(p *runas.Process, sig syscall.Signal, wait time.Duration) error {
	if !p.Running() {
		return nil
	}
	_ = syscall.Kill(p.PID, sig)
	select {
	case <-p.Done():
		return nil
	case <-time.After(wait):
	}
	_ = syscall.Kill(p.PID, syscall.SIGKILL)
	select {
	case <-p.Done():
		return fmt.Errorf("process %d ignored signal %d for %s and was killed", p.PID, sig, wait)
	case <-time.After(10 * time.Second):
		return errors.New("process " + strconv.Itoa(p.PID) + " survived SIGKILL")
	}
}
