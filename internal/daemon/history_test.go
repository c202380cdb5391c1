package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/config"
	"github.com/pgreconciler/pgreconciler/internal/source"
)

// TestMemoryIndependentOfHistory: a daemon following a long history keeps
// no state per commit. An in-process daemon follows 200 commits one by one
// (a quarter signed, each changing a file outside the spec, so nothing is
// re-planned; the rest unsigned, each refused, and the branch reset to
// the last signed one): what it remembers of
// refused commits stays at source.MaxRefused, one revision back is kept,
// and the heap after a GC at commit 200 is within a small bound of the
// heap at commit 40 (a revision or a verdict kept per commit would grow it
// by megabytes).
func TestMemoryIndependentOfHistory(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, daemonVars)
	cfg, err := config.Parse("reconciler.yml", fmt.Appendf(nil, `listen: "127.0.0.1:0"
state_dir: %s
drift_interval: 1h
sources: [{name: fleet, url: %s, poll_interval: 1s}]
trust: {allowed_signers: %s}
`, filepath.Join(t.TempDir(), "state"), r.repo.Dir, r.signers))
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, nil, 5*time.Second) }()
	t.Cleanup(func() { cancel(); <-done })
	followed := func() SourceStatus {
		if s := d.Status(); len(s.Sources) > 0 {
			return s.Sources[0]
		}
		return SourceStatus{}
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}

	const commits, warm = 200, 40
	var atWarm uint64
	good := r.repo.Run("rev-parse", "HEAD")
	for i := 1; i <= commits; i++ {
		r.repo.WriteFile("NOTES.txt", fmt.Sprintf("note %d\n", i))
		if i%4 == 0 {
			h := r.repo.Commit(fmt.Sprintf("note %d", i), r.signer)
			waitFor(t, 20*time.Second, fmt.Sprintf("signed commit %d to be followed", i), func() bool { return followed().Commit == h })
			good = h
		} else {
			h := r.repo.Commit(fmt.Sprintf("note %d, unsigned", i), nil)
			waitFor(t, 20*time.Second, fmt.Sprintf("unsigned commit %d to be refused", i), func() bool { return slices.Contains(followed().Refused, h) })
			r.repo.ResetHard(good) // the next commit's history is signed
		}
		if i == warm {
			atWarm = heap()
		}
	}
	atEnd := heap()

	st := d.sources["fleet"]
	st.mu.Lock()
	refused, chain := len(st.refused.Commits), 0
	for rev := st.good; rev != nil; rev = rev.prev {
		chain++
	}
	st.mu.Unlock()
	if refused > source.MaxRefused {
		t.Errorf("%d refused commits remembered, at most %d should be", refused, source.MaxRefused)
	}
	if refused < source.MaxRefused {
		t.Errorf("only %d refused commits remembered: the test did not reach the cap (%d)", refused, source.MaxRefused)
	}
	if chain > 2 {
		t.Errorf("%d revisions kept, at most 2 (the good one and one back) should be", chain)
	}
	if n := len(d.Status().Clusters); n != 1 {
		t.Errorf("%d clusters in the status, want 1", n)
	}
	const bound = 1 << 20
	t.Logf("heap after GC: %.1f MiB at commit %d, %.1f MiB at commit %d", float64(atWarm)/(1<<20), warm, float64(atEnd)/(1<<20), commits)
	if atEnd > atWarm+bound {
		t.Errorf("heap grew by %.1f MiB from commit %d to %d (bound %d MiB): state kept per commit",
			float64(atEnd-atWarm)/(1<<20), warm, commits, bound>>20)
	}
}
