package spec

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"cuelang.org/go/cue"
	cueerrors "cuelang.org/go/cue/errors"
)

// toJSON renders a data tree as JSON, keeping field order.
func (n *node) toJSON(b *strings.Builder) {
	switch n.kind {
	case kindMap:
		b.WriteByte('{')
		for i, f := range n.fields() {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(f.key)
			b.Write(k)
			b.WriteByte(':')
			f.value.toJSON(b)
		}
		b.WriteByte('}')
	case kindList:
		b.WriteByte('[')
		for i, it := range n.items() {
			if i > 0 {
				b.WriteByte(',')
			}
			it.toJSON(b)
		}
		b.WriteByte(']')
	case kindString:
		s, _ := json.Marshal(n.scalar())
		b.Write(s)
	case kindNull:
		b.WriteString("null")
	case kindFloat:
		b.WriteString(cueFloat(n.scalar()))
	default:
		b.WriteString(n.scalar())
	}
}

// cueExpressible reports whether every number of the tree can be written
// as a CUE literal: YAML's .inf and .nan cannot, so the oracle cannot
// judge such a tree.
func cueExpressible(n *node) bool {
	switch n.kind {
	case kindFloat:
		v, err := strconv.ParseFloat(strings.ReplaceAll(n.scalar(), "_", ""), 64)
		return err == nil && !math.IsInf(v, 0) && !math.IsNaN(v)
	case kindMap:
		for _, f := range n.fields() {
			if !cueExpressible(f.value) {
				return false
			}
		}
	case kindList:
		for _, it := range n.items() {
			if !cueExpressible(it) {
				return false
			}
		}
	}
	return true
}

// cueFloat writes a YAML float ("08", "+1.5", "1.") as a CUE float
// literal of the same value: YAML's float syntax is wider than CUE's.
func cueFloat(s string) string {
	v, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64) // yaml.v3 reads 1_000.5
	if err != nil {
		return s
	}
	t := strconv.FormatFloat(v, 'g', -1, 64)
	if !strings.ContainsAny(t, ".e") {
		t += ".0"
	}
	return t
}

// oracleErrors validates a data tree with the CUE evaluator itself
// (#Inventory & data, concrete), returning the paths it refuses.
func oracleErrors(t testing.TB, s *Schema, root *node) []string {
	t.Helper()
	var b strings.Builder
	root.toJSON(&b)
	data := s.ctx.CompileString(b.String())
	if data.Err() != nil {
		t.Fatalf("oracle: compile data: %v", data.Err())
	}
	v := s.root.LookupPath(cue.ParsePath("#Inventory")).Unify(data)
	err := v.Validate(cue.Concrete(true))
	set := map[string]bool{}
	for _, e := range cueerrors.Errors(err) {
		set[strings.Join(e.Path(), ".")] = true
	}
	return sortedKeys(set)
}

// walkErrors validates a data tree with the compiled schema. The text
// checks the walk also makes (RuleText: NUL, invalid UTF-8) are not the
// schema's, so CUE does not make them: they are left out.
func walkErrors(s *Schema, root *node) []string {
	w := walker{s: s}
	w.walk(root, s.inventory, "")
	set := map[string]bool{}
	for _, p := range w.problems {
		if p.Rule == RuleText {
			continue
		}
		path, _, _ := strings.Cut(p.Message, ": ")
		set[path] = true
	}
	return sortedKeys(set)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// normPath writes a path the same way whoever rendered it: labels
// unquoted (the walk quotes with strconv.Quote, "\x19"; CUE with its own
// escapes, "\u0019") and list indexes as labels (a[1] is a.1).
func normPath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '"':
			j := i + 1
			for j < len(p) && p[j] != '"' {
				if p[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(p) {
				return b.String() + p[i:]
			}
			if s, err := strconv.Unquote(p[i : j+1]); err == nil {
				b.WriteString(s)
			} else {
				b.WriteString(p[i+1 : j])
			}
			i = j
		case '[':
			b.WriteByte('.')
		case ']':
		default:
			b.WriteByte(p[i])
		}
	}
	return b.String()
}

