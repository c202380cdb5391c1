package main

import (
	"fmt"
	"sort"

	"github.com/pgreconciler/pgreconciler/internal/hba"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

// renderCommands are the sub-commands of render, each with its flags.
func renderCommands() map[string]func(e *env, args []string) int {
	return map[string]func(e *env, args []string) int{"hba": runRenderHBA}
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
	if *instance == "" {
		fmt.Fprintln(e.stderr, "reconciler render hba: --instance is required")
		return exitUsage
	}
	loader, code := newLoader(e, "render", "none")
	if loader == nil {
		return code
	}
	dir, err := openSpecDir(*repo)
	if err != nil {
		return errorf(e, "render", "%v", err)
	}
	desired, code := loadSpec(e, "render", loader, dir, *repo, "none")
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
