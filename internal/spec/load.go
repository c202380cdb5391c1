package spec

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"path"
	"runtime"
	"slices"
	"sort"
	"strings"
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
}

// DefaultLimits are generous for real fleets (a 1,000-cluster repository
// is about 30 MiB).
var DefaultLimits = Limits{MaxFiles: 10_000, MaxFileBytes: 16 << 20, MaxBytes: 256 << 20, EvalTimeout: 30 * time.Second}

// evalBounded runs the CUE evaluator with a time budget. CUE evaluation
// cannot be cancelled: on timeout the spec is refused and the evaluation
// is abandoned in its goroutine (a refused commit is not retried, so this
// happens once per bad commit).
func evalBounded(files []*cueFile, timeout time.Duration) (*node, Problems) {
	if timeout <= 0 {
		timeout = DefaultLimits.EvalTimeout
	}
	type result struct {
		tree *node
		ps   Problems
	}
	done := make(chan result, 1)
	go func() {
		tree, ps := evalCUE(files)
		done <- result{tree, ps}
	}()
	select {
	case r := <-done:
		return r.tree, r.ps
	case <-time.After(timeout):
		return nil, Problems{{Pos: Pos{File: files[0].name, Line: 1, Col: 1}, Rule: RuleTimeout,
			Message: fmt.Sprintf("CUE evaluation took longer than %s: refused (simplify the references and comprehensions, or write plain data)", timeout)}}
	}
}

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
	schema *Schema

	mu sync.Mutex // serialises walks (the compiled schema memoises)

	cacheMu sync.Mutex
	cache   map[[32]byte]*parsed // files of the last load
	next    map[[32]byte]*parsed // files of the load in progress
}

// parsed is the cached result of reading one file.
type parsed struct {
	cue      *cueFile
	tree     *node
	problems Problems
}

// NewLoader compiles the embedded schema.
func NewLoader() (*Loader, error) {
	s, err := LoadSchema()
	if err != nil {
		return nil, err
	}
	return &Loader{schema: s}, nil
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
	files, problems, err := l.readFiles(fsys, lim)
	l.rotateCache()
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
		tree, ps := evalBounded(cueFiles, lim.EvalTimeout)
		res.Problems = append(res.Problems, ps...)
		root = tree
	}
	pkg := ""
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
		root = unify(root, f.tree, "", func(p Problem) { res.Problems = append(res.Problems, p) })
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

	l.mu.Lock()
	w := walker{s: l.schema}
	w.walk(root, l.schema.inventory, "")
	w.walkNestedGroups(root.get("all").get("children"), "all.children", 0)
	l.mu.Unlock()
	res.Problems = append(res.Problems, w.problems...)

	// The Go checks run even when the schema refused something, so that
	// one run reports every problem; a check about a value the schema
	// already refused would only repeat it.
	refused := map[Pos]bool{}
	for _, p := range w.problems {
		refused[p.Pos] = true
	}
	d, ps := l.build(root, refused)
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
		ps, err := l.schema.applyPolicy(opts.Profile, d)
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

func (l *Loader) build(root *node, refused map[Pos]bool) (*built, Problems) {
	inv := readInventory(root, l.schema.defaults, l.schema.vars)
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

type specFile struct {
	name string
	*parsed
}

// readFiles reads and parses the spec files of fsys, in parallel, through
// the content-hash cache.
func (l *Loader) readFiles(fsys fs.FS, lim Limits) ([]specFile, Problems, error) {
	var names []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "cue.mod" || d.Name() == "testdata") {
				return fs.SkipDir
			}
			return nil
		}
		switch path.Ext(p) {
		case ".cue", ".yml", ".yaml":
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("list spec files: %w", err)
	}
	sort.Strings(names)
	var problems Problems
	if len(names) > lim.MaxFiles {
		return nil, Problems{{Rule: RuleLimit, Message: fmt.Sprintf("%d spec files exceed the limit of %d", len(names), lim.MaxFiles)}}, nil
	}

	out := make([]specFile, len(names))
	errs := make([]error, len(names))
	var total int64
	var mu sync.Mutex
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if st, err := fs.Stat(fsys, name); err == nil && st.Size() > lim.MaxFileBytes {
				out[i] = specFile{name: name, parsed: &parsed{problems: Problems{{Pos: Pos{File: name}, Rule: RuleLimit,
					Message: fmt.Sprintf("file is %d bytes, over the limit of %d", st.Size(), lim.MaxFileBytes)}}}}
				return
			}
			data, err := fs.ReadFile(fsys, name)
			if err != nil {
				errs[i] = fmt.Errorf("read %s: %w", name, err)
				return
			}
			mu.Lock()
			total += int64(len(data))
			mu.Unlock()
			out[i] = specFile{name: name, parsed: l.parse(name, data)}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	if total > lim.MaxBytes {
		return nil, Problems{{Rule: RuleLimit, Message: fmt.Sprintf("spec files total %d bytes, over the limit of %d", total, lim.MaxBytes)}}, nil
	}
	files := out[:0]
	for _, f := range out {
		problems = append(problems, f.problems...)
		if f.cue != nil || f.tree != nil {
			files = append(files, f)
		}
	}
	return files, problems, nil
}

// parse reads one file, or returns the cached result for the same name and
// content.
func (l *Loader) parse(name string, data []byte) *parsed {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write(data)
	var key [32]byte
	h.Sum(key[:0])
	l.cacheMu.Lock()
	p, ok := l.cache[key]
	if !ok {
		p, ok = l.next[key]
	}
	l.cacheMu.Unlock()
	if ok {
		l.remember(key, p)
		return p
	}
	p = &parsed{}
	switch path.Ext(name) {
	case ".cue":
		p.cue, p.problems = parseCUE(name, data)
		if p.cue != nil {
			p.tree = p.cue.data
		}
	default:
		if isInventoryYAML(data) {
			p.tree, p.problems = readYAML(name, data)
		}
	}
	l.remember(key, p)
	return p
}

// remember keeps a parsed file for the next load. Only the files of the
// latest load stay cached, so memory follows the repository's size.
func (l *Loader) remember(key [32]byte, p *parsed) {
	l.cacheMu.Lock()
	defer l.cacheMu.Unlock()
	if l.next == nil {
		l.next = map[[32]byte]*parsed{}
	}
	l.next[key] = p
}

// rotateCache makes the files of the load just finished the cache.
func (l *Loader) rotateCache() {
	l.cacheMu.Lock()
	defer l.cacheMu.Unlock()
	l.cache, l.next = l.next, nil
}
