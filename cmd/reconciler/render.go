package main

import (
	"fmt"
	"os"

	"github.com/pgreconciler/pgreconciler/internal/hba"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/spec"
)

func runRender(e *env, args []string) int {
	if len(args) == 0 || args[0] != "hba" {
		fmt.Fprintln(e.stderr, "usage: reconciler render hba --repo DIR --instance NAME")
		return exitUsage
	}
	fs := newFlags(e, "render hba", "render hba --repo DIR --instance NAME")
	repo := fs.String("repo", ".", "spec repository `dir`ectory")
	instance := fs.String("instance", "", "instance `name` (<cluster>-<seq>) or IP")
	if code, ok := parseFlags(fs, args[1:]); !ok {
		return code
	}
	if *instance == "" {
		fmt.Fprintln(e.stderr, "reconciler render hba: --instance is required")
		return exitUsage
	}
	desired, code := loadSpec(e, "render", os.DirFS(*repo), "none")
	if desired == nil {
		return code
	}
	c, in := findInstance(desired, *instance)
	if in == nil {
		return errorf(e, "render", "no instance %q in the spec", *instance)
	}
	f, err := hba.Render(c, in)
	if err != nil {
		return errorf(e, "render", "render pg_hba.conf of %s: %v", in.Name(), err)
	}
	fmt.Fprint(e.stdout, f.Text)
	return exitOK
}

// findInstance looks an instance up by name (<cluster>-<seq>) or IP.
func findInstance(d *model.Desired, name string) (*model.Cluster, *model.Instance) {
	for _, c := range d.Clusters {
		if in := c.Instance(name); in != nil {
			return c, in
		}
	}
	return nil, nil
}

// loadSpec loads and validates a spec; on problems it prints them (FILE:
// LINE:COL: message) and returns a nil model and the exit code.
func loadSpec(e *env, cmd string, fsys fsFS, profile string) (*model.Desired, int) {
	loader, err := spec.NewLoader()
	if err != nil {
		return nil, errorf(e, cmd, "%v", err)
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
