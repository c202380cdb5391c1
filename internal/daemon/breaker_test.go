package daemon

import (
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/plan"
)

func TestBreaker(t *testing.T) {
	var b breaker
	ch := plan.Change{Instance: "pg-x-1", Kind: plan.KindRole, Object: "app"}
	other := plan.Change{Instance: "pg-x-1", Kind: plan.KindRole, Object: "etl"}
	res := &plan.Result{Outcomes: []plan.Outcome{{Change: ch, Status: plan.StatusApplied}, {Change: other, Status: plan.StatusSkipped}}}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < maxCorrections-1; i++ {
		if tripped := b.record(res, t0.Add(time.Duration(i)*time.Minute)); len(tripped) > 0 || !b.allows(ch) {
			t.Fatalf("tripped after %d corrections", i+1)
		}
	}
	// Corrections older than the window do not count.
	var late breaker
	for i := 0; i < maxCorrections; i++ {
		late.record(res, t0.Add(time.Duration(i)*(correctionWindow/2+time.Minute)))
	}
	if !late.allows(ch) {
		t.Fatal("corrections spread over more than the window tripped the breaker")
	}
	if tripped := b.record(res, t0.Add(10*time.Minute)); len(tripped) != 1 || b.allows(ch) || !b.allows(other) {
		t.Fatalf("the %dth correction within the window did not trip it (only for that object): %v", maxCorrections, tripped)
	}
	if f := b.flapping(); len(f) != 1 || f[0] != "pg-x-1 role app" {
		t.Fatalf("flapping %v", f)
	}
	b.reset()
	if !b.allows(ch) || len(b.flapping()) != 0 {
		t.Fatal("a new commit did not close the breaker")
	}
}
