package spec

import (
	"fmt"
	"slices"
	"strings"

	"cuelang.org/go/cue/parser"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/fstest"

	"github.com/rogpeppe/go-internal/txtar"
)

// FuzzLoad feeds arbitrary bytes to the loader as a CUE file and as an
// inventory YAML file. The loader must never panic, must give the same
// answer twice (the cache must not change results), and when the data is
// plain, the compiled schema must refuse exactly what the CUE evaluator
// refuses.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/invalid/*.txtar")
	for _, s := range seeds {
		a, err := txtar.ParseFile(s)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range a.Files {
			if file.Name != "want" {
				f.Add(file.Data, filepath.Ext(file.Name) != ".cue")
			}
		}
	}
	for _, name := range []string{"pg-test.cue", "pigsty.yml"} {
		b, err := os.ReadFile(filepath.Join("../../examples/repo", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, filepath.Ext(name) != ".cue")
	}
	l := newTestLoader(f)
	f.Fuzz(func(t *testing.T, data []byte, isYAML bool) {
		name := "spec.cue"
		if isYAML {
			name = "pigsty.yml"
			data = append([]byte("all:\n"), data...)
		}
		fsys := fstest.MapFS{name: {Data: data}}
		r1, err := l.Load(fsys, Options{Profile: "strict"})
		if err != nil {
			t.Fatal(err)
		}
		r2, err := l.Load(fsys, Options{Profile: "strict"})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r1, r2) {
			t.Fatal("two loads of the same input differ")
		}
		if root := mergedTree(t, l, fsys); root != nil && root.kind == kindMap && cueExpressible(root) {
			if msg := compareRefusals(leaves(walkErrors(l.schema, root)), leaves(oracleErrors(t, l.schema, root))); msg != "" {
				t.Fatal(msg)
			}
		}
	})
}

