package source

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pgreconciler/pgreconciler/internal/testenv/gitenv"
)

// treeFixture signs every commit with one trusted key, so Resolve gets as
// far as reading the tree.
type treeFixture struct {
	repo  *gitenv.Repo
	key   *gitenv.SSHSigner
	trust *Trust
}

func newTree(t *testing.T) *treeFixture {
	t.Helper()
	f := &treeFixture{repo: gitenv.NewRepo(t), key: gitenv.NewSSHSigner(t, "ed25519", "ops@example.com")}
	f.trust = trustFiles(t, []string{f.key.AllowedSignersLine("")}).trust
	return f
}

func (f *treeFixture) resolve(t *testing.T, edit func(*Config)) (*Snapshot, error) {
	t.Helper()
	return newLocal(t, f.repo, f.trust, edit).Resolve(context.Background(), "")
}

// wantRefusal checks that err is a tree refusal naming path, with the
// commit's short hash and reason in its text.
func wantRefusal(t *testing.T, err error, commit, path, reason string) {
	t.Helper()
	var r *Refusal
	if !errors.As(err, &r) {
		t.Fatalf("err = %v, want a *Refusal", err)
	}
	if r.Commit != commit || r.Path != path || !strings.Contains(r.Reason, reason) {
		t.Fatalf("refusal %+v, want commit %s path %q reason ~%q", r, commit, path, reason)
	}
	if !strings.Contains(err.Error(), commit[:12]) || !strings.Contains(err.Error(), path) {
		t.Errorf("message %q should name the commit and the path", err)
	}
}

