package sshd

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// ErrNotRoot is returned by StartServer when the test does not run as root.
var ErrNotRoot = errors.New("sshd needs root to log keys in as another user")

// Debian's paths (package openssh-server).
const (
	sshdPath   = "/usr/sbin/sshd"
	sftpServer = "/usr/lib/openssh/sftp-server"
	privsepDir = "/run/sshd"
)

// startTimeout bounds the wait for a broken sshd; nothing asserts on it.
const startTimeout = 60 * time.Second

// Options describe the server. The zero value is a usable default.
type Options struct {
	User         string   // the user the client key logs in as, default "postgres"
	AllowUsers   []string // sshd's AllowUsers, default []string{User}
	HostKeyTypes []string // ssh-keygen -t values, default ed25519 and ecdsa
}

func (o Options) withDefaults() Options {
	if o.User == "" {
		o.User = "postgres"
	}
	if len(o.AllowUsers) == 0 {
		o.AllowUsers = []string{o.User}
	}
	if len(o.HostKeyTypes) == 0 {
		o.HostKeyTypes = []string{"ed25519", "ecdsa"}
	}
	return o
}

// Server is a running sshd on 127.0.0.1.
type Server struct {
	Addr          string // "127.0.0.1:port"
	Port          int
	User          string // the login user of ClientKeyFile
	ClientKeyFile string // OpenSSH private key (ed25519, 0600) in authorized_keys
	// KnownHostsFile pins only the ed25519 host key (the first host key
	// type when ed25519 is not among them); KnownHostsAllFile pins every
	// host key. Both keep the original keys after RotateHostKeys.
	KnownHostsFile    string
	KnownHostsAllFile string
	HostKeyFiles      map[string]string // host key type → private key file
	LogFile           string            // sshd's output (-e: its log goes to stderr)

	dir      string
	cfg      string
	keyTypes []string

	mu   sync.Mutex
	proc *testenv.Process // nil when stopped
}

// Start starts a server for one test and stops it when the test ends. It
// skips the test when not running as root and fails it on any other error.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := StartServer(opts)
	if errors.Is(err, ErrNotRoot) {
		t.Skipf("skipping: %v (run the tests as root)", err)
	}
	if err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			if log, err := os.ReadFile(s.LogFile); err == nil {
				t.Logf("sshd log:\n%s", log)
			}
		}
		if err := s.Close(); err != nil {
			t.Errorf("close sshd: %v", err)
		}
	})
	return s
}

// StartServer starts a server; call Close when done.
func StartServer(opts Options) (*Server, error) {
	opts = opts.withDefaults()
	if os.Geteuid() != 0 {
		return nil, ErrNotRoot
	}
	for _, p := range []string{sshdPath, "ssh-keygen"} {
		if _, err := exec.LookPath(p); err != nil {
			return nil, fmt.Errorf("find %s: %w (run scripts/install-deps.sh)", p, err)
		}
	}
	if err := os.MkdirAll(privsepDir, 0o755); err != nil {
		return nil, fmt.Errorf("create privilege separation directory: %w", err)
	}
	dir, err := os.MkdirTemp("", "pgreconciler-sshd-")
	if err != nil {
		return nil, fmt.Errorf("create sshd directory: %w", err)
	}
	s := &Server{User: opts.User, dir: dir, keyTypes: opts.HostKeyTypes, LogFile: filepath.Join(dir, "sshd.log")}
	if err := s.setup(opts); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// setup writes keys and configuration, then starts sshd on a free port,
// drawing a new port if another process took it meanwhile.
func (s *Server) setup(opts Options) error {
	// sshd reads authorized_keys as the login user: it must reach it.
	if err := os.Chmod(s.dir, 0o755); err != nil {
		return fmt.Errorf("chmod sshd directory: %w", err)
	}
	hostKeys, err := generateHostKeys(s.dir, s.keyTypes)
	if err != nil {
		return err
	}
	s.HostKeyFiles = hostKeys
	s.ClientKeyFile = filepath.Join(s.dir, "client_ed25519")
	authorized, err := writeClientKey(s.ClientKeyFile)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(s.dir, "authorized_keys"), authorized, 0o644); err != nil {
		return fmt.Errorf("write authorized_keys: %w", err)
	}
	for attempt := 1; ; attempt++ {
		port, err := testenv.FreePort("127.0.0.1")
		if err != nil {
			return err
		}
		s.Port, s.Addr = port, net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err := s.writeConfig(opts.AllowUsers); err != nil {
			return err
		}
		err = s.start()
		if err == nil {
			break
		}
		if attempt == 3 || !strings.Contains(err.Error(), "Address already in use") {
			return err
		}
	}
	pinned := s.HostKeyFiles["ed25519"]
	if pinned == "" {
		pinned = s.HostKeyFiles[s.keyTypes[0]]
	}
	var all []string
	for _, typ := range s.keyTypes {
		all = append(all, s.HostKeyFiles[typ])
	}
	s.KnownHostsFile = filepath.Join(s.dir, "known_hosts")
	s.KnownHostsAllFile = filepath.Join(s.dir, "known_hosts_all")
	if err := writeKnownHosts(s.KnownHostsFile, s.Addr, []string{pinned}); err != nil {
		return err
	}
	return writeKnownHosts(s.KnownHostsAllFile, s.Addr, all)
}