// compareRefusals checks the compiled schema (got) against the CUE
// evaluator (want): both must accept, or both refuse, and every path CUE
// refuses must be refused by the walk too. The walk may report more: CUE
// hides some errors behind others (a conflict hides a missing required
// field until it is fixed); reporting all of them in one run is the point.
func compareRefusals(got, want []string) string {
	if (len(got) == 0) != (len(want) == 0) {
		return fmt.Sprintf("compiled schema refuses %q, CUE refuses %q", got, want)
	}
	have := map[string]bool{}
	for _, g := range got {
		have[g] = true
	}
	for _, w := range want {
		covered := have[w]
		for g := range have {
			covered = covered || strings.HasPrefix(g, w+".") || strings.HasPrefix(w, g+".") || w == ""
		}
		if !covered {
			return fmt.Sprintf("CUE refuses %q, which the compiled schema accepts (it refuses %q)", w, got)
		}
	}
	return ""
}

// leaves normalises paths and keeps only the deepest: CUE also reports
// the enclosing value of a failed disjunction alternative.
func leaves(paths []string) []string {
	set := map[string]bool{}
	for _, p := range paths {
		set[normPath(strings.TrimPrefix(p, "#Inventory."))] = true
	}
	for p := range set {
		for q := range set {
			if q != p && strings.HasPrefix(q, p+".") {
				delete(set, p)
			}
		}
	}
	return sortedKeys(set)
}

// mergedTree reads a file system the way Load does and returns the data
// tree before the schema walk.
func mergedTree(t testing.TB, l *Loader, fsys fstest.MapFS) *node {
	t.Helper()
	files, _, problems, err := l.readFiles(fsys, DefaultLimits)
	if err != nil || hasError(problems) {
		return nil
	}
	var root *node
	for _, f := range files {
		if f.tree == nil {
			return nil // not plain data
		}
		bad := false
		root = unify(root, f.tree, "", func(Problem) { bad = true })
		if bad {
			return nil
		}
	}
	return root
}

// TestSchemaWalkAgreesWithCUE checks the compiled schema against the CUE
// evaluator on every spec of the test corpus: both must accept the same
// specs and refuse the same paths.
func TestSchemaWalkAgreesWithCUE(t *testing.T) {
	l := newTestLoader(t)
	files, _ := filepath.Glob("testdata/invalid/*.txtar")
	fixtures := map[string]fstest.MapFS{}
	for _, f := range files {
		fixtures[f], _ = archiveFS(t, f, "want")
	}
	fixtures["examples"] = dirFS(t, "../../examples/repo")
	checked := 0
	for name, fsys := range fixtures {
		root := mergedTree(t, l, fsys)
		if root == nil {
			continue
		}
		checked++
		want := oracleErrors(t, l.schema, root)
		got := walkErrors(l.schema, root)
		if msg := compareRefusals(leaves(got), leaves(want)); msg != "" {
			t.Errorf("%s: %s", name, msg)
		}
	}
	if checked < 25 {
		t.Fatalf("only %d fixtures compared", checked)
	}
}

func dirFS(t testing.TB, dir string) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		fsys[e.Name()] = &fstest.MapFile{Data: b}
	}
	return fsys
}

