// Package demo is `make demo`: it starts a throwaway primary and replica on
// loopback, turns examples/repo into a signed local spec repository, runs
// the reconciler daemon against it and narrates what happens — the first
// plan, the apply, a signed change picked up, a manual change healed, an
// unsigned commit refused — with the metrics that show each step.
//
// The narration is a transcript: every "$ " line is the exact command the
// demo ran (in Options.Base, with the environment it prints first), followed
// by what it printed (long outputs shortened, marked "…") and, for the
// reconciler, its exit code. Every step checks its outcome and Run returns
// an error naming the step that did not happen, so the demo doubles as an
// end-to-end test.
//
// Sockets live where internal/testenv puts them (a short directory), so the
// demo works from a checkout at any depth. With Keep, everything stays up
// until ctx is done (Ctrl-C), then stops. TakeTerminal lets a Ctrl-C reach
// the demo alone, so that `DEMO_KEEP=1 make demo` ends with exit status 0.
//
// What it does not do: it never touches a real cluster or port 5432, and it
// leaves its working directory (repository, keys, state, daemon log) behind
// for a look afterwards; `make clean` removes it.
//
// What it must not import: pgreconciler's production packages. It drives
// the built reconciler binary the way a user does, so that the demo shows
// what a user sees; it may import internal/testenv for the throwaway
// servers.
package demo
