package preflight

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/config"
	"github.com/pgreconciler/pgreconciler/internal/testenv/gitenv"
)

// files is a directory of real key, certificate and secret files, made
// with the tools an operator uses (ssh-keygen, gpg) or crypto/x509.
type files struct {
	t   *testing.T
	dir string
	// F maps a name to its path, for the configuration template.
	F map[string]string
}

func newFiles(t *testing.T) *files {
	return &files{t: t, dir: t.TempDir(), F: map[string]string{}}
}

func (f *files) write(name, content string, mode os.FileMode) string {
	f.t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // past the umask
		f.t.Fatal(err)
	}
	f.F[name] = p
	return p
}

func (f *files) read(p string) string {
	f.t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

// cert makes a self-signed certificate and its key, valid from notBefore
// to notAfter.
func cert(t *testing.T, cn string, notBefore, notAfter time.Time) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: notBefore, NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}

// fixture writes a complete set of good files: the configuration below
// uses them all and must have no problem at all.
func fixture(t *testing.T) *files {
	f := newFiles(t)
	now := time.Now()
	alice := gitenv.NewSSHSigner(t, "ed25519", "alice@example.com")
	f.write("allowed_signers", alice.AllowedSignersLine(`namespaces="git"`)+"\n", 0o644)
	f.write("dba.asc", gitenv.NewGPGSigner(t, "DBA", "dba@example.com").ArmoredPublicKey(), 0o644)
	f.write("pgpass", "# fleet\n*:*:*:dbuser_dba:s3cret-pw\n", 0o600)
	ca, _ := cert(t, "ca", now.Add(-time.Hour), now.Add(24*time.Hour))
	f.write("ca.crt", ca, 0o644)
	c, k := cert(t, "client", now.Add(-time.Hour), now.Add(24*time.Hour))
	f.write("client.crt", c, 0o644)
	f.write("client.key", k, 0o600)
	f.write("token", "ghp_token\n", 0o600)
	f.write("hook", "hook-secret\n", 0o400)
	git := gitenv.NewSSHSigner(t, "ed25519", "deploy")
	f.write("git_key", f.read(git.KeyFile), 0o600)
	f.write("git_known_hosts", "[git.example.com]:2222 "+alice.PublicKey()+"\n", 0o644)
	f.write("hba_key", f.read(git.KeyFile), 0o600)
	f.write("known_hosts", "10.10.10.11,10.10.10.12 "+alice.PublicKey()+"\n", 0o644)
	repo := gitenv.NewRepo(t)
	f.F["repo"] = repo.Dir
	return f
}

const goodConfig = `sources:
  - name: https
    url: https://git.example.com/dba/fleet.git
    auth: {username: git, password_file: {{.token}}}
    webhook_secret_file: {{.hook}}
  - name: ssh
    url: ssh://git@git.example.com:2222/dba/fleet.git
    auth: {ssh_key: {{.git_key}}, known_hosts: {{.git_known_hosts}}}
  - name: local
    url: {{.repo}}
trust:
  allowed_signers: {{.allowed_signers}}
  pgp_keys: [{{.dba_asc}}]
connection:
  user: dbuser_dba
  passfile: {{.pgpass}}
  sslmode: verify-full
  sslrootcert: {{.ca_crt}}
  clusters:
    pg-meta: {sslcert: {{.client_crt}}, sslkey: {{.client_key}}}
hba:
  writer: ssh
  ssh_key: {{.hba_key}}
  known_hosts: {{.known_hosts}}
`

