package spec

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"go.yaml.in/yaml/v3"
)

// anchorBomb is a small inventory file whose nested anchors expand to
// 10^levels values.
func anchorBomb(group string, levels int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "all:\n  children:\n    %s:\n      vars:\n        a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n", group)
	for i := 1; i < levels; i++ {
		fmt.Fprintf(&b, "        a%d: &a%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	return []byte(b.String())
}

// allocated runs f and returns the bytes it allocated, an upper bound of
// the memory it held at its peak.
func allocated(f func()) uint64 {
	evaluations.Wait() // one a test before gave up on allocates still
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func memoryRefusal(t *testing.T, res *Result) Problem {
	t.Helper()
	err := res.Err()
	if err == nil || !errors.Is(err, ErrMemoryBudget) {
		t.Fatalf("not refused for its memory budget: %v", err)
	}
	if res.Final() != true || res.Desired != nil {
		t.Error("a refusal for the memory budget is final and yields no model")
	}
	ps := problemsOf(res.Problems, RuleMemory)
	if len(ps) != 1 {
		t.Fatalf("want one memory problem, got:\n%s", dump(res.Problems))
	}
	return ps[0]
}

// 24 files of 600 bytes, each expanding to a million values (about
// 52 MiB of data tree each, 1.2 GiB in all): the budget is one for the
// whole load, so the load is refused at the first file that does not fit,
// in name order, whatever was parsed at the same time, and allocates a
// small multiple of the budget, not the sum of the files.
func TestBudgetManySmallAnchorFiles(t *testing.T) {
	fsys := fstest.MapFS{}
	for i := 0; i < 24; i++ {
		fsys[fmt.Sprintf("b%02d.yml", i)] = &fstest.MapFile{Data: anchorBomb(fmt.Sprintf("g%d", i), 6)}
	}
	const budget = 32 << 20
	lim := DefaultLimits
	lim.MaxMemory = budget
	l := newTestLoader(t)
	var first Problem
	for run := 0; run < 2; run++ {
		var res *Result
		n := allocated(func() {
			var err error
			if res, err = l.Load(fsys, Options{Limits: lim}); err != nil {
				t.Fatal(err)
			}
		})
		p := memoryRefusal(t, res)
		if p.Pos.File != "b00.yml" || !strings.Contains(p.Message, "memory budget of 32.0 MiB") {
			t.Errorf("refused at %s, want b00.yml (the first that does not fit): %s", p.Pos, p)
		}
		if run == 1 && p.String() != first.String() {
			t.Errorf("two loads of the same files refused differently:\n%s\n%s", first, p)
		}
		first = p
		if n > 4*budget {
			t.Errorf("the refused load allocated %d MiB, over 4 × the %d MiB budget", n>>20, budget>>20)
		}
	}
}

// Files under the budget each are refused together, at the file that
// crosses it, naming what the files before took.
func TestBudgetIsForTheWholeLoad(t *testing.T) {
	fsys := fstest.MapFS{}
	for i := 0; i < 6; i++ {
		fsys[fmt.Sprintf("b%02d.yml", i)] = &fstest.MapFile{Data: anchorBomb(fmt.Sprintf("g%d", i), 5)} // 5.2 MiB each (the data tree's node sizes)
	}
	lim := DefaultLimits
	lim.MaxMemory = 14 << 20
	res, err := newTestLoader(t).Load(fsys, Options{Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	p := memoryRefusal(t, res)
	if p.Pos.File != "b02.yml" || !strings.Contains(p.Message, "the files before it took 10.4 MiB") {
		t.Errorf("want the refusal at b02.yml, after two files of 5.2 MiB: %s", p)
	}
	lim.MaxMemory = 40 << 20
	res, err = newTestLoader(t).Load(fsys, Options{Limits: lim, Profile: "none"})
	if err != nil {
		t.Fatal(err)
	}
	if errors.Is(res.Err(), ErrMemoryBudget) {
		t.Errorf("31 MiB of data refused by a 40 MiB budget: %v", res.Err())
	}
}

// One big valid file loads with the default budget, and is refused,
// before yaml.v3 builds its tree, by a budget it does not fit.
func TestBudgetBigValidFile(t *testing.T) {
	data := fleetYAML(200, 50, 20) // 3.8 MB
	fsys := fstest.MapFS{"pigsty.yml": {Data: data}}
	l := newTestLoader(t)
	res, err := l.Load(fsys, Options{Profile: "none"})
	if err != nil || res.Err() != nil {
		t.Fatal(err, res.Err())
	}
	lim := DefaultLimits
	lim.MaxMemory = 4 << 20
	n := allocated(func() {
		if res, err = newTestLoader(t).Load(fsys, Options{Limits: lim}); err != nil {
			t.Fatal(err)
		}
	})
	if p := memoryRefusal(t, res); p.Pos.File != "pigsty.yml" {
		t.Errorf("refused at %s", p.Pos)
	}
	// The file itself is read whole; the reader stops at the budget (read
	// to its end, this file's tree alone takes more than 8 MiB of budget).
	if limit := uint64(len(data)) + 2*uint64(lim.MaxMemory); n > limit {
		t.Errorf("the refused load allocated %d MiB, over the file's %d MiB and twice its budget", n>>20, len(data)>>20)
	}
}

// The CUE evaluator's memory and the tree it exports count against the
// budget too.
func TestBudgetCUEEvaluator(t *testing.T) {
	fsys := fstest.MapFS{"a.cue": {Data: []byte(`package fleet
import "list"
_n: [for i in list.Range(0, 300, 1) {i}]
all: vars: {for i in _n for j in _n {"k\(i)_\(j)": i * j}}
`)}}
	lim := DefaultLimits
	lim.MaxMemory = 4 << 20
	lim.EvalTimeout = time.Minute
	res, err := newTestLoader(t).Load(fsys, Options{Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	if p := memoryRefusal(t, res); p.Pos.File != "a.cue" || !strings.Contains(p.Message, "evaluating the CUE files a.cue") {
		t.Errorf("refusal: %s", p)
	}
}

// The estimate of yaml.v3's tree is from above, also for scalars and
// comments that hide separators.
func TestYAMLNodesEstimate(t *testing.T) {
	for _, c := range []struct {
		src string
		min int64
	}{
		{`["#", a, a, a, a]`, 6},
		{`{a: 'x # y', b: "q\" # z", c: [1, 2]}`, 9},
		{"- a\n- b # c d e\n-\n", 5},
		{"a: b\n# x: y\nc: d\n", 4},
	} {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(c.src), &doc); err != nil {
			t.Fatal(err)
		}
		if got := yamlNodes([]byte(c.src)); got < c.min || got < countNodes(&doc) {
			t.Errorf("%q: estimate %d, yaml.v3 builds %d", c.src, got, countNodes(&doc))
		}
	}
}

func countNodes(n *yaml.Node) int64 {
	c := int64(1)
	for _, k := range n.Content {
		c += countNodes(k)
	}
	return c
}

// A CUE file that is not plain data is read twice before the evaluator
// sees it (the fast reader, then cue/parser's syntax tree), and each
// gives up at the reference at its end: neither partial tree stays
// charged to the budget, which only the evaluator's exported tree uses.
func TestBudgetNotPlainCUEChargedOnce(t *testing.T) {
	var b strings.Builder
	b.WriteString("package fleet\n")
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&b, "k%d: {name: \"v%d\", n: %d}\n", i, i, i)
	}
	b.WriteString("last: k0.name\n")
	shared := &budget{limit: 1 << 30}
	m := newMeter(shared)
	cf, ps := parseCUE("a.cue", []byte(b.String()), m)
	if cf == nil || len(ps) != 0 {
		t.Fatalf("parseCUE = %v, %v", cf, ps)
	}
	if cf.data != nil {
		t.Fatal("read as plain data")
	}
	if m.persistent != 0 || shared.used.Load() != 0 {
		t.Errorf("a file left to the evaluator still charges %d bytes (budget used: %d)", m.persistent, shared.used.Load())
	}
}