func TestSpecFSServesCommittedTree(t *testing.T) {
	f := newTree(t)
	f.repo.WriteFile("README.md", "outside the spec root\n")
	f.repo.WriteFile("clusters/pg-meta.yml", "pg-meta: {}\n")
	f.repo.WriteFile("clusters/test/pg-test.yml", "pg-test: {}\n")
	f.repo.WriteFile("clusters/a-file", "sorted before the directory entry 'clusters/a'\n")
	f.repo.WriteFile("clusters/a/b.cue", "b: 1\n")
	f.repo.WriteFile("clusters/bin/hook.sh", "#!/bin/sh\n")
	if err := os.Chmod(f.repo.Path("clusters/bin/hook.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.repo.Commit("specs", f.key)
	// Uncommitted edits in the work tree must not show.
	f.repo.WriteFile("clusters/pg-meta.yml", "pg-meta: {edited: true}\n")
	f.repo.WriteFile("clusters/untracked.yml", "x\n")

	snap, err := f.resolve(t, func(c *Config) { c.Path = "/clusters/" })
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(snap.FS, "pg-meta.yml", "test/pg-test.yml", "a-file", "a/b.cue", "bin/hook.sh"); err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(snap.FS, "pg-meta.yml")
	if err != nil || string(b) != "pg-meta: {}\n" {
		t.Errorf("pg-meta.yml = %q, %v; want the committed content", b, err)
	}
	for _, name := range []string{"untracked.yml", "README.md", "../README.md"} {
		if _, err := fs.Stat(snap.FS, name); err == nil {
			t.Errorf("%s is visible in the spec tree", name)
		}
	}
	if fi, _ := fs.Stat(snap.FS, "bin/hook.sh"); fi.Mode() != 0o555 || !fi.ModTime().Equal(snap.Time) {
		t.Errorf("hook.sh mode %v, modtime %v", fi.Mode(), fi.ModTime())
	}
}

func TestTreeRefusesSymlinkOutOfRepo(t *testing.T) {
	f := newTree(t)
	f.repo.WriteFile("specs/ok.yml", "ok\n")
	f.repo.Symlink("specs/evil.yml", "../../../../etc/passwd")
	c := f.repo.Commit("symlink", f.key)
	_, err := f.resolve(t, nil)
	wantRefusal(t, err, c, "specs/evil.yml", "symlink (mode 120000)")
}

func TestTreeRefusesSymlinkedSpecRoot(t *testing.T) {
	f := newTree(t)
	f.repo.WriteFile("real/ok.yml", "ok\n")
	f.repo.Symlink("link", "real")
	c := f.repo.Commit("symlinked root", f.key)
	_, err := f.resolve(t, func(c *Config) { c.Path = "link" })
	wantRefusal(t, err, c, "link", "passes through a symlink")
	// A symlink outside the spec root does not matter.
	if _, err := f.resolve(t, func(c *Config) { c.Path = "real" }); err != nil {
		t.Errorf("spec root real: %v", err)
	}
}

func TestTreeRefusesSubmodule(t *testing.T) {
	f := newTree(t)
	f.repo.WriteFile("specs/ok.yml", "ok\n")
	// An embedded repository is added as a gitlink, as `git submodule add` does.
	sub := f.repo.Path("specs/vendor")
	f.repo.Run("init", "-q", sub)
	f.repo.Run("-C", sub, "-c", "user.name=x", "-c", "user.email=x@example.com", "commit", "-q", "--allow-empty", "-m", "sub")
	c := f.repo.Commit("submodule", f.key)
	if mode := f.repo.Run("ls-tree", c, "specs/vendor"); !strings.HasPrefix(mode, "160000 commit") {
		t.Fatalf("fixture has no gitlink: %q", mode)
	}
	_, err := f.resolve(t, nil)
	wantRefusal(t, err, c, "specs/vendor", "submodule (gitlink, mode 160000)")
}

func TestTreeRefusesNonUTF8Name(t *testing.T) {
	f := newTree(t)
	f.repo.WriteFile("specs/bad-\xff.yml", "x\n")
	c := f.repo.Commit("bad name", f.key)
	_, err := f.resolve(t, nil)
	wantRefusal(t, err, c, `specs/"bad-\xff.yml"`, "invalid entry name")
}

func TestTreeSizeAndCountLimits(t *testing.T) {
	t.Run("default file size", func(t *testing.T) {
		f := newTree(t)
		f.repo.WriteFile("specs/small.yml", "ok\n")
		f.repo.WriteFile("specs/huge.yml", strings.Repeat("x", DefaultMaxFileSize+1))
		c := f.repo.Commit("huge", f.key)
		_, err := f.resolve(t, nil)
		wantRefusal(t, err, c, "specs/huge.yml", "file is 4194305 bytes, over the limit of 4194304 bytes per file")
	})
	t.Run("file count", func(t *testing.T) {
		f := newTree(t)
		for i := range 10 {
			f.repo.WriteFile("specs/f"+string(rune('a'+i))+".yml", "x\n")
		}
		f.repo.Commit("ten files in one dir", f.key)
		if _, err := f.resolve(t, func(c *Config) { c.Limits.MaxFiles = 11 }); err != nil {
			t.Fatalf("11 entries with a limit of 11: %v", err)
		}
		_, err := f.resolve(t, func(c *Config) { c.Limits.MaxFiles = 10 })
		var r *Refusal
		if !errors.As(err, &r) || !strings.Contains(r.Reason, "more than 10 entries") {
			t.Fatalf("err = %v, want the entry limit", err)
		}
	})
	t.Run("total size", func(t *testing.T) {
		f := newTree(t)
		f.repo.WriteFile("a.yml", strings.Repeat("a", 600))
		f.repo.WriteFile("b.yml", strings.Repeat("b", 600))
		c := f.repo.Commit("two files", f.key)
		_, err := f.resolve(t, func(c *Config) { c.Limits.MaxTotalSize = 1000 })
		wantRefusal(t, err, c, "b.yml", "over the limit of 1000 bytes in total")
	})
	if l := (Limits{}).withDefaults(); l != (Limits{MaxFileSize: 4 << 20, MaxFiles: 10_000, MaxTotalSize: 64 << 20}) {
		t.Errorf("defaults %+v", l)
	}
}

func TestMissingSpecRootIsRefusedNotEmpty(t *testing.T) {
	f := newTree(t)
	f.repo.WriteFile("elsewhere/x.yml", "x\n")
	f.repo.WriteFile("file", "x\n")
	c := f.repo.Commit("no clusters dir", f.key)
	_, err := f.resolve(t, func(c *Config) { c.Path = "clusters/prod" })
	wantRefusal(t, err, c, "clusters", "spec root does not exist")
	_, err = f.resolve(t, func(c *Config) { c.Path = "file" })
	wantRefusal(t, err, c, "file", "not a directory")
}

func TestEmptySpecTreeIsRefused(t *testing.T) {
	f := newTree(t)
	c := f.repo.Commit("nothing at all", f.key)
	_, err := f.resolve(t, nil)
	wantRefusal(t, err, c, ".", "spec tree is empty")
}

func TestSpecPathMayNotLeaveRepository(t *testing.T) {
	f := newTree(t)
	for _, p := range []string{"../x", "a/../../b", "a/./../.."} {
		_, err := New(Config{Name: "s", URL: f.repo.Dir, Trust: f.trust, Path: p})
		if err == nil || !strings.Contains(err.Error(), "leaves the repository") {
			t.Errorf("path %q: err = %v", p, err)
		}
	}
}