func (s *Server) writeConfig(allowUsers []string) error {
	subsystem := sftpServer
	if _, err := os.Stat(sftpServer); err != nil {
		subsystem = "internal-sftp"
	}
	lines := []string{
		"Port " + strconv.Itoa(s.Port),
		"ListenAddress 127.0.0.1",
		"PidFile " + filepath.Join(s.dir, "sshd.pid"),
		"AuthorizedKeysFile " + filepath.Join(s.dir, "authorized_keys"),
		"StrictModes no", // the temp directory's parent is world-writable
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"UsePAM yes", // Debian locks postgres; without PAM sshd refuses it
		"AllowUsers " + strings.Join(allowUsers, " "),
		"Subsystem sftp " + subsystem,
		"PrintMotd no",
		"LogLevel VERBOSE",
		"MaxStartups 64",
	}
	for _, typ := range s.keyTypes {
		lines = append(lines, "HostKey "+s.HostKeyFiles[typ])
	}
	s.cfg = filepath.Join(s.dir, "sshd_config")
	if err := os.WriteFile(s.cfg, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return fmt.Errorf("write sshd_config: %w", err)
	}
	if out, err := exec.Command(sshdPath, "-t", "-f", s.cfg).CombinedOutput(); err != nil {
		return fmt.Errorf("check sshd_config: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// start runs sshd in the foreground as a child in its own process group
// (SIGTERM if the test binary dies) and waits until it sends its banner.
func (s *Server) start() error {
	logf, err := os.OpenFile(s.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open sshd log: %w", err)
	}
	defer logf.Close()
	offset, _ := logf.Seek(0, 2)
	cmd := exec.Command(sshdPath, "-D", "-e", "-f", s.cfg)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	p, err := testenv.StartProcess(cmd)
	if err != nil {
		return fmt.Errorf("start sshd: %w", err)
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	if err := s.waitBanner(p.Done()); err != nil {
		_ = s.stop()
		log, _ := os.ReadFile(s.LogFile)
		return fmt.Errorf("start sshd: %w\n%s", err, log[min(int(offset), len(log)):])
	}
	return nil
}

// waitBanner waits until a TCP connection gets the SSH identification line.
func (s *Server) waitBanner(done <-chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	for {
		if bannerReceived(s.Addr) {
			return nil
		}
		select {
		case <-done:
			return errors.New("sshd exited during startup")
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wait for the SSH banner on %s: none after %s", s.Addr, startTimeout)
		}
	}
}

func bannerReceived(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "SSH-2.0-")
}

// stop sends SIGTERM to the listening sshd (SIGKILL if it lingers) and
// waits for it. Sessions already open live on in their own processes until
// their clients disconnect.
func (s *Server) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return nil
	}
	p := s.proc
	s.proc = nil
	if err := p.Stop(startTimeout, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop sshd: %w", err)
	}
	return nil
}

// RotateHostKeys replaces every host key with a new one and restarts sshd
// on the same port. The known_hosts files keep the old keys, so clients
// using them must now refuse the server.
func (s *Server) RotateHostKeys() error {
	if err := s.stop(); err != nil {
		return err
	}
	keys, err := generateHostKeys(s.dir, s.keyTypes)
	if err != nil {
		return err
	}
	s.HostKeyFiles = keys
	if err := s.start(); err != nil {
		return fmt.Errorf("restart sshd with new host keys: %w", err)
	}
	return nil
}

// Close stops sshd and removes its directory. It is safe to call twice.
func (s *Server) Close() error {
	err := s.stop()
	if rmErr := os.RemoveAll(s.dir); rmErr != nil {
		err = errors.Join(err, fmt.Errorf("remove sshd directory: %w", rmErr))
	}
	return err
}
