package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// restoreGC puts the runtime's GC settings back after a test changed them.
func restoreGC(t *testing.T) {
	percent := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	})
}

// gcNow reads the runtime's GC percent and memory limit without changing them.
func gcNow() (percent int, limit int64) {
	percent = debug.SetGCPercent(100)
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1)
}

// TestGCForShortCommands: validate starts without collections and apply
// with Go's default GOGC, each under a memory limit; the other one-shot
// commands run with the lower GOGC, the daemon keeps Go's defaults, GOGC
// in the environment wins, and GOMEMLIMIT keeps its limit with the lower
// GOGC.
func TestGCForShortCommands(t *testing.T) {
	restoreGC(t)
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, tc := range []struct {
		cmd     string
		env     func(string) string
		policy  gcPolicy
		percent int
		limit   int64
	}{
		{"validate", env(), gcTwoPhase, -1, 48 << 20},
		{"plan", env(), gcPercent, shortRunGCPercent, math.MaxInt64},
		{"render", env(), gcPercent, shortRunGCPercent, math.MaxInt64},
		{"audit", env(), gcPercent, shortRunGCPercent, math.MaxInt64},
		{"apply", env(), gcTwoPhase, 100, 128 << 20},
		{"run", env(), gcDefault, 100, math.MaxInt64},
		{"version", env(), gcDefault, 100, math.MaxInt64},
		{"plan", env("GOGC", "200"), gcDefault, 100, math.MaxInt64},
		{"validate", env("GOMEMLIMIT", "1GiB"), gcPercent, shortRunGCPercent, math.MaxInt64},
		{"apply", env("GOMEMLIMIT", "1GiB"), gcPercent, shortRunGCPercent, math.MaxInt64},
		{"apply", env("GOGC", "50"), gcDefault, 100, math.MaxInt64},
	} {
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(math.MaxInt64)
		got := setGCForCommand(tc.cmd, tc.env)
		percent, limit := gcNow()
		if got != tc.policy || percent != tc.percent || limit != tc.limit {
			t.Errorf("%s: policy %d, GOGC %d, limit %d; want %d, %d, %d", tc.cmd, got, percent, limit, tc.policy, tc.percent, tc.limit)
		}
	}
}

// TestGCSecondPhase: after a collection that leaves more than half of
// validate's first-phase limit live, the memory limit is lifted and GOGC is
// shortRunGCPercent; a collection with little live changes nothing.
func TestGCSecondPhase(t *testing.T) {
	restoreGC(t)
	if setGCForCommand("validate", func(string) string { return "" }) != gcTwoPhase {
		t.Fatal("not the two-phase policy")
	}
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	if percent, limit := gcNow(); percent != -1 || limit != firstPhases["validate"].limit {
		t.Fatalf("little live: GOGC %d, limit %d; want the first phase", percent, limit)
	}
	live := make([][]byte, 0, 64)
	for range 40 {
		live = append(live, make([]byte, 1<<20))
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		if percent, limit := gcNow(); percent == shortRunGCPercent && limit == math.MaxInt64 {
			break
		}
		if time.Now().After(deadline) {
			percent, limit := gcNow()
			t.Fatalf("40 MiB live: GOGC %d, limit %d; want %d and no limit", percent, limit, shortRunGCPercent)
		}
		time.Sleep(10 * time.Millisecond)
	}
	runtime.KeepAlive(live)
}
