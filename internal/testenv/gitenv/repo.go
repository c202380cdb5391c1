package gitenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Repo is a git repository in a temporary directory, driven by the git
// binary. Its methods fail the test on any error.
type Repo struct {
	t    testing.TB
	Dir  string // the work tree (non-bare) or the repository itself (bare)
	Bare bool
	// Extra is added to the environment of every git command run in r, for
	// example TZ to change how git and ssh-keygen read local times.
	Extra []string
	home  string // HOME for git: empty, so no global configuration is read
}

// NewRepo creates a non-bare repository on branch main with a local
// user.name and user.email and commit signing off.
func NewRepo(t testing.TB) *Repo {
	t.Helper()
	r := &Repo{t: t, Dir: t.TempDir(), home: t.TempDir()}
	r.Run("init", "-q", "-b", "main")
	r.Run("config", "user.name", "Test Author")
	r.Run("config", "user.email", "author@example.com")
	r.Run("config", "commit.gpgsign", "false")
	return r
}

// NewBare creates a bare repository whose HEAD names branch main.
func NewBare(t testing.TB) *Repo {
	t.Helper()
	r := &Repo{t: t, Dir: t.TempDir(), Bare: true, home: t.TempDir()}
	r.Run("init", "-q", "--bare", "-b", "main")
	return r
}

// URL is the repository's file:// URL.
func (r *Repo) URL() string { return "file://" + r.Dir }

// Env is the environment every git command of r runs with.
func (r *Repo) Env() []string {
	env := []string{
		"HOME=" + r.home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GIT_") || k == "HOME" || k == "GNUPGHOME" || k == "LC_ALL" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, r.Extra...)
}

// Run runs git with args in r and returns its trimmed standard output.
func (r *Repo) Run(args ...string) string {
	r.t.Helper()
	return r.RunEnv(nil, "", args...)
}

// RunEnv runs git with extra environment variables and stdin, and returns
// its trimmed standard output.
func (r *Repo) RunEnv(env []string, stdin string, args ...string) string {
	r.t.Helper()
	out, errOut, err := r.exec(env, stdin, args...)
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return strings.TrimSpace(out)
}

func (r *Repo) exec(env []string, stdin string, args ...string) (string, string, error) {
	cmd := exec.Command("git", append([]string{"-C", r.Dir}, args...)...)
	cmd.Env = append(r.Env(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// Path returns the absolute path of a file in the work tree.
func (r *Repo) Path(name string) string { return filepath.Join(r.Dir, filepath.FromSlash(name)) }

// WriteFile writes content to path (slash-separated, relative to the work
// tree), creating parent directories.
func (r *Repo) WriteFile(path, content string) {
	r.t.Helper()
	p := r.Path(path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// Symlink creates a symbolic link at path pointing to target.
func (r *Repo) Symlink(path, target string) {
	r.t.Helper()
	p := r.Path(path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		r.t.Fatal(err)
	}
}

// Commit stages everything and commits it (empty commits allowed), signed
// by signer unless signer is nil. It returns the new commit's hash.
func (r *Repo) Commit(msg string, signer Signer) string {
	r.t.Helper()
	return r.commit(msg, signer, nil)
}

// CommitAt is Commit with author and committer dates set to when.
func (r *Repo) CommitAt(msg string, signer Signer, when time.Time) string {
	r.t.Helper()
	return r.commit(msg, signer, dateEnv(when))
}

func (r *Repo) commit(msg string, signer Signer, env []string) string {
	r.t.Helper()
	r.Run("add", "-A")
	args, senv := signArgs(signer)
	args = append(args, "commit", "-q", "--allow-empty", "-m", msg)
	r.RunEnv(append(env, senv...), "", args...)
	return r.Run("rev-parse", "HEAD")
}

// Merge merges branch into the current branch with a merge commit (--no-ff),
// signed by signer unless nil, and returns its hash.
func (r *Repo) Merge(branch, msg string, signer Signer) string {
	r.t.Helper()
	args, env := signArgs(signer)
	args = append(args, "merge", "-q", "--no-ff", "-m", msg, branch)
	r.RunEnv(env, "", args...)
	return r.Run("rev-parse", "HEAD")
}

// Push runs git push -q remote refspec; a refspec starting with "+" forces.
func (r *Repo) Push(remote, refspec string) {
	r.t.Helper()
	r.Run("push", "-q", remote, refspec)
}

// ResetHard moves the current branch and work tree to rev.
func (r *Repo) ResetHard(rev string) {
	r.t.Helper()
	r.Run("reset", "-q", "--hard", rev)
}

// UpdateRef points ref at hash without any check, the way a force push
// lands in a remote.
func (r *Repo) UpdateRef(ref, hash string) {
	r.t.Helper()
	r.Run("update-ref", ref, hash)
}

// RawCommit returns the commit object of rev as git stores it.
func (r *Repo) RawCommit(rev string) string {
	r.t.Helper()
	out, errOut, err := r.exec(nil, "", "cat-file", "commit", rev)
	if err != nil {
		r.t.Fatalf("git cat-file commit %s: %v\n%s", rev, err, errOut)
	}
	return out
}

// WriteCommit writes raw as a commit object and returns its hash.
func (r *Repo) WriteCommit(raw string) string {
	r.t.Helper()
	return r.RunEnv(nil, raw, "hash-object", "-t", "commit", "-w", "--stdin")
}

// ReplaceCommit writes a new commit object made by edit from rev's raw
// object and returns its hash. Refs are left alone.
func (r *Repo) ReplaceCommit(rev string, edit func(raw string) string) string {
	r.t.Helper()
	return r.WriteCommit(edit(r.RawCommit(rev)))
}

// SpliceSignature writes a copy of the unsigned commit rev with armored as
// its gpgsig header, the way git stores a signature, and returns the new
// commit's hash.
func (r *Repo) SpliceSignature(rev, armored string) string {
	r.t.Helper()
	raw := r.RawCommit(rev)
	head, body, ok := strings.Cut(raw, "\n\n")
	if !ok {
		r.t.Fatalf("commit %s has no header end", rev)
	}
	if strings.Contains(head, "\ngpgsig ") {
		r.t.Fatalf("commit %s is already signed", rev)
	}
	sig := strings.ReplaceAll(strings.TrimRight(armored, "\n"), "\n", "\n ")
	return r.WriteCommit(head + "\ngpgsig " + sig + "\n\n" + body)
}

func dateEnv(when time.Time) []string {
	d := fmt.Sprintf("%d %s", when.Unix(), when.Format("-0700"))
	return []string{"GIT_AUTHOR_DATE=" + d, "GIT_COMMITTER_DATE=" + d}
}
