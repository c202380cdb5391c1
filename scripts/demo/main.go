// Command demo is `make demo`: see package internal/demo.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/pgreconciler/pgreconciler/internal/demo"
)

func main() {
	bin := flag.String("bin", "bin/reconciler", "the reconciler binary")
	dir := flag.String("dir", ".demo", "working directory")
	examples := flag.String("examples", "examples/repo", "the example spec repository")
	flag.Parse()
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return a
	}
	work := abs(*dir)
	// The servers' data directories live under .demo too.
	tmp := filepath.Join(work, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = os.Chmod(work, 0o755)
	os.Setenv("TMPDIR", tmp)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := demo.Run(ctx, demo.Options{Bin: abs(*bin), Dir: work, Examples: abs(*examples), Out: os.Stdout,
		Keep: os.Getenv("DEMO_KEEP") == "1"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "\ndemo failed:", err)
		os.Exit(1)
	}
}
