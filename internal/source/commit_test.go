package source

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// VerifyCommit judges any commit of the repository by hash, today, and
// names its parents; Contains places it in the history of a revision.
func TestVerifyCommitAndContains(t *testing.T) {
	f := newHistory(t)
	base := f.commit("base", f.ssh)
	f.repo.Run("checkout", "-q", "-b", "feature")
	unsigned := f.commit("unsigned feature work", nil)
	f.repo.Run("checkout", "-q", "main")
	merge := f.repo.Merge("feature", "merge feature", f.gpg)
	f.repo.Run("checkout", "-q", "-b", "side", base)
	side := f.commit("side work", f.ssh)
	f.repo.Run("checkout", "-q", "main")
	s := newLocal(t, f.repo, f.trust, nil)

	cc, err := s.VerifyCommit(t.Context(), merge)
	if err != nil {
		t.Fatal(err)
	}
	if !cc.Verdict.OK || cc.Verdict.Signer.Fingerprint != f.gpg.Fingerprint() {
		t.Errorf("merge verdict %v, want OK by %s", cc.Verdict, f.gpg.Fingerprint())
	}
	if !slices.Equal(cc.Parents, []string{base, unsigned}) {
		t.Errorf("parents %v, want [%s %s]", cc.Parents, base, unsigned)
	}
	cc, err = s.VerifyCommit(t.Context(), unsigned)
	if err != nil {
		t.Fatal(err)
	}
	if cc.Verdict.OK || cc.Verdict.Reason != ErrUnsigned.Error() {
		t.Errorf("unsigned commit verdict %v, want refused as unsigned", cc.Verdict)
	}
	for _, h := range []string{strings.Repeat("0", 40), "deadbeef", ""} {
		if _, err := s.VerifyCommit(t.Context(), h); !errors.Is(err, ErrCommitNotFound) {
			t.Errorf("VerifyCommit(%q) = %v, want ErrCommitNotFound", h, err)
		}
	}
	for _, tc := range []struct {
		h    string
		want bool
	}{{merge, true}, {base, true}, {unsigned, true}, {side, false}, {strings.Repeat("0", 40), false}} {
		got, err := s.Contains(t.Context(), "", tc.h)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("Contains(main, %s) = %v, want %v", tc.h, got, tc.want)
		}
	}
}
