package main

import (
	"fmt"
	"sort"

	"github.com/pgreconciler/pgreconciler/internal/hba"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

// renderCommands are the sub-commands of render, each with its flags.
func renderCommands() map[string]func(e *env, args []string) int {
	return map[string]func(e *env, args []string) int{"hba": runRenderHBA, "pgbouncer": runRenderPgBouncer}
}

// runRender dispatches `render <what>`; `render -h` shows every
// sub-command with its flags.
func runRender(e *env, args []string) int {
	subs := renderCommands()
	if len(args) > 0 {
		if run, ok := subs[args[0]]; ok {
			return run(e, args[1:])
		}
	}
	help := len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help")
	if len(args) > 0 && !help {
		fmt.Fprintf(e.stderr, "reconciler render: unknown sub-command %q\n\n", args[0])
	}
	names := make([]string, 0, len(subs))
	for n := range subs {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		if i > 0 {
			fmt.Fprintln(e.stderr)
		}
		subs[n](e, []string{"-h"})
	}
	if help {
		return exitOK
	}
	return exitUsage
}

func runRenderHBA(e *env, args []string) int {
	fs := newFlags(e, "render hba", "render hba --repo DIR --instance NAME   (print the pg_hba.conf an instance must have)")
	repo := fs.String("repo", ".", "spec repository `dir`ectory")
	instance := fs.String("instance", "", "instance `name` (<cluster>-<seq>) or IP")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	c, in, code := loadInstance(e, "render hba", *repo, *instance)
	if in == nil {
		return code
	}
	f, err := hba.Render(c, in)
	if err != nil {
		return errorf(e, "render", "render pg_hba.conf of %s: %v", in.Name(), err)
	}
	fmt.Fprint(e.stdout, f.Text)
	return exitOK
}

// loadInstance loads the spec repository at repo and finds an instance
// in it, or prints why not and returns the exit code.
func loadInstance(e *env, cmd, repo, instance string) (*model.Cluster, *model.Instance, int) {
	if instance == "" {
		fmt.Fprintf(e.stderr, "reconciler %s: --instance is required\n", cmd)
		return nil, nil, exitUsage
	}
	loader, code := newLoader(e, "render", "none")
	if loader == nil {
		return nil, nil, code
	}
	dir, err := openSpecDir(repo)
	if err != nil {
		return nil, nil, errorf(e, "render", "%v", err)
	}
	desired, code := loadSpec(e, "render", loader, dir, repo, "none")
	if desired == nil {
		return nil, nil, code
	}
	c, in := findInstance(desired, instance)
	if in == nil {
		return nil, nil, errorf(e, "render", "no instance %q in the spec", instance)
	}
	return c, in, exitOK
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
