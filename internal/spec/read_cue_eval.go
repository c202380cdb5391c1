package spec

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// evalBounded runs the CUE evaluator (for spec files that are not plain
// data) within a time budget and the memory the files left of the load's
// budget (limit minus used): its own memory is the heap's growth while it
// runs, sampled every 10 ms, and the data tree it exports is charged like
// any file's. CUE evaluation cannot be cancelled: when either budget runs
// out, the spec is refused and the evaluation is abandoned in its
// goroutine (a refused commit is not read again, so this happens once per
// bad commit; the process memory limit is the backstop for what it still
// allocates).
// evaluations counts the CUE evaluations running, those given up on
// included: the evaluator cannot be stopped, and one that ran out of time
// goes on in the background until it ends (tests that count allocations
// wait for it).
var evaluations sync.WaitGroup

func evalBounded(files []*cueFile, timeout time.Duration, limit, used int64) (*node, Problems) {
	if timeout <= 0 {
		timeout = DefaultLimits.EvalTimeout
	}
	type result struct {
		tree *node
		ps   Problems
	}
	left := limit - used
	m := newMeter(&budget{limit: left})
	start := heapBytes()
	done := make(chan result, 1)
	evaluations.Add(1)
	go func() {
		defer evaluations.Done()
		tree, ps := evalCUE(files, m)
		done <- result{tree, ps}
	}()
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.name
	}
	where := Pos{File: files[0].name, Line: 1, Col: 1}
	refused := Problem{Pos: where, Rule: RuleMemory,
		Message: fmt.Sprintf("the spec exceeds the memory budget of %s for one load: it ran out evaluating the CUE files %s (the data before took %s); simplify the references and comprehensions, or write plain data (Limits.MaxMemory)",
			sizeString(limit), strings.Join(names, ", "), sizeString(used))}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(timeout)
	for {
		select {
		case r := <-done:
			if m.spent() {
				return nil, Problems{refused}
			}
			return r.tree, r.ps
		case <-tick.C:
			if heapBytes()-start > left {
				return nil, Problems{refused}
			}
		case <-deadline:
			return nil, Problems{{Pos: where, Rule: RuleTimeout,
				Message: fmt.Sprintf("CUE evaluation took longer than %s: refused (simplify the references and comprehensions, or write plain data)", timeout)}}
		}
	}
}
