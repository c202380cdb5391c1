package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// The one-shot commands (validate, plan, apply, render, audit) load a
// spec once and exit, and most of what they allocate lives until the end:
// a collection frees little and costs a core's worth of marking (on a
// small machine, the core the server being applied to needs).
//
// plan, render and audit run with GOGC=shortRunGCPercent: the heap may
// grow to 1.25× what is live instead of Go's default 2×. A plan holds the
// spec and the live state together, and its peak RSS per declared role is
// a target (BENCHMARKS.md, issue #17): at 10,100 roles this saves a few
// MiB for ~10–20 ms of CPU.
//
// validate and apply have time targets instead, so they run in two
// phases:
//
//  1. A looser collector while the heap is small: under a memory limit,
//     validate collects not at all (GOGC off, 48 MiB: a spec of 10,100
//     roles validates in 27 MB of allocations, about a third faster than
//     with GOGC=25, for 7–11 MiB more peak RSS), apply with Go's default
//     GOGC=100 (128 MiB: at 10,100 roles 0.2–0.3 s less CPU, for ~18 MiB
//     more peak RSS).
//  2. After a collection that leaves more than half the limit live (a big
//     spec: 50,000 roles), the limit is lifted and GOGC becomes
//     shortRunGCPercent, instead of the limit making every allocation
//     collect: a big spec's peak stays 1.25× what is live.
//
// The daemon (`run`) keeps Go's default: it lives long, and its bound is
// memory_limit.
const shortRunGCPercent = 25

// firstPhase is the collector of a command's first phase: GOGC (-1: off)
// under a memory limit.
type firstPhase struct {
	percent int
	limit   int64
}

var firstPhases = map[string]firstPhase{
	"validate": {-1, 48 << 20},
	"apply":    {100, 128 << 20},
}

// gcPolicy is what setGCForCommand chose.
type gcPolicy int

const (
	gcDefault  gcPolicy = iota // Go's (run, or GOGC in the environment)
	gcPercent                  // GOGC=shortRunGCPercent (also validate and apply when GOMEMLIMIT is set)
	gcTwoPhase                 // the two phases above
)

// setGCForCommand applies the short-run policy for a one-shot command.
// GOGC in the environment wins (nothing is changed); GOMEMLIMIT in the
// environment keeps its limit, with GOGC=shortRunGCPercent.
func setGCForCommand(cmd string, getenv func(string) string) gcPolicy {
	if getenv("GOGC") != "" {
		return gcDefault
	}
	first, twoPhase := firstPhases[cmd]
	switch {
	case twoPhase && getenv("GOMEMLIMIT") == "": // the two phases, below
	case twoPhase, cmd == "plan", cmd == "render", cmd == "audit":
		debug.SetGCPercent(shortRunGCPercent)
		return gcPercent
	default:
		return gcDefault
	}
	debug.SetGCPercent(first.percent)
	debug.SetMemoryLimit(first.limit)
	watchHeap(uint64(first.limit/2), func() {
		debug.SetGCPercent(shortRunGCPercent)
		debug.SetMemoryLimit(math.MaxInt64)
	})
	return gcTwoPhase
}

// watchHeap calls big once, after the first collection that leaves more
// than limit bytes of live heap. It looks after every collection: a
// sentinel's cleanup runs once the collector has found it unreachable,
// and makes the next sentinel.
func watchHeap(limit uint64, big func()) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var arm func()
	arm = func() {
		runtime.AddCleanup(new([32]byte), func(struct{}) {
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 && sample[0].Value.Uint64() > limit {
				big()
				return
			}
			arm()
		}, struct{}{})
	}
	arm()
}
