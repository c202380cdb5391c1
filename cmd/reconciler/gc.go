package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// The one-shot commands (validate, plan, apply, render, audit) load a
// spec once and exit, and most of what they allocate lives until the end:
// a collection frees little and costs a second core's worth of marking.
//
// plan, apply, render and audit run with GOGC=shortRunGCPercent: the heap
// may grow to 1.25× what is live instead of Go's default 2×. They hold the
// spec and the live state together, and their peak RSS per declared role
// is a target (BENCHMARKS.md, issue #17): at 10,100 roles this saves a few
// MiB for ~10–20 ms of CPU.
//
// validate holds only the spec, and is what CI and editors run on every
// push: its target is time. It runs in two phases:
//
//  1. No collection until the Go heap reaches shortRunHeap (GOGC off, a
//     memory limit of shortRunHeap). A spec of 10,100 roles validates in
//     27 MB of allocations without a collection: about a third less wall
//     time than with GOGC=25, for 7–11 MiB more peak RSS.
//  2. After a collection that leaves more than shortRunHeap/2 live (a big
//     spec: 50,000 roles), the memory limit is lifted and GOGC becomes
//     shortRunGCPercent, instead of the limit making every allocation
//     collect.
//
// The daemon (`run`) keeps Go's default: it lives long, and its bound is
// memory_limit.
const (
	shortRunHeap      = 48 << 20
	shortRunGCPercent = 25
)

// gcPolicy is what setGCForCommand chose.
type gcPolicy int

const (
	gcDefault  gcPolicy = iota // Go's (run, or GOGC/GOMEMLIMIT in the environment)
	gcPercent                  // GOGC=shortRunGCPercent (validate: when GOMEMLIMIT is set)
	gcTwoPhase                 // validate's two phases
)

// setGCForCommand applies the short-run policy for a one-shot command.
// GOGC in the environment wins (nothing is changed); for validate,
// GOMEMLIMIT in the environment keeps its limit, with
// GOGC=shortRunGCPercent.
func setGCForCommand(cmd string, getenv func(string) string) gcPolicy {
	if getenv("GOGC") != "" {
		return gcDefault
	}
	switch cmd {
	case "validate":
	case "plan", "apply", "render", "audit":
		debug.SetGCPercent(shortRunGCPercent)
		return gcPercent
	default:
		return gcDefault
	}
	if getenv("GOMEMLIMIT") != "" {
		debug.SetGCPercent(shortRunGCPercent)
		return gcPercent
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(shortRunHeap)
	watchHeap(shortRunHeap/2, func() {
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