// FuzzFastCUE checks the fast reader of plain CUE against cue/parser: when
// the fast reader accepts a file, the parser must accept it too and yield
// the same tree, positions included; and its reads with every list split
// in parts against its serial read.
func FuzzFastCUE(f *testing.F) {
	for _, name := range []string{"globals.cue", "pg-meta.cue", "pg-test.cue"} {
		b, err := os.ReadFile(filepath.Join("../../examples/repo", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	seeds, _ := filepath.Glob("testdata/invalid/*.txtar")
	for _, s := range seeds {
		a, _ := txtar.ParseFile(s)
		for _, file := range a.Files {
			if filepath.Ext(file.Name) == ".cue" {
				f.Add(file.Data)
			}
		}
	}
	f.Add([]byte("package x\na: b: c: 1\na: b: d: -2.5e3, e: \"x\\ty\"\n\"q r\": [1, 2,\n 3]\n"))
	for _, src := range cueSplitCases {
		f.Add([]byte(src))
	}
	f.Add(rolesSpec(10, 100, true)["fleet.cue"].Data)
	// Escapes that decode to NUL, in a value and in a key: their nodes
	// must not be flagged clean (cleanHolds).
	f.Add([]byte("a: \"x\\u0000y\"\n\"k\\u0000\": 1\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		cueSplitAgrees(t, src)
		pkg, fast, ok := fastPlainCUE("f.cue", src, nil)
		if !ok {
			return
		}
		cleanHolds(t, fast)
		a, err := parser.ParseFile("f.cue", src, parser.ParseComments)
		if err != nil {
			t.Fatalf("fast reader accepted what cue/parser refuses: %v", err)
		}
		if a.PackageName() != pkg {
			t.Fatalf("package %q, cue/parser says %q", pkg, a.PackageName())
		}
		slow := plainTree("f.cue", a, nil)
		if slow == nil {
			t.Fatal("fast reader accepted a file that is not plain data")
		}
		if !sameTree(fast, slow) {
			t.Fatalf("trees differ:\nfast: %s\nslow: %s", treeString(fast), treeString(slow))
		}
	})
}

// sameTree compares two trees, positions and field order included.
func sameTree(a, b *node) bool {
	if a.kind != b.kind || a.scalar() != b.scalar() || a.pos() != b.pos() || len(a.fields()) != len(b.fields()) || len(a.items()) != len(b.items()) {
		return false
	}
	for i := range a.fields() {
		if a.fields()[i].key != b.fields()[i].key || a.fields()[i].keyPos() != b.fields()[i].keyPos() || !sameTree(a.fields()[i].value, b.fields()[i].value) {
			return false
		}
	}
	for i := range a.items() {
		if !sameTree(a.items()[i], b.items()[i]) {
			return false
		}
	}
	return true
}

func treeString(n *node) string {
	var b strings.Builder
	var walk func(n *node)
	walk = func(n *node) {
		fmt.Fprintf(&b, "%s@%s", n.kind, n.pos())
		switch n.kind {
		case kindMap:
			b.WriteString("{")
			for _, f := range n.fields() {
				fmt.Fprintf(&b, "%q@%s:", f.key, f.keyPos())
				walk(f.value)
				b.WriteString(",")
			}
			b.WriteString("}")
		case kindList:
			b.WriteString("[")
			for _, it := range n.items() {
				walk(it)
				b.WriteString(",")
			}
			b.WriteString("]")
		default:
			fmt.Fprintf(&b, "(%q)", n.scalar())
		}
	}
	walk(n)
	return b.String()
}

// cueSplitCases are lists whose scan for cuts could mislead: separators
// inside strings, comments and nested literals, newlines as separators,
// lists that do not close.
var cueSplitCases = []string{
	"a: [1, \"x, y\", {b: [2, 3], c: \"]\"}, // d, e\n 4\n 5, [6, [7]]]\n",
	"a: [\"\\\", [\", 1, 2]\n",
	"a: [{b: 1,\n c: 2}, {d: 3}\n, 4]\n",
	"a: [1, 2\n",
	"a: [1, 2, 3,]\n",
	"a: [1 2]\n",
	"a: [1, 2] // c, d\nb: [3,\n\n4]\n",
	"a: [1, '2', 3]\n",
	"a: [1, \"\"\"\n2\n\"\"\", 3]\n",
}

// cueSplitAgrees checks that reading src with every list split agrees
// with the serial read (see splitReadsAgree).
func cueSplitAgrees(t testing.TB, src []byte) (splits int) {
	t.Helper()
	return splitReadsAgree(t, func(m *meter, split splitting) (*node, int, bool) {
		_, root, n, ok := fastPlainCUESplit("f.cue", src, m, split)
		return root, n, ok
	})
}

// TestFastCUENodesAreClean: every node of a fast CUE read of a file
// without a backslash is flagged clean, in parts too; with one, none is.
func TestFastCUENodesAreClean(t *testing.T) {
	data := rolesSpec(10, 2000, true)["fleet.cue"].Data
	for _, tc := range []struct {
		src   []byte
		clean bool
	}{{data, true}, {append(slices.Clone(data), "x: \"a\\tb\"\n"...), false}} {
		_, root, splits, ok := fastPlainCUESplit("f.cue", tc.src, nil, splitting{minBytes: 1 << 10, parts: 3})
		if !ok || splits == 0 {
			t.Fatalf("read ok %v in %d splits, want a split read", ok, splits)
		}
		var count func(n *node) (clean, all int)
		count = func(n *node) (clean, all int) {
			if n.clean {
				clean++
			}
			all++
			for _, f := range n.fields() {
				c, a := count(f.value)
				clean, all = clean+c, all+a
			}
			for _, it := range n.items() {
				c, a := count(it)
				clean, all = clean+c, all+a
			}
			return clean, all
		}
		if c, a := count(root); (tc.clean && c != a) || (!tc.clean && c != 0) {
			t.Errorf("backslash %v: %d of %d nodes clean", !tc.clean, c, a)
		}
	}
}

// TestSplitCUEAgreesWithSerial: big list literals read in parts read
// exactly as serially, on the example repository, the benchmark's
// workload and lists whose scan could mislead the cuts; and the 10k
// workload is split by default.
func TestSplitCUEAgreesWithSerial(t *testing.T) {
	for _, name := range []string{"globals.cue", "pg-meta.cue", "pg-test.cue"} {
		b, err := os.ReadFile(filepath.Join("../../examples/repo", name))
		if err != nil {
			t.Fatal(err)
		}
		cueSplitAgrees(t, b)
	}
	if n := cueSplitAgrees(t, rolesSpec(10, 1000, true)["fleet.cue"].Data); n == 0 {
		t.Error("the 1k workload: no list split")
	}
	for _, src := range cueSplitCases {
		cueSplitAgrees(t, []byte(src))
	}
	if n := cueSplitAgrees(t, []byte(cueSplitCases[0])); n == 0 {
		t.Errorf("%q: no list split", cueSplitCases[0])
	}
	// One list, whose strings hold separators, brackets, escapes and a
	// comment's start: a scan that did not skip strings would refuse it.
	if src := `a: ["x, ]", "y\", [", "z // w", "{"]` + "\n"; cueSplitAgrees(t, []byte(src)) == 0 {
		t.Errorf("%q: not split", src)
	}
	big := rolesSpec(100, 10000, true)["fleet.cue"].Data
	if _, _, n, ok := fastPlainCUESplit("f.cue", big, nil, splitting{minBytes: defaultSplit().minBytes, parts: 2}); !ok || n != 1 {
		t.Errorf("the 10k roles workload: ok %v, %d lists split, want 1", ok, n)
	}
}
