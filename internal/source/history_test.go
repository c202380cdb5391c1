package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/testenv/gitenv"
)

// historyFixture is a repository with one trusted SSH key and one trusted
// OpenPGP key.
type historyFixture struct {
	repo  *gitenv.Repo
	ssh   *gitenv.SSHSigner
	gpg   *gitenv.GPGSigner
	trust *Trust
}

func newHistory(t *testing.T) *historyFixture {
	t.Helper()
	f := &historyFixture{
		repo: gitenv.NewRepo(t),
		ssh:  gitenv.NewSSHSigner(t, "ed25519", "ops@example.com"),
		gpg:  gitenv.NewGPGSigner(t, "Release Signer", "release@example.com"),
	}
	f.trust = trustFiles(t, []string{f.ssh.AllowedSignersLine("")}, f.gpg).trust
	return f
}

// commit writes a file named after msg and commits it.
func (f *historyFixture) commit(msg string, s gitenv.Signer) string {
	f.repo.WriteFile("specs/"+strings.ReplaceAll(msg, " ", "-")+".yaml", msg+"\n")
	return f.repo.Commit(msg, s)
}

func TestStrictSignedMergeWithUnsignedSecondParent(t *testing.T) {
	f := newHistory(t)
	base := f.commit("base", f.ssh)
	f.repo.Run("checkout", "-q", "-b", "feature")
	unsigned := f.commit("unsigned feature work", nil)
	f.repo.Run("checkout", "-q", "main")
	merge := f.repo.Merge("feature", "merge feature", f.gpg)

	s := newLocal(t, f.repo, f.trust, nil)
	applied(t, s, base)
	rep := check(t, s, "")
	if rep.Refusal != nil {
		t.Fatalf("strict refused a signed merge: %v", rep.Refusal)
	}
	if got := verdictCommits(rep); !slices.Equal(got, []string{merge}) {
		t.Errorf("checked %v, want only the merge %s (second parent %s is not walked)", got, merge, unsigned)
	}
}

func TestStrictNamesUnsignedCommitUnderSignedOne(t *testing.T) {
	f := newHistory(t)
	base := f.commit("base", f.ssh)
	unsigned := f.commit("unsigned", nil)
	top := f.commit("signed on top", f.ssh)

	s := newLocal(t, f.repo, f.trust, nil)
	applied(t, s, base)
	rep := check(t, s, "")
	if rep.Refusal == nil || rep.Refusal.Commit != unsigned {
		t.Fatalf("refusal = %v, want one naming %s", rep.Refusal, unsigned)
	}
	if !strings.Contains(rep.Refusal.Error(), unsigned) || !strings.Contains(rep.Refusal.Reason, "unsigned") {
		t.Errorf("refusal text %q should name %s and say unsigned", rep.Refusal, unsigned)
	}
	if got := verdictCommits(rep); !slices.Equal(got, []string{top, unsigned}) {
		t.Errorf("checked %v, want [%s %s]", got, top, unsigned)
	}
	if _, err := s.Resolve(context.Background(), ""); !errors.As(err, new(*Refusal)) {
		t.Errorf("Resolve err = %v, want a *Refusal", err)
	}

	head := newLocal(t, f.repo, f.trust, func(c *Config) { c.Policy = PolicyHead })
	applied(t, head, base)
	if rep := check(t, head, ""); rep.Refusal != nil || !slices.Equal(verdictCommits(rep), []string{top}) {
		t.Errorf("head policy: refusal %v, checked %v; want accepted after checking %s only", rep.Refusal, verdictCommits(rep), top)
	}
}

// TestStrictDoesNotDedupByKeyID is the argo-cd PR #28196 scenario: a commit
// carrying a copy of a trusted signature (same key ID, wrong payload) hides
// under a correctly signed descendant. Each commit is judged on its own.
func TestStrictDoesNotDedupByKeyID(t *testing.T) {
	f := newHistory(t)
	base := f.commit("base", f.gpg)
	forged := f.repo.ReplaceCommit(f.commit("forged", nil), func(raw string) string {
		sig := f.repo.RawCommit(base)
		_, rest, _ := strings.Cut(sig, "\ngpgsig ")
		block, _, _ := strings.Cut(rest, "\n\n")
		head, body, _ := strings.Cut(raw, "\n\n")
		return head + "\ngpgsig " + block + "\n\n" + body
	})
	f.repo.ResetHard(forged)
	top := f.commit("signed on top", f.gpg)

	s := newLocal(t, f.repo, f.trust, nil)
	applied(t, s, base)
	rep := check(t, s, top)
	if rep.Refusal == nil || rep.Refusal.Commit != forged || !strings.Contains(rep.Refusal.Reason, "bad signature") {
		t.Fatalf("refusal = %v, want a bad signature on %s", rep.Refusal, forged)
	}
}

