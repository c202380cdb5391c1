package main

import (
	"runtime/debug"
)

// shortRunGCPercent is the garbage collector's target for the commands
// that load a spec once and exit (validate, plan, apply, render, audit):
// the heap may grow to 1.25× what is live instead of Go's default 2×. At
// 10,100 roles it lowers the whole process's peak RSS by a few MiB (the
// loader's data tree and the inventory are live together once, at the
// peak) for a few more collections, ~10–20 ms of CPU (BENCHMARKS.md,
// issue #17). The daemon (`run`) keeps Go's default: it lives long, and
// its bound is memory_limit.
const shortRunGCPercent = 25

// setGCForCommand applies shortRunGCPercent for a short-lived command,
// unless GOGC is set in the environment (the user's choice wins).
func setGCForCommand(cmd string, getenv func(string) string) (percent int, set bool) {
	if getenv("GOGC") != "" {
		return 0, false
	}
	switch cmd {
	case "validate", "plan", "apply", "render", "audit":
		debug.SetGCPercent(shortRunGCPercent)
		return shortRunGCPercent, true
	}
	return 0, false
}