// load renders the configuration template with the fixture's paths and
// decodes it, failing on config's own problems.
func load(t *testing.T, f *files, src string) *config.Config {
	t.Helper()
	vars := map[string]string{}
	for k, v := range f.F {
		vars[strings.ReplaceAll(k, ".", "_")] = v
	}
	var b strings.Builder
	if err := template.Must(template.New("").Option("missingkey=error").Parse(src)).Execute(&b, vars); err != nil {
		t.Fatal(err)
	}
	c, err := config.Decode("r.yml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGoodConfigHasNoProblem(t *testing.T) {
	f := fixture(t)
	if ps := Check(load(t, f, goodConfig), Options{UID: os.Geteuid()}); len(ps) > 0 {
		t.Fatalf("problems in a good configuration:\n%v", ps.Err())
	}
}

// Each case breaks one file (or writes one key nothing uses) and expects
// its problem, at the line of the key that names the file; everything else
// stays good, so no other problem may appear.
func TestProblems(t *testing.T) {
	f := fixture(t)
	now := time.Now()
	expired := gitenv.NewGPGSignerAt(t, "Old", "old@example.com", now.AddDate(-3, 0, 0), "1d")
	bob := gitenv.NewSSHSigner(t, "ed25519", "bob@example.com")
	oldCA, _ := cert(t, "old-ca", now.AddDate(-2, 0, 0), now.AddDate(-1, 0, 0))
	_, otherKey := cert(t, "other", now.Add(-time.Hour), now.Add(time.Hour))
	locked := filepath.Join(f.dir, "locked")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "a passphrase", "-f", locked).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}

	type want struct {
		key, text string
		warning   bool
	}
	for _, tc := range []struct {
		name  string
		setup func() // changes files; undone by the next case's fresh fixture when needed
		edit  func(string) string
		want  []want
	}{
		{name: "allowed_signers with two bad lines",
			setup: func() {
				f.write("bad_signers", "alice@example.com ssh-ed25519 AAAAnotbase64\n# ok\n"+bob.AllowedSignersLine("")+"\nbob cert-authority "+bob.PublicKey()+"\n", 0o644)
			},
			edit: replace("allowed_signers: {{.allowed_signers}}", "allowed_signers: {{.bad_signers}}"),
			want: []want{{key: "trust.allowed_signers", text: "bad_signers:1: invalid key"}, {key: "trust.allowed_signers", text: "bad_signers:4: cert-authority is not supported"}}},
		{name: "an expired allowed_signers line is a warning while another key is good",
			setup: func() { f.write("old_signers", bob.AllowedSignersLine(`valid-before="20200101"`)+"\n", 0o644) },
			edit:  replace("allowed_signers: {{.allowed_signers}}", "allowed_signers: {{.old_signers}}"),
			want:  []want{{key: "trust.allowed_signers", text: "old_signers:1: key expired at valid-before 2020-01-01", warning: true}}},
		{name: "every key expired",
			setup: func() { f.write("old.asc", expired.ArmoredPublicKey(), 0o644) },
			edit: func(s string) string {
				return replace("pgp_keys: [{{.dba_asc}}]", "pgp_keys: [{{.old_asc}}]")(replace("allowed_signers: {{.allowed_signers}}", "allowed_signers: {{.old_signers}}")(s))
			},
			want: []want{
				{key: "trust.allowed_signers", text: "key expired", warning: true},
				{key: "trust.pgp_keys[0]", text: "OpenPGP key " + expired.Fingerprint() + " has no signing key valid at", warning: true},
				{key: "trust", text: "no trusted key can verify a new commit"}}},
		{name: "a pgp file that is not a key",
			setup: func() { f.write("junk.asc", "not a key\n", 0o644) },
			edit:  replace("pgp_keys: [{{.dba_asc}}]", "pgp_keys: [{{.dba_asc}}, {{.junk_asc}}]"),
			want:  []want{{key: "trust.pgp_keys[1]", text: "read OpenPGP keys from " + filepath.Join(f.dir, "junk.asc")}}},
		{name: "a missing file and a directory",
			edit: func(s string) string {
				return replace("{{.ca_crt}}", f.dir)(replace("password_file: {{.token}}", "password_file: /nonexistent/token")(s))
			},
			want: []want{{key: "sources[0].auth.password_file", text: "stat /nonexistent/token: no such file or directory"},
				{key: "connection.sslrootcert", text: f.dir + " is not a regular file"}}},
		{name: "a world-readable passfile with a bad line and no line for the user",
			setup: func() { f.write("loose_pgpass", "*:*:*:someone:pw-one\nhost:5432:db:s3cret-pw\n", 0o644) },
			edit:  replace("passfile: {{.pgpass}}", "passfile: {{.loose_pgpass}}"),
			want: []want{{key: "connection.passfile", text: "holds a secret but is accessible to every user (mode 0644)"},
				{key: "connection.passfile", text: "loose_pgpass:2: not a host:port:database:username:password line"},
				{key: "connection.passfile", text: "has no line for user dbuser_dba", warning: true}}},
		{name: "a group-readable passfile of the daemon's own user",
			setup: func() { f.write("group_pgpass", "*:*:*:*:pw\n", 0o640) },
			edit:  replace("passfile: {{.pgpass}}", "passfile: {{.group_pgpass}}"),
			want:  []want{{key: "connection.passfile", text: "is accessible to its group (mode 0640)"}}},
		{name: "an empty passfile and an empty token",
			setup: func() { f.write("empty", "# nothing\n\n", 0o600); f.write("blank", " \n", 0o600) },
			edit: func(s string) string {
				return replace("password_file: {{.token}}", "password_file: {{.blank}}")(replace("passfile: {{.pgpass}}", "passfile: {{.empty}}")(s))
			},
			want: []want{{key: "sources[0].auth.password_file", text: "is empty"}, {key: "connection.passfile", text: "has no host:port:database:username:password line"}}},
		{name: "an sslrootcert that is not PEM, and an expired one",
			setup: func() { f.write("notpem.crt", "hello\n", 0o644); f.write("old.crt", oldCA, 0o644) },
			edit: func(s string) string {
				return replace("pg-meta: {", "pg-old: {sslrootcert: {{.old_crt}}}\n    pg-meta: {")(replace("sslrootcert: {{.ca_crt}}", "sslrootcert: {{.notpem_crt}}")(s))
			},
			want: []want{{key: "connection.sslrootcert", text: "holds no PEM certificate"},
				{key: "connection.clusters.pg-old.sslrootcert", text: "certificate 1 (CN=old-ca) expired on", warning: true},
				{key: "connection.clusters.pg-old.sslrootcert", text: "no certificate in it is valid now"}}},
		{name: "a client key that is not the certificate's, and a certificate without key",
			setup: func() { f.write("other.key", otherKey, 0o600) },
			edit: func(s string) string {
				return replace("pg-meta: {", "pg-half: {sslcert: {{.client_crt}}}\n    pg-meta: {")(replace("sslkey: {{.client_key}}", "sslkey: {{.other_key}}")(s))
			},
			want: []want{{key: "connection.clusters.pg-half.sslcert", text: "a client certificate needs its key"},
				{key: "connection.clusters.pg-meta.sslkey", text: "is not the unencrypted PEM key of"}}},
		{name: "an ssh key with a passphrase, a public key as private key",
			setup: func() {
				if err := os.Chmod(locked+".pub", 0o600); err != nil {
					t.Fatal(err)
				}
			},
			edit: func(s string) string {
				return replace("ssh_key: {{.hba_key}}", "ssh_key: "+locked+".pub")(replace("ssh_key: {{.git_key}}", "ssh_key: "+locked)(s))
			},
			want: []want{{key: "sources[1].auth.ssh_key", text: "is protected by a passphrase"},
				{key: "hba.ssh_key", text: "is not an SSH private key"}}},
		{name: "known_hosts without the source's host, known_hosts without the writer's port, a bad known_hosts",
			setup: func() {
				f.write("kh_22", "git.example.com "+bob.PublicKey()+"\n", 0o644)
				f.write("kh_bad", "# pinned\n10.10.10.11 ssh-ed25519 !!!\n10.10.10.12 "+bob.PublicKey()+"\n", 0o644)
			},
			edit: func(s string) string {
				s = replace("known_hosts: {{.git_known_hosts}}", "known_hosts: {{.kh_22}}")(s)
				return replace("known_hosts: {{.known_hosts}}", "known_hosts: {{.kh_bad}}")(s)
			},
			want: []want{{key: "sources[1].auth.known_hosts", text: "pins no host key for git.example.com:2222, the source URL's server"},
				{key: "hba.known_hosts", text: "kh_bad:2: not a known_hosts entry"}}},
		{name: "the writer's port is not pinned",
			edit: replace("writer: ssh", "writer: ssh\n  ssh_port: 2222"),
			want: []want{{key: "hba.known_hosts", text: "pins no host on port 2222 (hba.ssh_port): entries for it are written [host]:2222"}}},
		{name: "keys the URL or the writer never uses",
			edit: func(s string) string {
				s = replace("auth: {username: git, password_file: {{.token}}}", "auth: {username: git, password_file: {{.token}}, ssh_key: {{.git_key}}}")(s)
				s = replace("auth: {ssh_key: {{.git_key}},", "auth: {password_file: {{.token}}, ssh_key: {{.git_key}},")(s)
				s = replace("url: {{.repo}}", "url: {{.repo}}\n    auth: {username: git}")(s)
				return replace("writer: ssh", "writer: local")(s)
			},
			want: []want{{key: "sources[0].auth.ssh_key", text: "not used: the source URL is https://", warning: true},
				{key: "sources[1].auth.password_file", text: "not used: the source URL is ssh://", warning: true},
				{key: "sources[2].auth.username", text: "not used: the source is a local repository", warning: true},
				{key: "hba.ssh_key", text: "not used: hba.writer is local", warning: true},
				{key: "hba.known_hosts", text: "not used: hba.writer is local", warning: true}}},
		{name: "an ssh source without key, a local path that is no repository, a bad sslmode",
			edit: func(s string) string {
				s = replace("auth: {ssh_key: {{.git_key}}, known_hosts: {{.git_known_hosts}}}", "auth: {known_hosts: {{.git_known_hosts}}}")(s)
				s = replace("url: {{.repo}}", "url: "+f.dir)(s)
				return replace("sslmode: verify-full", "sslmode: verify_full")(s)
			},
			want: []want{{key: "sources[1].auth", text: "an ssh:// source needs auth.ssh_key"},
				{key: "sources[2].url", text: "is not a Git repository"},
				{key: "connection.sslmode", text: `"verify_full": want one of disable, allow, prefer, require, verify-ca, verify-full`}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			cfg := load(t, f, tc.edit(goodConfig))
			ps := Check(cfg, Options{UID: os.Geteuid()})
			if len(ps) != len(tc.want) {
				t.Errorf("%d problems, want %d:\n%v", len(ps), len(tc.want), joinAll(ps))
			}
			for _, w := range tc.want {
				found := false
				for _, p := range ps {
					found = found || p.Key == w.key && p.Warning == w.warning && strings.Contains(p.Message, w.text)
				}
				if !found {
					t.Errorf("no problem %+v in:\n%s", w, joinAll(ps))
				}
			}
			for _, p := range ps {
				if p.Pos != cfg.At(p.Key) || p.Pos.Line == 0 {
					t.Errorf("%s: not at its key's position %v", p, cfg.At(p.Key))
				}
				if strings.Contains(p.Error(), "s3cret-pw") || strings.Contains(p.Error(), "pw-one") || strings.Contains(p.Error(), "ghp_token") {
					t.Errorf("a secret in a message: %s", p)
				}
			}
		})
	}
}

// A secret file owned by another user (root, in a Kubernetes Secret
// volume mounted 0440 with fsGroup) may be read by its group, not written.
func TestSecretOwnedByAnotherUser(t *testing.T) {
	f := fixture(t)
	p := f.write("pgpass", "*:*:*:dbuser_dba:pw\n", 0o440)
	cfg := load(t, f, goodConfig)
	other := os.Geteuid() + 1 // the file stays ours; the daemon runs as someone else
	if ps := Check(cfg, Options{UID: other}); len(ps) > 0 {
		t.Errorf("0440 of another user: %v", ps.Err())
	}
	if err := os.Chmod(p, 0o460); err != nil {
		t.Fatal(err)
	}
	if ps := Check(cfg, Options{UID: other}); len(ps) != 1 || !strings.Contains(ps[0].Message, "is writable by its group (mode 0460)") {
		t.Errorf("group-writable: %v", joinAll(ps))
	}
}

func replace(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("fixture has no " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
}

func joinAll(ps config.Problems) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Error() + "\n")
	}
	return b.String()
}