func TestRewindRefusedUnlessAllowed(t *testing.T) {
	f := newHistory(t)
	c1 := f.commit("one", f.ssh)
	c2 := f.commit("two", f.ssh)

	s := newLocal(t, f.repo, f.trust, nil)
	applied(t, s, c2)
	f.repo.UpdateRef("refs/heads/main", c1) // force push back to an older signed commit
	rep := check(t, s, "")
	if rep.Refusal == nil || rep.Refusal.Commit != c1 || !strings.Contains(rep.Refusal.Reason, "not a descendant of the last applied commit "+c2) {
		t.Fatalf("refusal = %v, want a rollback refusal naming %s and %s", rep.Refusal, c1, c2)
	}
	if !rep.Rewind {
		t.Error("Rewind not set")
	}

	allow := newLocal(t, f.repo, f.trust, func(c *Config) { c.AllowRewind = true })
	applied(t, allow, c2)
	rep = check(t, allow, "")
	if rep.Refusal != nil || !slices.Equal(verdictCommits(rep), []string{c1}) {
		t.Errorf("AllowRewind: refusal %v, checked %v; want %s accepted", rep.Refusal, verdictCommits(rep), c1)
	}
}

func TestRewrittenSignedHistoryRefused(t *testing.T) {
	f := newHistory(t)
	c1 := f.commit("one", f.ssh)
	c2 := f.commit("two", f.ssh)
	f.repo.ResetHard(c1)
	r2 := f.commit("two rewritten", f.ssh)
	r3 := f.commit("three rewritten", f.ssh)

	s := newLocal(t, f.repo, f.trust, nil)
	applied(t, s, c2)
	rep := check(t, s, "")
	if rep.Refusal == nil || rep.Refusal.Commit != r3 || !strings.Contains(rep.Refusal.Reason, "not a descendant") {
		t.Fatalf("refusal = %v, want non-descendant refusal of %s", rep.Refusal, r3)
	}

	allow := newLocal(t, f.repo, f.trust, func(c *Config) { c.AllowRewind = true })
	applied(t, allow, c2)
	rep = check(t, allow, "")
	if rep.Refusal != nil || !slices.Equal(verdictCommits(rep), []string{r3, r2}) {
		t.Errorf("AllowRewind: refusal %v, checked %v; want [%s %s] (down to the fork point %s)", rep.Refusal, verdictCommits(rep), r3, r2, c1)
	}
}

func TestLastAppliedMissingFromRepository(t *testing.T) {
	f := newHistory(t)
	c1 := f.commit("one", f.ssh)
	s := newLocal(t, f.repo, f.trust, nil)
	applied(t, s, strings.Repeat("ab", 20))
	rep := check(t, s, "")
	if rep.Refusal == nil || rep.Refusal.Commit != c1 || !strings.Contains(rep.Refusal.Reason, "not in the repository") {
		t.Fatalf("refusal = %v", rep.Refusal)
	}
}

func TestFirstContactChecksTargetOnly(t *testing.T) {
	f := newHistory(t)
	f.commit("unsigned old history", nil)
	top := f.commit("signed", f.ssh)
	s := newLocal(t, f.repo, f.trust, nil)
	rep := check(t, s, "")
	if rep.Refusal != nil || !rep.FirstContact || !slices.Equal(verdictCommits(rep), []string{top}) {
		t.Fatalf("refusal %v, first contact %v, checked %v", rep.Refusal, rep.FirstContact, verdictCommits(rep))
	}
}

func TestTargetIsRecheckedWhenAlreadyApplied(t *testing.T) {
	f := newHistory(t)
	c1 := f.commit("unsigned", nil)
	s := newLocal(t, f.repo, f.trust, nil)
	applied(t, s, c1)
	if rep := check(t, s, ""); rep.Refusal == nil || rep.Refusal.Commit != c1 {
		t.Fatalf("refusal = %v, want %s refused", rep.Refusal, c1)
	}
}