// TestCUEAndYAMLGiveOneModel loads pg-meta once from its CUE files and
// once from pigsty.yml: the models must be identical.
func TestCUEAndYAMLGiveOneModel(t *testing.T) {
	l := newTestLoader(t)
	all := dirFS(t, "../../examples/repo")
	fromCUE := fstest.MapFS{"globals.cue": all["globals.cue"], "pg-meta.cue": all["pg-meta.cue"]}
	fromYAML := fstest.MapFS{"pigsty.yml": all["pigsty.yml"]}
	load := func(fsys fstest.MapFS) *Result {
		res, err := l.Load(fsys, Options{Profile: "baseline"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Err() != nil {
			t.Fatal(res.Err())
		}
		return res
	}
	a, b := load(fromCUE).Desired.Cluster("pg-meta"), load(fromYAML).Desired.Cluster("pg-meta")
	if !reflect.DeepEqual(a, b) {
		ja, _ := json.MarshalIndent(a, "", " ")
		jb, _ := json.MarshalIndent(b, "", " ")
		t.Fatalf("CUE and YAML models differ:\nCUE:  %s\nYAML: %s", ja, jb)
	}
	// And the YAML file unifies with the CUE files in one repository.
	both := load(all)
	if !reflect.DeepEqual(both.Desired.Cluster("pg-meta"), a) {
		t.Fatal("pg-meta differs when pigsty.yml and the CUE files are loaded together")
	}
}

// TestEvaluatorPath loads a spec that is not plain data (a hidden field
// shared by reference): the CUE evaluator computes it, with the same model
// as the plain form.
func TestEvaluatorPath(t *testing.T) {
	l := newTestLoader(t)
	plain := fstest.MapFS{"a.cue": {Data: []byte(`package fleet
all: children: "pg-x": {
	hosts: "10.0.0.1": {pg_seq: 1, pg_role: "primary"}
	vars: {pg_cluster: "pg-x", pg_users: [{name: "app", connlimit: 3}, {name: "etl", connlimit: 3}]}
}`)}}
	computed := fstest.MapFS{"a.cue": {Data: []byte(`package fleet
_limit: 3
_user: {name: string, connlimit: _limit}
all: children: "pg-x": {
	hosts: "10.0.0.1": {pg_seq: 1, pg_role: "primary"}
	vars: {pg_cluster: "pg-x", pg_users: [for n in ["app", "etl"] {_user & {name: n}}]}
}`)}}
	r1, err := l.Load(plain, Options{})
	if err != nil || r1.Err() != nil {
		t.Fatal(err, r1.Err())
	}
	r2, err := l.Load(computed, Options{})
	if err != nil || r2.Err() != nil {
		t.Fatal(err, r2.Err())
	}
	if !reflect.DeepEqual(r1.Desired, r2.Desired) {
		t.Fatal("evaluated spec differs from its plain form")
	}
}

func TestLimits(t *testing.T) {
	l := newTestLoader(t)
	fsys := fstest.MapFS{}
	for i := 0; i < 5; i++ {
		fsys["f"+strconv.Itoa(i)+".cue"] = &fstest.MapFile{Data: []byte("package x\n")}
	}
	res, err := l.Load(fsys, Options{Limits: Limits{MaxFiles: 4, MaxFileBytes: 1 << 20, MaxBytes: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Err() == nil || !strings.Contains(res.Err().Error(), "5 spec files exceed the limit of 4") {
		t.Fatalf("file count limit not enforced: %v", res.Err())
	}
	big := fstest.MapFS{"big.cue": {Data: []byte("package x\n// " + strings.Repeat("x", 2000) + "\n")}}
	res, err = l.Load(big, Options{Limits: Limits{MaxFiles: 10, MaxFileBytes: 1000, MaxBytes: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Err() == nil || !strings.Contains(res.Err().Error(), "over the limit of 1000") {
		t.Fatalf("file size limit not enforced: %v", res.Err())
	}
}

// An expensive evaluation is refused at the budget instead of hanging.
func TestEvalBudget(t *testing.T) {
	l := newTestLoader(t)
	// A comprehension that builds a 120×120 struct: not plain data, slow
	// (0.3 s here), and not so slow that the evaluation given up on goes
	// on for long in the background (400×400: 40 s, which a test counting
	// allocations then waits for).
	slow := fstest.MapFS{"a.cue": {Data: []byte(`package fleet
import "list"
_n: [for i in list.Range(0, 120, 1) {i}]
_big: {for i in _n for j in _n {"k\(i)_\(j)": i * j}}
all: vars: _big
`)}}
	res, err := l.Load(slow, Options{Limits: Limits{MaxFiles: 10, MaxFileBytes: 1 << 20, MaxBytes: 1 << 20, EvalTimeout: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Err() == nil || !strings.Contains(res.Err().Error(), "CUE evaluation took longer than 50ms") {
		t.Fatalf("not refused at the budget: %v", res.Err())
	}
}
