package source

import (
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pgreconciler/pgreconciler/internal/testenv/gitenv"
)

func TestResolveRev(t *testing.T) {
	repo := gitenv.NewRepo(t)
	c1 := repo.Commit("one", nil)
	c2 := repo.Commit("two", nil)
	repo.Run("tag", "light", c1)
	repo.Run("tag", "-a", "-m", "annotated", "release-1", c1)
	repo.Run("tag", "-a", "-m", "tag of a tag", "nested", "release-1")
	repo.Run("branch", "old", c1)
	repo.Run("tag", "old", c2) // a tag and a branch with one name, different commits
	repo.Run("tag", "same", c2)
	repo.Run("branch", "same", c2) // same name, same commit: not ambiguous

	r, err := git.PlainOpen(repo.Dir)
	if err != nil {
		t.Fatal(err)
	}
	follow := plumbing.NewBranchReferenceName("main")
	for rev, want := range map[string]string{
		"":                  c2,
		"main":              c2,
		"refs/heads/main":   c2,
		"light":             c1,
		"release-1":         c1,
		"refs/tags/nested":  c1,
		"same":              c2,
		c1:                  c1,
		strings.ToUpper(c1): c1,
		c2[:7]:              c2,
		c2[:5]:              c2,
	} {
		c, err := resolveRev(r, rev, follow)
		if err != nil {
			t.Errorf("%q: %v", rev, err)
			continue
		}
		if c.Hash.String() != want {
			t.Errorf("%q = %s, want %s", rev, c.Hash, want)
		}
	}
	for rev, msg := range map[string]string{
		"old":      "ambiguous",
		"nope":     "no branch, tag or commit",
		"abc":      "no branch, tag or commit", // too short for a hash
		"0000000":  "no branch, tag or commit",
		"refs/x/y": "no branch, tag or commit",
	} {
		if _, err := resolveRev(r, rev, follow); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: err = %v, want %q", rev, err, msg)
		}
	}
	if _, err := resolveRev(r, "", plumbing.NewTagReferenceName("release-1")); err != nil {
		t.Errorf("following a tag: %v", err)
	}
}