// TestLastAppliedOnlyThroughSecondParent covers a branch that merged the
// applied main and was then fast-forwarded onto main: the first-parent chain
// misses the last applied commit, and the check stops where the chain joins
// the history main already had.
func TestLastAppliedOnlyThroughSecondParent(t *testing.T) {
	for _, signFeature := range []bool{false, true} {
		f := newHistory(t)
		root := f.commit("root", f.ssh)
		last := f.commit("applied", f.ssh)
		f.repo.Run("checkout", "-q", "-b", "feature", root)
		var signer gitenv.Signer
		if signFeature {
			signer = f.ssh
		}
		work := f.commit("feature work", signer)
		merge := f.repo.Merge("main", "merge main into feature", f.ssh)
		f.repo.Run("checkout", "-q", "main")
		f.repo.Run("merge", "-q", "--ff-only", "feature")

		s := newLocal(t, f.repo, f.trust, nil)
		applied(t, s, last)
		rep := check(t, s, "")
		if got := verdictCommits(rep); !slices.Equal(got, []string{merge, work}) {
			t.Errorf("signed feature %v: checked %v, want [%s %s]", signFeature, got, merge, work)
		}
		if signFeature != (rep.Refusal == nil) {
			t.Errorf("signed feature %v: refusal %v", signFeature, rep.Refusal)
		}
		if !signFeature && rep.Refusal != nil && rep.Refusal.Commit != work {
			t.Errorf("refusal names %s, want %s", rep.Refusal.Commit, work)
		}
	}
}

func TestWalkIsBounded(t *testing.T) {
	f := newHistory(t)
	base := f.commit("base", f.ssh)
	var top string
	for i := range 6 {
		top = f.commit("step "+string(rune('a'+i)), f.ssh)
	}
	s := newLocal(t, f.repo, f.trust, func(c *Config) { c.MaxWalk = 5 })
	applied(t, s, base)
	rep := check(t, s, "")
	if rep.Refusal == nil || rep.Refusal.Commit != top || !strings.Contains(rep.Refusal.Reason, "more than 5 commits") {
		t.Fatalf("refusal = %v, want the walk bound", rep.Refusal)
	}
	ok := newLocal(t, f.repo, f.trust, func(c *Config) { c.MaxWalk = 6 })
	applied(t, ok, base)
	if rep := check(t, ok, ""); rep.Refusal != nil || len(rep.Verdicts) != 6 {
		t.Errorf("with room for 6: refusal %v, %d verdicts", rep.Refusal, len(rep.Verdicts))
	}
	if n := len(ok.verified); n != 6 {
		t.Errorf("%d verified commits cached, want 6", n)
	}
}

func TestResolveThenMarkApplied(t *testing.T) {
	f := newHistory(t)
	c1 := f.commit("one", f.ssh)
	s := newLocal(t, f.repo, f.trust, nil)
	snap, err := s.Resolve(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if snap.Commit != c1 || snap.Signer.Fingerprint != f.ssh.Fingerprint() || snap.Author != "Test Author <author@example.com>" ||
		snap.Message != "one\n" || snap.Source != "specs" {
		t.Fatalf("snapshot %+v", snap)
	}
	if err := s.MarkApplied(snap); err != nil {
		t.Fatal(err)
	}
	st, err := LoadState(s.cfg.StateDir, "specs")
	if err != nil || st.Commit != c1 || st.Signer != f.ssh.Fingerprint() {
		t.Fatalf("state %+v, %v", st, err)
	}
	unsigned := f.commit("two unsigned", nil)
	f.commit("three", f.ssh)
	if _, err := s.Resolve(context.Background(), ""); err == nil || !strings.Contains(err.Error(), unsigned) {
		t.Fatalf("err = %v, want a refusal naming %s", err, unsigned)
	}
}

func TestCorruptStateIsAnError(t *testing.T) {
	f := newHistory(t)
	f.commit("one", f.ssh)
	s := newLocal(t, f.repo, f.trust, nil)
	writeFile(t, filepath.Join(s.cfg.StateDir, "specs.state.json"), "{\"version\":1,")
	rep, err := s.Check(context.Background(), "")
	if err == nil || !strings.Contains(err.Error(), "corrupt") || rep != nil {
		t.Fatalf("Check = %v, %v; want a corrupt-state error", rep, err)
	}
	if errors.As(err, new(*Refusal)) {
		t.Error("a corrupt state file is not a refusal of a commit")
	}
	if err := os.Remove(filepath.Join(s.cfg.StateDir, "specs.state.json")); err != nil {
		t.Fatal(err)
	}
	if rep := check(t, s, ""); !rep.FirstContact {
		t.Error("no state file should be a first contact")
	}
}
