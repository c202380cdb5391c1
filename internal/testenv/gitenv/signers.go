package gitenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/testenv/sockdir"
)

// Signer is a key git can sign commits with: *SSHSigner or *GPGSigner.
type Signer interface {
	// gitSign returns the git options and environment that make git sign
	// with this key.
	gitSign() (args, env []string)
}

func signArgs(s Signer) (args, env []string) {
	if s == nil {
		return []string{"-c", "commit.gpgsign=false"}, nil
	}
	return s.gitSign()
}

// SSHSigner is an SSH key pair made by ssh-keygen, used through git's
// gpg.format=ssh.
type SSHSigner struct {
	t         testing.TB
	KeyFile   string // private key; KeyFile+".pub" is the public key
	Principal string
	pub       string // "<type> <base64>", no comment
}

// NewSSHSigner creates an unencrypted key of keyType ("ed25519" or "rsa")
// for principal.
func NewSSHSigner(t testing.TB, keyType, principal string) *SSHSigner {
	t.Helper()
	key := filepath.Join(t.TempDir(), "id_"+keyType)
	args := []string{"-q", "-t", keyType, "-N", "", "-C", principal, "-f", key}
	if keyType == "rsa" {
		args = append(args, "-b", "2048")
	}
	run(t, nil, "", "ssh-keygen", args...)
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(pub))
	if len(f) < 2 {
		t.Fatalf("ssh-keygen wrote an unexpected public key: %q", pub)
	}
	return &SSHSigner{t: t, KeyFile: key, Principal: principal, pub: f[0] + " " + f[1]}
}

// PublicKey returns the public key as "<type> <base64>".
func (s *SSHSigner) PublicKey() string { return s.pub }

// AllowedSignersLine returns an allowed_signers line for the key: the
// principal, opts (e.g. `namespaces="git",valid-before="20200101"`) when not
// empty, and the public key.
func (s *SSHSigner) AllowedSignersLine(opts string) string {
	if opts == "" {
		return s.Principal + " " + s.pub
	}
	return s.Principal + " " + opts + " " + s.pub
}

// Fingerprint returns the key's SHA256 fingerprint as ssh-keygen prints it.
func (s *SSHSigner) Fingerprint() string {
	s.t.Helper()
	out := run(s.t, nil, "", "ssh-keygen", "-l", "-E", "sha256", "-f", s.KeyFile+".pub")
	f := strings.Fields(out)
	if len(f) < 2 {
		s.t.Fatalf("ssh-keygen -l printed %q", out)
	}
	return f[1]
}

// Sign signs data with ssh-keygen -Y sign in namespace and returns the
// armored SSH signature.
func (s *SSHSigner) Sign(data []byte, namespace string) string {
	s.t.Helper()
	return s.SignWith(data, namespace)
}

// SignWith is Sign with ssh-keygen -O options (e.g. "hashalg=sha256").
func (s *SSHSigner) SignWith(data []byte, namespace string, opts ...string) string {
	s.t.Helper()
	f := filepath.Join(s.t.TempDir(), "payload")
	if err := os.WriteFile(f, data, 0o600); err != nil {
		s.t.Fatal(err)
	}
	args := []string{"-q", "-Y", "sign", "-f", s.KeyFile, "-n", namespace}
	for _, o := range opts {
		args = append(args, "-O", o)
	}
	run(s.t, nil, "", "ssh-keygen", append(args, f)...)
	sig, err := os.ReadFile(f + ".sig")
	if err != nil {
		s.t.Fatal(err)
	}
	return string(sig)
}

func (s *SSHSigner) gitSign() (args, env []string) {
	return []string{"-c", "gpg.format=ssh", "-c", "user.signingkey=" + s.KeyFile, "-c", "commit.gpgsign=true"}, nil
}

// GPGSigner is an OpenPGP ed25519 signing key in its own GNUPGHOME.
type GPGSigner struct {
	t     testing.TB
	Home  string // GNUPGHOME holding the secret key
	Name  string
	Email string
	fpr   string
	fake  time.Time // zero, or the frozen clock gpg runs with
}

// NewGPGSigner generates an ed25519 signing key for "name <email>" that
// never expires, in a fresh GNUPGHOME.
func NewGPGSigner(t testing.TB, name, email string) *GPGSigner {
	t.Helper()
	return newGPGSigner(t, name, email, time.Time{}, "never")
}

// NewGPGSignerAt is NewGPGSigner with gpg's clock frozen at `at` (for key
// generation and every signature made with the key) and the key expiring
// after expire (gpg's syntax: "1d", "2y", "never"). It makes keys that are
// already expired today.
func NewGPGSignerAt(t testing.TB, name, email string, at time.Time, expire string) *GPGSigner {
	t.Helper()
	return newGPGSigner(t, name, email, at, expire)
}

