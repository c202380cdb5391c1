package daemon

import (
	"sort"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// The circuit breaker (promise P15; docs/promises.md): an object that keeps drifting back after the
// daemon corrected it — another tool or a person fighting the spec — is
// corrected at most maxCorrections times per correctionWindow by drift
// checks; after that the daemon stops correcting it, keeps reporting it as
// drift, and says so in the log and at /status. A new commit closes the
// breaker (the spec may have settled the fight).
const (
	maxCorrections   = 5
	correctionWindow = time.Hour
)

// breaker remembers the drift corrections of one cluster. Guarded by
// clusterTable.mu.
type breaker struct {
	corrections map[string][]time.Time // change key → times corrected by drift checks
	open        map[string]bool        // change keys no longer corrected
}

func changeKey(ch plan.Change) string {
	return ch.Instance + " " + string(ch.Kind) + " " + ch.Object
}

// allows reports whether a change may still be corrected.
func (b *breaker) allows(ch plan.Change) bool { return !b.open[changeKey(ch)] }

// reset closes the breaker (a new commit).
func (b *breaker) reset() {
	b.corrections, b.open = nil, nil
}

// record counts the corrections a drift check applied and returns the
// keys that tripped now.
func (b *breaker) record(res *plan.Result, at time.Time) []string {
	if b.corrections == nil {
		b.corrections, b.open = map[string][]time.Time{}, map[string]bool{}
	}
	var tripped []string
	for _, o := range res.Outcomes {
		if o.Status != plan.StatusApplied {
			continue
		}
		k := changeKey(o.Change)
		times := append(b.corrections[k], at)
		for len(times) > 0 && at.Sub(times[0]) > correctionWindow {
			times = times[1:]
		}
		b.corrections[k] = times
		if len(times) >= maxCorrections && !b.open[k] {
			b.open[k] = true
			tripped = append(tripped, k)
		}
	}
	return tripped
}

// flapping lists the objects no longer corrected.
func (b *breaker) flapping() []string {
	var out []string
	for k := range b.open {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
