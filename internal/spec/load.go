package spec

import (
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Limits bound what a spec repository may hold, so that a hostile or
// broken commit cannot exhaust the reconciler.
type Limits struct {
	MaxFiles     int   // spec files (.cue and inventory .yml)
	MaxFileBytes int64 // per file
	MaxBytes     int64 // all files together

	// EvalTimeout bounds the CUE evaluator (used only for spec files that
	// are not plain data); 0 means DefaultLimits' 30 s.
	EvalTimeout time.Duration

	// MaxMemory bounds the memory of one load: every file's data tree
	// with its YAML aliases expanded, the parsers' trees while they
	// exist, and the CUE evaluator's (read_budget.go); 0 means DefaultLimits'.
	// A spec over it is refused for good (ErrMemoryBudget).
	MaxMemory int64
}

// DefaultLimits are generous for real fleets (a 1,000-cluster repository
// of 18 MiB needs 0.06 GiB of the memory budget).
var DefaultLimits = Limits{MaxFiles: 10_000, MaxFileBytes: 16 << 20, MaxBytes: 256 << 20, EvalTimeout: 30 * time.Second,
	MaxMemory: 1 << 30}

// Options tune a load.
type Options struct {
	Profile string // policy profile: "baseline" (default), "strict" or "none"
	Limits  Limits // zero = DefaultLimits
}

// Result is a loaded spec: the model when it is valid, and every problem
// found (warnings included).
type Result struct {
	Desired  *model.Desired // nil when Problems holds an error
	Problems Problems
}

// Err returns an *InvalidError when the spec must not be applied.
func (r *Result) Err() error { return r.Problems.Err() }

// Final reports whether the verdict on the spec is the same on every
// load: false when the evaluator ran out of time, which a retry on a less
// busy machine may not.
func (r *Result) Final() bool {
	for _, p := range r.Problems {
		if p.Rule == RuleTimeout {
			return false
		}
	}
	return true
}

// Loader reads spec repositories. It keeps the compiled schema and a cache
// of parsed files by content hash, so that a daemon re-reading a commit in
// which one cluster changed parses one file. A Loader is safe for
// concurrent use.
type Loader struct {
	// The schema is compiled in the background from NewLoader on, while
	// the first load reads its files (which needs no schema): a
	// short-lived command overlaps the two. compiled waits for it.
	ready     chan struct{}
	schema    *Schema
	schemaErr error

	mu sync.Mutex // serialises walks (the compiled schema memoises)

	serial bool // tests: the schema walk, then the checks (the slow path)

	cacheMu sync.Mutex
	cache   map[[32]byte]*parsed // files of the last load
	next    map[[32]byte]*parsed // files of the load in progress
}

// parsed is the cached result of reading one file.
type parsed struct {
	cue      *cueFile
	tree     *node
	problems Problems

	// What reading it cost the memory budget: the tree it holds, and the
	// most it held while it was read; out: the budget ran out.
	cost, peak int64
	out        bool
}

// NewLoader compiles the embedded schema.
//
// The schema is compiled in the background; a schema that does not compile
// (a defect of the build, which the schema tests catch) is reported by the
// first Load. The error result is kept for callers that handle one.
func NewLoader() (*Loader, error) {
	l := &Loader{ready: make(chan struct{})}
	go func() {
		defer close(l.ready)
		l.schema, l.schemaErr = LoadSchema()
	}()
	return l, nil
}

// compiled waits for the schema.
func (l *Loader) compiled() (*Schema, error) {
	<-l.ready
	return l.schema, l.schemaErr
}

// Load reads every spec file of fsys (all .cue files, and .yml/.yaml files
// shaped like an Ansible inventory), checks them against the schema and
// the Go checks and, when opts.Profile names one, the policy profile. All
// problems are reported in one run. An I/O error is returned as error; a
// bad spec is reported in Result.Problems (and Result.Err).
func (l *Loader) Load(fsys fs.FS, opts Options) (*Result, error) {
	lim := opts.Limits
	if lim.MaxFiles == 0 {
		lim = DefaultLimits
	}
	if lim.MaxMemory <= 0 {
		lim.MaxMemory = DefaultLimits.MaxMemory
	}
	files, used, problems, err := l.readFiles(fsys, lim)
	l.rotateCache()
	if err != nil {
		return nil, err
	}
	schema, err := l.compiled()
	if err != nil {
		return nil, err
	}
	res := &Result{Problems: problems}

	// One data tree from all files, with CUE's unification semantics.
	var root *node
	var cueFiles []*cueFile
	plain := true
	for _, f := range files {
		if f.cue != nil {
			cueFiles = append(cueFiles, f.cue)
			plain = plain && f.cue.data != nil
		}
	}
	if len(cueFiles) > 0 && !plain {
		// Not plain data: let the CUE evaluator compute the files' value.
		tree, ps := evalBounded(cueFiles, lim.EvalTimeout, lim.MaxMemory, used)
		res.Problems = append(res.Problems, ps...)
		root = tree
	}
	pkg := ""
	merge := merger{report: func(p Problem) { res.Problems = append(res.Problems, p) }}
	for _, f := range files {
		if f.cue != nil {
			if p := f.cue.pkg(); p != pkg && pkg != "" {
				res.Problems = append(res.Problems, Problem{Pos: Pos{File: f.cue.name, Line: 1, Col: 1}, Rule: RuleSyntax,
					Message: fmt.Sprintf("package %q differs from package %q of the other .cue files", p, pkg)})
			} else {
				pkg = p
			}
			if !plain {
				continue
			}
		}
		if f.tree == nil {
			continue
		}
		root = merge.unify(root, f.tree, "")
	}
	if root == nil && !hasError(res.Problems) {
		res.Problems = append(res.Problems, Problem{Rule: RuleSyntax, Message: "no spec files found (*.cue, or an inventory *.yml with a top-level all: key)"})
		res.Problems = res.Problems.sort()
		return res, nil
	}
	if root == nil || hasError(res.Problems) {
		res.Problems = res.Problems.sort()
		return res, nil
	}

	// The schema walk and the Go checks read the same tree and change
	// nothing in it, so they run at once, the checks assuming that the
	// schema refuses nothing (a valid spec: the common case). When it
	// refused something, the checks run again knowing where: a check about
	// a value the schema already refused would only repeat it. The Go
	// checks run even then, so that one run reports every problem.
	var d *built
	var ps Problems
	built := make(chan struct{})
	if !l.serial {
		go func() {
			defer close(built)
			d, ps = buildFleet(schema, root, nil)
		}()
	}
	l.mu.Lock()
	w := walker{s: schema}
	w.walk(root, schema.inventory, "")
	w.walkNestedGroups(root.get("all").get("children"), "all.children", 0)
	l.mu.Unlock()
	res.Problems = append(res.Problems, w.problems...)

	refused := map[Pos]bool{}
	for _, p := range w.problems {
		refused[p.Pos] = true
	}
	if !l.serial {
		<-built
	}
	if l.serial || len(refused) > 0 {
		d, ps = buildFleet(schema, root, refused)
	}
	for _, p := range ps {
		if !refused[p.Pos] {
			res.Problems = append(res.Problems, p)
		}
	}
	if hasError(w.problems) {
		res.Problems = res.Problems.sort()
		return res, nil
	}
	if opts.Profile != "" && opts.Profile != "none" {
		ps, err := schema.applyPolicy(opts.Profile, d)
		if err != nil {
			return nil, err
		}
		res.Problems = append(res.Problems, ps...)
	}
	res.Problems = res.Problems.sort()
	if !hasError(res.Problems) {
		res.Desired = d.desired
	}
	return res, nil
}

func hasError(ps Problems) bool {
	for _, p := range ps {
		if p.IsError() {
			return true
		}
	}
	return false
}

// built is a decoded fleet with the sources of its parts.
type built struct {
	desired  *model.Desired
	clusters []*clusterSrc
	inv      *inventory
}

func buildFleet(schema *Schema, root *node, refused map[Pos]bool) (*built, Problems) {
	inv := readInventory(root, schema.defaults, schema.vars)
	b := &built{desired: &model.Desired{}, inv: inv}
	decls, problems := inv.clusters()
	problems = append(inv.problems, problems...)
	for _, d := range decls {
		cs := resolveCluster(inv, d)
		cs.refused = refused
		if !slices.ContainsFunc(d.hosts, func(h *host) bool { return h.conflict }) {
			// (A host declared twice with two values was reported: the
			// checks would only report what follows from either.)
			cs.check()
			cs.checkClusterVars()
		}
		problems = append(problems, cs.problems...)
		b.clusters = append(b.clusters, cs)
		b.desired.Clusters = append(b.desired.Clusters, cs.c)
	}
	problems = append(problems, checkShards(b.clusters)...)
	sort.Slice(b.desired.Clusters, func(i, j int) bool { return b.desired.Clusters[i].Name < b.desired.Clusters[j].Name })
	return b, problems
}
