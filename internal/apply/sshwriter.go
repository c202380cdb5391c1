package apply

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// SSHConfig configures the SSH writer.
type SSHConfig struct {
	User           string        // login user: postgres (the file's owner) or root
	KeyFile        string        // private key (OpenSSH or PEM, no passphrase)
	KnownHostsFile string        // pins the hosts' keys; hosts not in it are refused
	Port           int           // default 22
	Timeout        time.Duration // per connection and per command; default 30 s

	// Addr, when set, returns the host:port to dial for an instance
	// instead of its IP and Port (a bastion's forward, a test's sshd). The
	// known_hosts entry must be for that address.
	Addr func(*model.Instance) string
}

// NewSSHWriter returns a writer that reaches each instance's host over SSH
// with golang.org/x/crypto/ssh. Host keys are pinned: only hosts with a
// key in KnownHostsFile are contacted, with the host key algorithms of the
// pinned keys (so a server that offers another key type first is not
// mistaken for a changed key); a host whose key changed is refused before
// anything is written. Each command runs in its own session; the write is
// mktemp beside the file, cat, chmod/chown to the old mode and owner,
// sync, a sha256 check, then mv over the file and a second sha256 check.
func NewSSHWriter(cfg SSHConfig) (HBAWriter, error) {
	if cfg.User == "" || cfg.KeyFile == "" || cfg.KnownHostsFile == "" {
		return nil, errors.New("ssh writer: user, key file and known_hosts file are required")
	}
	if cfg.Port == 0 {
		cfg.Port = 22
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	pem, err := os.ReadFile(cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("ssh writer: read key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		return nil, fmt.Errorf("ssh writer: parse key %s: %w", cfg.KeyFile, err)
	}
	db, err := knownhosts.NewDB(cfg.KnownHostsFile)
	if err != nil {
		return nil, fmt.Errorf("ssh writer: read known_hosts: %w", err)
	}
	return &sshWriter{cfg: cfg, signer: signer, hosts: db}, nil
}

type sshWriter struct {
	cfg    SSHConfig
	signer ssh.Signer
	hosts  *knownhosts.HostKeyDB
}

func (w *sshWriter) addr(in *model.Instance) string {
	if w.cfg.Addr != nil {
		return w.cfg.Addr(in)
	}
	return net.JoinHostPort(in.IP, strconv.Itoa(w.cfg.Port))
}

// dial connects and authenticates, refusing unknown hosts and changed keys.
func (w *sshWriter) dial(ctx context.Context, in *model.Instance) (*ssh.Client, error) {
	addr := w.addr(in)
	algos := w.hosts.HostKeyAlgorithms(addr)
	if len(algos) == 0 {
		return nil, fmt.Errorf("ssh to %s (%s): host is not in %s: refusing to connect (no trust on first use)",
			in.Name(), addr, w.cfg.KnownHostsFile)
	}
	cfg := &ssh.ClientConfig{
		User:              w.cfg.User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(w.signer)},
		HostKeyCallback:   w.hosts.HostKeyCallback(),
		HostKeyAlgorithms: algos,
		Timeout:           w.cfg.Timeout,
	}
	d := net.Dialer{Timeout: w.cfg.Timeout, KeepAlive: 15 * time.Second}
	tcp, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ssh to %s (%s): %w", in.Name(), addr, err)
	}
	_ = tcp.SetDeadline(time.Now().Add(w.cfg.Timeout))
	c, chans, reqs, err := ssh.NewClientConn(tcp, addr, cfg)
	if err != nil {
		tcp.Close()
		switch {
		case knownhosts.IsHostKeyChanged(err):
			return nil, fmt.Errorf("ssh to %s (%s): host key changed: the key offered is not the one pinned in %s; refusing to connect (possible man-in-the-middle; update known_hosts only if the change is legitimate): %w",
				in.Name(), addr, w.cfg.KnownHostsFile, err)
		case knownhosts.IsHostUnknown(err):
			return nil, fmt.Errorf("ssh to %s (%s): host is not in %s: refusing to connect: %w", in.Name(), addr, w.cfg.KnownHostsFile, err)
		}
		return nil, fmt.Errorf("ssh to %s (%s): %w", in.Name(), addr, err)
	}
	_ = tcp.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

// run executes one command in its own session, feeding stdin, and returns
// its standard output. A non-zero exit carries stderr in the error.
func (w *sshWriter) run(ctx context.Context, client *ssh.Client, cmd string, stdin []byte) ([]byte, error) {
	s, err := client.NewSession()
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var stdout, stderr bytes.Buffer
	s.Stdout, s.Stderr = &stdout, &stderr
	if stdin != nil {
		s.Stdin = bytes.NewReader(stdin)
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(cmd) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		client.Close() // unblocks Run
		<-done
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

func (w *sshWriter) Read(ctx context.Context, in *model.Instance, path string) ([]byte, FileInfo, error) {
	client, err := w.dial(ctx, in)
	if err != nil {
		return nil, FileInfo{}, err
	}
	defer client.Close()
	p := shellQuote(path)
	out, err := w.run(ctx, client, "set -e; stat -L -c '%u %g %a %.9Y' -- "+p+"; cat -- "+p, nil)
	if err != nil {
		return nil, FileInfo{}, fmt.Errorf("read %s on %s: %w", path, in.Name(), err)
	}
	head, body, ok := bytes.Cut(out, []byte("\n"))
	info, perr := parseStat(string(head))
	if !ok || perr != nil {
		return nil, FileInfo{}, fmt.Errorf("read %s on %s: unexpected stat output %q", path, in.Name(), head)
	}
	return body, info, nil
}

// parseStat reads "uid gid octal-mode seconds.nanoseconds".
func parseStat(s string) (FileInfo, error) {
	f := strings.Fields(s)
	if len(f) != 4 {
		return FileInfo{}, errors.New("want 4 fields")
	}
	uid, err1 := strconv.Atoi(f[0])
	gid, err2 := strconv.Atoi(f[1])
	mode, err3 := strconv.ParseUint(f[2], 8, 32)
	sec, nsec, _ := strings.Cut(f[3], ".")
	secs, err4 := strconv.ParseInt(sec, 10, 64)
	nsecs, _ := strconv.ParseInt(nsec, 10, 64)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return FileInfo{}, err
	}
	return FileInfo{UID: uid, GID: gid, Mode: fs.FileMode(mode).Perm(), ModTime: time.Unix(secs, nsecs)}, nil
}

func (w *sshWriter) Write(ctx context.Context, in *model.Instance, path string, content []byte, info FileInfo) error {
	client, err := w.dial(ctx, in)
	if err != nil {
		return err
	}
	defer client.Close()
	sum := sha256.Sum256(content)
	want := hex.EncodeToString(sum[:])
	out, err := w.run(ctx, client, writeScript(path, want, info), content)
	if err != nil {
		return fmt.Errorf("write %s on %s: %w", path, in.Name(), err)
	}
	if got, _, _ := strings.Cut(strings.TrimSpace(string(out)), " "); got != want {
		return fmt.Errorf("write %s on %s: the file's sha256 is %q after the rename, want %s", path, in.Name(), got, want)
	}
	return nil
}

// writeScript replaces path atomically with stdin: a temp file in the same
// directory (same file system, so mv is rename(2)), the old mode and owner
// (chown only when logged in as root; any other user must be the owner),
// fsync, a checksum before the rename, the directory synced after it.
// The temp file is removed on any failure; the live file is then untouched.
// Temp files older than a minute, which a writer killed mid-write left, are
// removed first.
func writeScript(path, sha string, info FileInfo) string {
	return fmt.Sprintf(`set -e
p=%s
u=$(id -u)
if [ "$u" != 0 ] && [ "$u" != %d ]; then echo "logged in as uid $u: neither root nor the owner (uid %d) of $p" >&2; exit 3; fi
find "$(dirname -- "$p")" -maxdepth 1 -type f -name ".$(basename -- "$p").pgreconciler-??????" -mmin +1 -exec rm -f -- {} + 2>/dev/null || true
t=$(mktemp -- "$(dirname -- "$p")/.$(basename -- "$p").pgreconciler-XXXXXX")
trap 'rm -f -- "$t"' EXIT
cat > "$t"
chmod %o -- "$t"
if [ "$u" = 0 ]; then chown %d:%d -- "$t"; fi
sync -- "$t"
printf '%%s  %%s\n' %s "$t" | sha256sum -c --status -
mv -f -- "$t" "$p"
trap - EXIT
sync -- "$(dirname -- "$p")" || true
sha256sum -- "$p"
`, shellQuote(path), info.UID, info.UID, info.Mode.Perm(), info.UID, info.GID, sha)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
