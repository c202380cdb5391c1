package main

import (
	"runtime/debug"
	"testing"
)

// TestGCForShortCommands: the one-shot commands run with the lower GC
// target, the daemon with Go's default, and GOGC in the environment wins.
func TestGCForShortCommands(t *testing.T) {
	orig := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(orig) })
	noEnv := func(string) string { return "" }
	for _, tc := range []struct {
		cmd  string
		want bool
	}{{"validate", true}, {"plan", true}, {"apply", true}, {"run", false}, {"version", false}} {
		debug.SetGCPercent(100)
		p, set := setGCForCommand(tc.cmd, noEnv)
		got := debug.SetGCPercent(100)
		if set != tc.want || (tc.want && (p != shortRunGCPercent || got != shortRunGCPercent)) || (!tc.want && got != 100) {
			t.Errorf("%s: set %v (%d), runtime %d; want set %v", tc.cmd, set, p, got, tc.want)
		}
	}
	env := func(k string) string {
		if k == "GOGC" {
			return "200"
		}
		return ""
	}
	if _, set := setGCForCommand("plan", env); set || debug.SetGCPercent(100) != 100 {
		t.Error("GOGC=200 in the environment: the command overrode it")
	}
}
