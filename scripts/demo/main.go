// Command demo is `make demo`: see package internal/demo.
//
// It parses its flags and runs internal/demo. What it must not import: any
// package of pgreconciler's but internal/demo.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/pgreconciler/pgreconciler/internal/demo"
)

func main() { os.Exit(run()) }

func run() int {
	bin := flag.String("bin", "bin/reconciler", "the reconciler binary")
	dir := flag.String("dir", ".demo", "working directory")
	examples := flag.String("examples", "examples/repo", "the example spec repository")
	flag.Parse()
	var paths []string
	for _, p := range []string{*bin, *dir, *examples} {
		a, err := filepath.Abs(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		paths = append(paths, a)
	}
	if err := os.MkdirAll(paths[1], 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Ctrl-C must reach the demo alone: see TakeTerminal.
	restore, err := demo.TakeTerminal()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer restore()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// DEMO_PG_VERSION picks the PostgreSQL major (default 18, Pigsty v4's).
	var major int
	if v := os.Getenv("DEMO_PG_VERSION"); v != "" {
		if major, err = strconv.Atoi(v); err != nil {
			fmt.Fprintf(os.Stderr, "DEMO_PG_VERSION=%q: want a major version such as 16\n", v)
			return 2
		}
	}
	err = demo.Run(ctx, demo.Options{Bin: paths[0], Dir: paths[1], Examples: paths[2], Out: os.Stdout,
		Keep: os.Getenv("DEMO_KEEP") == "1", PGMajor: major})
	switch {
	case err == nil:
		return 0
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(os.Stderr, "\ndemo interrupted:", err)
		return 130
	default:
		fmt.Fprintln(os.Stderr, "\ndemo failed:", err)
		return 1
	}
}
