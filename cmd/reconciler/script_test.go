package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary run as the reconciler command inside
// scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"reconciler": func() {
			e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
			os.Exit(run(e, os.Args[1:]))
		},
	})
}

// TestScripts runs the CLI scripts in testdata/script (testscript format:
// commands, then files). $EXAMPLES points at examples/repo.
func TestScripts(t *testing.T) {
	examples, err := filepath.Abs("../../examples/repo")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			e.Setenv("EXAMPLES", examples)
			return nil
		},
	})
}