func newGPGSigner(t testing.TB, name, email string, at time.Time, expire string) *GPGSigner {
	t.Helper()
	g := &GPGSigner{t: t, Home: NewGNUPGHome(t), Name: name, Email: email, fake: at}
	g.gpg("--quick-gen-key", name+" <"+email+">", "ed25519", "sign", expire)
	for _, line := range strings.Split(g.gpg("--with-colons", "--list-secret-keys"), "\n") {
		if f := strings.Split(line, ":"); len(f) > 9 && f[0] == "fpr" {
			g.fpr = f[9]
			break
		}
	}
	if g.fpr == "" {
		t.Fatal("gpg listed no fingerprint for the new key")
	}
	return g
}

// Fingerprint is the primary key's fingerprint, upper-case hex.
func (g *GPGSigner) Fingerprint() string { return g.fpr }

// KeyID is the 16-hex-digit long key ID (the fingerprint's tail).
func (g *GPGSigner) KeyID() string { return g.fpr[len(g.fpr)-16:] }

// Identity is "name <email>".
func (g *GPGSigner) Identity() string { return g.Name + " <" + g.Email + ">" }

// ArmoredPublicKey exports the public key (with any revocation) armored.
func (g *GPGSigner) ArmoredPublicKey() string {
	g.t.Helper()
	return g.gpg("--armor", "--export", g.fpr)
}

// Revoke imports the revocation certificate gpg made at key generation, so
// the key and its exported form are revoked from now on.
func (g *GPGSigner) Revoke() {
	g.t.Helper()
	cert, err := os.ReadFile(filepath.Join(g.Home, "openpgp-revocs.d", g.fpr+".rev"))
	if err != nil {
		g.t.Fatal(err)
	}
	// gpg guards the certificate against accidental import with a leading ':'.
	fixed := strings.Replace(string(cert), ":-----BEGIN PGP PUBLIC KEY BLOCK-----", "-----BEGIN PGP PUBLIC KEY BLOCK-----", 1)
	run(g.t, g.env(), fixed, "gpg", "--batch", "--quiet", "--import")
}

func (g *GPGSigner) gitSign() (args, env []string) {
	args = []string{"-c", "gpg.format=openpgp", "-c", "user.signingkey=" + g.fpr, "-c", "commit.gpgsign=true"}
	if !g.fake.IsZero() {
		wrapper := filepath.Join(g.Home, "gpg-faked-time")
		script := fmt.Sprintf("#!/bin/sh\nexec gpg --faked-system-time %d! \"$@\"\n", g.fake.Unix())
		if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
			g.t.Fatal(err)
		}
		args = append(args, "-c", "gpg.program="+wrapper)
	}
	return args, g.env()
}

func (g *GPGSigner) env() []string { return []string{"GNUPGHOME=" + g.Home} }

func (g *GPGSigner) gpg(args ...string) string {
	g.t.Helper()
	base := []string{"--batch", "--quiet", "--passphrase", "", "--pinentry-mode", "loopback"}
	if !g.fake.IsZero() {
		base = append(base, "--faked-system-time", strconv.FormatInt(g.fake.Unix(), 10)+"!")
	}
	return run(g.t, g.env(), "", "gpg", append(base, args...)...)
}

// NewGNUPGHome creates an empty GNUPGHOME (short path, mode 0700) that is
// removed, and whose gpg-agent is stopped, at cleanup.
func NewGNUPGHome(t testing.TB) string {
	t.Helper()
	// gpg-agent puts its sockets in GNUPGHOME (no /run/user here): a short
	// path keeps them under the 108-byte limit whatever TMPDIR is.
	home, err := sockdir.New("gnupg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd := exec.Command("gpgconf", "--kill", "all")
		cmd.Env = append(os.Environ(), "GNUPGHOME="+home)
		_ = cmd.Run()
		_ = os.RemoveAll(home)
	})
	return home
}

// GPGKeyring returns a new GNUPGHOME holding the public keys of signers:
// the trusted set a `git verify-commit` oracle checks against.
func GPGKeyring(t testing.TB, signers ...*GPGSigner) string {
	t.Helper()
	home := NewGNUPGHome(t)
	for _, s := range signers {
		run(t, []string{"GNUPGHOME=" + home}, s.ArmoredPublicKey(), "gpg", "--batch", "--quiet", "--import")
	}
	return home
}

// run runs a program with extra environment and stdin, failing the test on
// error, and returns its trimmed standard output.
func run(t testing.TB, env []string, stdin, prog string, args ...string) string {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, errOut.String())
	}
	return strings.TrimSpace(out.String())
}
