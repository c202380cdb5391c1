package gitenv

import (
	"errors"
	"os/exec"
	"testing"
)

// VerifyCommitWithGit asks `git verify-commit` about rev in repo, with
// gpg.ssh.allowedSignersFile set to allowedSignersFile and GNUPGHOME set to
// gnupgHome (an empty one of its own when ""). It returns whether git accepts
// the signature and git's combined output, the reference verdict that
// package source's verifier is compared with.
func VerifyCommitWithGit(t testing.TB, repo *Repo, rev, allowedSignersFile, gnupgHome string) (ok bool, output string) {
	t.Helper()
	if allowedSignersFile == "" {
		allowedSignersFile = "/dev/null"
	}
	if gnupgHome == "" {
		gnupgHome = NewGNUPGHome(t)
	}
	cmd := exec.Command("git", "-C", repo.Dir, "-c", "gpg.ssh.allowedSignersFile="+allowedSignersFile,
		"verify-commit", "-v", rev)
	cmd.Env = append(repo.Env(), "GNUPGHOME="+gnupgHome)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("git verify-commit %s: %v", rev, err)
	}
	return err == nil, string(out)
}
