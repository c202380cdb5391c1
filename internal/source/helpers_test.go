package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pgreconciler/pgreconciler/internal/testenv/gitenv"
)

// keys is a trusted set built the way an operator would: an allowed_signers
// file and armored key files, loaded with LoadTrust, plus the GNUPGHOME the
// git oracle checks against.
type keys struct {
	trust          *Trust
	allowedSigners string // path
	gnupgHome      string
}

// trustFiles writes allowed_signers lines and the public keys of gpgs into
// files and loads them.
func trustFiles(t *testing.T, allowedLines []string, gpgs ...*gitenv.GPGSigner) keys {
	t.Helper()
	return trustFilesIn(t, time.Local, allowedLines, gpgs...)
}

func trustFilesIn(t *testing.T, loc *time.Location, allowedLines []string, gpgs ...*gitenv.GPGSigner) keys {
	t.Helper()
	dir := t.TempDir()
	files := TrustFiles{AllowedSigners: filepath.Join(dir, "allowed_signers"), Location: loc}
	writeFile(t, files.AllowedSigners, strings.Join(allowedLines, "\n")+"\n")
	for i, g := range gpgs {
		f := filepath.Join(dir, "key"+string(rune('a'+i))+".asc")
		writeFile(t, f, g.ArmoredPublicKey())
		files.PGPKeys = append(files.PGPKeys, f)
	}
	trust := NewTrust()
	if len(allowedLines) > 0 || len(gpgs) > 0 {
		var err error
		if trust, err = LoadTrust(files); err != nil {
			t.Fatal(err)
		}
	}
	return keys{trust: trust, allowedSigners: files.AllowedSigners, gnupgHome: gitenv.GPGKeyring(t, gpgs...)}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// verifyInRepo verifies one commit of repo with go-git and VerifySignature,
// at the real wall clock.
func verifyInRepo(t *testing.T, repo *gitenv.Repo, hash string, trust *Trust) (Signer, error) {
	t.Helper()
	r, err := git.PlainOpen(repo.Dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.CommitObject(plumbing.NewHash(hash))
	if err != nil {
		t.Fatal(err)
	}
	s := &Source{cfg: Config{Trust: trust}, verified: map[plumbing.Hash]Verdict{}}
	v, err := s.verdict(c)
	if err != nil {
		t.Fatal(err)
	}
	if v.OK {
		return v.Signer, nil
	}
	return v.Signer, errors.New(v.Reason)
}

// newLocal makes a Source over a local repository with a state directory.
func newLocal(t *testing.T, repo *gitenv.Repo, trust *Trust, edit func(*Config)) *Source {
	t.Helper()
	cfg := Config{Name: "specs", URL: repo.Dir, StateDir: t.TempDir(), Trust: trust}
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// applied records hash as the last applied commit of s.
func applied(t *testing.T, s *Source, hash string) {
	t.Helper()
	if err := s.MarkApplied(&Snapshot{Commit: hash}); err != nil {
		t.Fatal(err)
	}
}

func check(t *testing.T, s *Source, rev string) *Report {
	t.Helper()
	rep, err := s.Check(context.Background(), rev)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func verdictCommits(rep *Report) []string {
	var out []string
	for _, v := range rep.Verdicts {
		out = append(out, v.Commit)
	}
	return out
}
