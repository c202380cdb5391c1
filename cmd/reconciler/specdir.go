package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/spec"
)

// sourceTree refuses to read pgreconciler's own source tree as a spec
// (its schema/*.cue would make a confusing list of problems); name is the
// directory or commit read.
func sourceTree(e *env, cmd, name string) int {
	if name == "." || name == "" {
		name = "the current directory"
	}
	return usagef(e, cmd, "%s is pgreconciler's own source tree, not a spec repository: name one with --repo (for instance --repo examples/repo)", name)
}

// openSpecDir opens a spec directory as the user named it. An fs.FS names
// its root "." and its files relative to it; errors from this one name
// the paths as given (examples/repo/fleet.cue, not fleet.cue or ".").
func openSpecDir(dir string) (fs.FS, error) {
	st, err := os.Stat(dir)
	switch {
	case dir == "":
		return nil, errors.New("spec directory: an empty path")
	case err != nil:
		return nil, fmt.Errorf("spec directory: %w", err)
	case !st.IsDir():
		return nil, fmt.Errorf("spec directory %s: not a directory", dir)
	}
	return namedFS{fsys: os.DirFS(dir), dir: dir}, nil
}

// namedFS is a directory whose errors name their paths with the
// directory as the user wrote it.
type namedFS struct {
	fsys fs.FS
	dir  string
}

func (n namedFS) Open(name string) (fs.File, error) {
	f, err := n.fsys.Open(name)
	return f, n.rename(err)
}

func (n namedFS) ReadDir(name string) ([]fs.DirEntry, error) {
	es, err := fs.ReadDir(n.fsys, name)
	return es, n.rename(err)
}

func (n namedFS) ReadFile(name string) ([]byte, error) {
	b, err := fs.ReadFile(n.fsys, name)
	return b, n.rename(err)
}

func (n namedFS) Stat(name string) (fs.FileInfo, error) {
	st, err := fs.Stat(n.fsys, name)
	return st, n.rename(err)
}

func (n namedFS) rename(err error) error {
	pe, ok := err.(*fs.PathError)
	if !ok {
		return err
	}
	return &fs.PathError{Op: pe.Op, Path: filepath.Join(n.dir, filepath.FromSlash(pe.Path)), Err: pe.Err}
}

// isSourceTree reports whether fsys is pgreconciler's own source tree
// (its go.mod names the module), read as a spec by mistake: `reconciler
// validate` run in a clone without --repo.
func isSourceTree(fsys fs.FS) bool {
	b, err := fs.ReadFile(fsys, "go.mod")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" && f[1] == "github.com/pgreconciler/pgreconciler" {
			return true
		}
	}
	return false
}

// newLoader checks a --profile value against the schema's profiles (and
// none): a bad one is a usage error that lists them; then it starts
// compiling the schema. In this order: the profile check parses the
// policy files with CUE's parser (0.2 ms), and run once the compilation
// had begun it took 1.3-5 ms in 5 of 12 runs of validate (timing marks),
// which the load started after.
func newLoader(e *env, cmd, profile string) (*spec.Loader, int) {
	if !oneOf(e.stderr, "profile", profile, spec.Profiles()...) {
		return nil, exitUsage
	}
	loader, err := spec.NewLoader()
	if err != nil {
		return nil, errorf(e, cmd, "%v", err)
	}
	return loader, exitOK
}

// loadSpec loads and validates a spec (name: the directory or commit, for
// messages); on problems it prints them (FILE:LINE:COL: message) and
// returns a nil model and the exit code.
func loadSpec(e *env, cmd string, loader *spec.Loader, fsys fs.FS, name, profile string) (*model.Desired, int) {
	if isSourceTree(fsys) {
		return nil, sourceTree(e, cmd, name)
	}
	res, err := loader.Load(fsys, spec.Options{Profile: profile})
	if err != nil {
		return nil, errorf(e, cmd, "%v", err)
	}
	for _, p := range res.Problems {
		fmt.Fprintln(e.stderr, p.String())
	}
	if res.Err() != nil {
		fmt.Fprintf(e.stderr, "reconciler %s: the spec is invalid (%d problem(s)); nothing was done\n", cmd, countErrors(res.Problems))
		return nil, exitFail
	}
	return res.Desired, exitOK
}
