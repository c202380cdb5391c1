package source

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// recheck runs Recheck and fails on an error.
func recheck(t *testing.T, s *Source, commit string, floors ...Floor) *Report {
	t.Helper()
	rep, err := s.Recheck(context.Background(), commit, floors)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestChangeLogFloorRefusesRewindWithoutState: with no state directory
// entry (lost), the newest commit of a change log is the floor: an older
// signed commit is a rewind naming it, not a first contact.
func TestChangeLogFloorRefusesRewindWithoutState(t *testing.T) {
	f := newHistory(t)
	c1 := f.commit("one", f.ssh)
	c2 := f.commit("two", f.ssh)
	unsigned := f.commit("three unsigned", nil)
	c4 := f.commit("four", f.ssh)
	s := newLocal(t, f.repo, f.trust, nil)
	floor := Floor{Commit: c2, At: time.Now(), Origin: "the change_log of cluster pg-test on pg-test-1"}

	if rep := check(t, s, c1); rep.Refusal != nil || !rep.FirstContact {
		t.Fatalf("without floors %s is a first contact: %+v", c1, rep)
	}
	rep := recheck(t, s, c1, floor)
	if rep.Refusal == nil || rep.Refusal.Kind != model.RefusalRewind || rep.FirstContact || !rep.Rewind {
		t.Fatalf("rewind to %s below the floor %s: %+v", c1, c2, rep)
	}
	for _, want := range []string{"not a descendant of the last applied commit " + c2, "the change_log of cluster pg-test on pg-test-1", "allow_rewind"} {
		if !strings.Contains(rep.Refusal.Reason, want) {
			t.Errorf("refusal %q does not say %q", rep.Refusal.Reason, want)
		}
	}
	// The floor is where the strict walk starts: the unsigned commit
	// between it and the target is found, which a first contact misses.
	rep = recheck(t, s, c4, floor)
	if rep.Refusal == nil || rep.Refusal.Commit != unsigned || rep.Refusal.Kind != model.RefusalHistory {
		t.Fatalf("refusal %+v, want the unsigned %s in the history since the floor", rep.Refusal, unsigned)
	}
	if rep := recheck(t, s, c2, floor); rep.Refusal != nil || !slices.Equal(verdictCommits(rep), []string{c2}) {
		t.Errorf("the floor itself: refusal %v, checked %v", rep.Refusal, verdictCommits(rep))
	}

	allow := newLocal(t, f.repo, f.trust, func(c *Config) { c.AllowRewind = true })
	if rep := recheck(t, allow, c1, floor); rep.Refusal != nil || !rep.Rewind {
		t.Errorf("AllowRewind: %+v", rep)
	}
}

// TestChangeLogFloorNotInRepository: a floor the repository does not know
// (history rewritten, or a commit applied from elsewhere) refuses every
// target; it never turns into a first contact.
func TestChangeLogFloorNotInRepository(t *testing.T) {
	f := newHistory(t)
	c1 := f.commit("one", f.ssh)
	s := newLocal(t, f.repo, f.trust, nil)
	for _, commit := range []string{strings.Repeat("ab", 20), "not-a-hash"} {
		rep := recheck(t, s, c1, Floor{Commit: commit, At: time.Now(), Origin: "the change_log of cluster pg-x on pg-x-1"})
		if rep.Refusal == nil || rep.Refusal.Kind != model.RefusalRewind || rep.FirstContact ||
			!strings.Contains(rep.Refusal.Reason, commit+" (the newest in the change_log of cluster pg-x on pg-x-1") ||
			!strings.Contains(rep.Refusal.Reason, "is not in the repository") {
			t.Errorf("floor %s: %+v", commit, rep.Refusal)
		}
	}
}

// TestNewestOfStateAndFloorsWins: the state directory and the change logs
// are compared by when they applied their commit. After a deliberate
// rewind the state directory is newer than a change log still naming the
// commit rewound from; when the state lags (a later commit reached only
// some clusters), the change log is newer.
func TestNewestOfStateAndFloorsWins(t *testing.T) {
	f := newHistory(t)
	c1 := f.commit("one", f.ssh)
	c2 := f.commit("two", f.ssh)
	c3 := f.commit("three", f.ssh)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := newLocal(t, f.repo, f.trust, func(c *Config) { c.Now = func() time.Time { return at } })
	applied(t, s, c1) // applied at `at`

	older := Floor{Commit: c3, At: at.Add(-time.Hour), Origin: "the change_log of cluster a on a-1"}
	if rep := recheck(t, s, c1, older); rep.Refusal != nil {
		t.Errorf("a floor older than the state: %v", rep.Refusal)
	}
	newer := Floor{Commit: c3, At: at.Add(time.Minute), Origin: "the change_log of cluster b on b-1"}
	rep := recheck(t, s, c2, older, newer)
	if rep.Refusal == nil || !strings.Contains(rep.Refusal.Reason, c3) || !strings.Contains(rep.Refusal.Reason, "cluster b on b-1, applied 2026-03-01T12:01:00Z") {
		t.Errorf("a floor newer than the state: %+v", rep.Refusal)
	}
	if rep := recheck(t, s, c3, older, newer); rep.Refusal != nil || rep.LastApplied != c3 {
		t.Errorf("at the newest floor: %+v", rep)
	}
}

// TestResolveWithHook: the hook sees a verified target before its tree is
// read, and its error ends the resolve; a refused target never reaches it.
func TestResolveWithHook(t *testing.T) {
	f := newHistory(t)
	f.repo.Symlink("specs/evil.yml", "../../etc/passwd") // a tree refusal, if the tree were read
	c1 := f.repo.Commit("symlink", f.ssh)
	s := newLocal(t, f.repo, f.trust, nil)
	stop := errors.New("judged before")
	var seen []string
	_, err := s.ResolveWith(context.Background(), "", func(commit string) error {
		seen = append(seen, commit)
		return stop
	})
	if !errors.Is(err, stop) || !slices.Equal(seen, []string{c1}) {
		t.Fatalf("ResolveWith = %v, hook saw %v; want the hook's error for %s, the tree unread", err, seen, c1)
	}
	_, err = s.ResolveWith(context.Background(), "", func(string) error { return nil })
	if r := new(Refusal); !errors.As(err, &r) || r.Kind != model.RefusalTree {
		t.Fatalf("with a hook that lets it through: %v, want the tree refusal", err)
	}

	unsigned := f.commit("unsigned", nil)
	seen = nil
	_, err = s.ResolveWith(context.Background(), "", func(commit string) error { seen = append(seen, commit); return nil })
	if r := new(Refusal); !errors.As(err, &r) || r.Commit != unsigned || len(seen) > 0 {
		t.Errorf("unsigned: %v, hook saw %v", err, seen)
	}
}
