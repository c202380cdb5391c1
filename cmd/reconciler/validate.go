package main

import (
	"encoding/json"
	"fmt"

	"github.com/pgreconciler/pgreconciler/internal/spec"
)

func runValidate(e *env, args []string) int {
	fs := newFlags(e, "validate", "validate [--repo DIR] [--profile baseline|strict|none] [--format text|json]")
	repo := fs.String("repo", ".", "spec repository `dir`ectory")
	profile := fs.String("profile", "baseline", "policy `profile`: baseline, strict or none")
	format := fs.String("format", "text", "output `format`: text or json")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if !oneOf(e.stderr, "format", *format, "text", "json") {
		return exitUsage
	}
	loader, code := newLoader(e, "validate", *profile)
	if loader == nil {
		return code
	}
	dir, err := openSpecDir(*repo)
	if err != nil {
		return errorf(e, "validate", "%v", err)
	}
	if isSourceTree(dir) {
		return sourceTree(e, "validate", *repo)
	}
	res, err := loader.Load(dir, spec.Options{Profile: *profile})
	if err != nil {
		return errorf(e, "validate", "%v", err)
	}
	if *format == "json" {
		out := make([]problemJSON, 0, len(res.Problems))
		for _, p := range res.Problems {
			out = append(out, toJSON(p))
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return errorf(e, "validate", "%v", err)
		}
	} else {
		for _, p := range res.Problems {
			fmt.Fprintln(e.stderr, p.String())
		}
	}
	if res.Err() != nil {
		if *format == "text" {
			fmt.Fprintf(e.stderr, "%s: invalid (%d problem(s))\n", *repo, countErrors(res.Problems))
		}
		return exitFail
	}
	if len(res.Desired.Clusters) == 0 {
		// Valid, and nothing to reconcile: a wrong directory, or
		// inventory groups without pg_cluster.
		fmt.Fprintf(e.stderr, "%s: no cluster found: no group under all.children has pg_cluster in its vars; nothing would be reconciled\n", *repo)
		return exitFail
	}
	if *format == "text" {
		n := 0
		for _, c := range res.Desired.Clusters {
			n += len(c.Instances)
		}
		fmt.Fprintf(e.stdout, "%s: valid: %d cluster(s), %d instance(s) (profile %s)\n", *repo, len(res.Desired.Clusters), n, *profile)
	}
	return exitOK
}

type problemJSON struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Column   int      `json:"column"`
	Message  string   `json:"message"`
	Rule     string   `json:"rule"`
	Severity string   `json:"severity"`
	Controls []string `json:"controls,omitempty"`
}

func toJSON(p spec.Problem) problemJSON {
	sev := "error"
	if !p.IsError() {
		sev = "warning"
	}
	return problemJSON{File: p.Pos.File, Line: int(p.Pos.Line), Column: int(p.Pos.Col), Message: p.Message, Rule: p.Rule, Severity: sev, Controls: p.Controls}
}

func countErrors(ps spec.Problems) int {
	n := 0
	for _, p := range ps {
		if p.IsError() {
			n++
		}
	}
	return n
}
