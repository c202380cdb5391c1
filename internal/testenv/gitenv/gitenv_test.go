package gitenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/testenv/sockdir"
)

func TestSignersMakeCommitsGitAccepts(t *testing.T) {
	repo := NewRepo(t)
	ssh := NewSSHSigner(t, "ed25519", "alice@example.com")
	gpg := NewGPGSigner(t, "Bob Signer", "bob@example.com")

	repo.WriteFile("a.txt", "a\n")
	sshCommit := repo.Commit("ssh signed", ssh)
	gpgCommit := repo.Commit("gpg signed", gpg)
	unsigned := repo.Commit("unsigned", nil)

	allowed := filepath.Join(t.TempDir(), "allowed_signers")
	if err := os.WriteFile(allowed, []byte(ssh.AllowedSignersLine("")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	keyring := GPGKeyring(t, gpg)

	for _, tc := range []struct {
		rev  string
		want bool
	}{{sshCommit, true}, {gpgCommit, true}, {unsigned, false}} {
		ok, out := VerifyCommitWithGit(t, repo, tc.rev, allowed, keyring)
		if ok != tc.want {
			t.Errorf("verify-commit %s = %v, want %v\n%s", tc.rev, ok, tc.want, out)
		}
	}
	if !strings.HasPrefix(ssh.Fingerprint(), "SHA256:") {
		t.Errorf("fingerprint %q", ssh.Fingerprint())
	}
	if len(gpg.Fingerprint()) != 40 {
		t.Errorf("gpg fingerprint %q", gpg.Fingerprint())
	}
}

// TestGPGUnderDeepTMPDIR: gpg-agent's sockets live in GNUPGHOME, which must
// stay short whatever TMPDIR is.
func TestGPGUnderDeepTMPDIR(t *testing.T) {
	t.Setenv("TMPDIR", sockdir.DeepTempDir(t))
	repo := NewRepo(t)
	gpg := NewGPGSigner(t, "Dan Deep", "dan@example.com")
	repo.WriteFile("a.txt", "a\n")
	commit := repo.Commit("gpg signed", gpg)
	if ok, out := VerifyCommitWithGit(t, repo, commit, "", GPGKeyring(t, gpg)); !ok {
		t.Errorf("verify-commit %s failed:\n%s", commit, out)
	}
}

func TestSpliceSignatureKeepsPayload(t *testing.T) {
	repo := NewRepo(t)
	ssh := NewSSHSigner(t, "rsa", "carol@example.com")
	unsigned := repo.Commit("to be signed by hand", nil)
	sig := ssh.Sign([]byte(repo.RawCommit(unsigned)), "git")
	signed := repo.SpliceSignature(unsigned, sig)

	allowed := filepath.Join(t.TempDir(), "allowed_signers")
	if err := os.WriteFile(allowed, []byte(ssh.AllowedSignersLine("")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if ok, out := VerifyCommitWithGit(t, repo, signed, allowed, ""); !ok {
		t.Fatalf("git rejects a hand-spliced signature:\n%s", out)
	}
}
