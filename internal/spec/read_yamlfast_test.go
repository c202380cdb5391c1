package spec

import (
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// yamlSeeds are the inventory files the tests know: the example
// repository's, every testdata archive's, and the benchmark workloads.
func yamlSeeds(t testing.TB) map[string][]byte {
	t.Helper()
	seeds := map[string][]byte{}
	b, err := os.ReadFile("../../examples/repo/pigsty.yml")
	if err != nil {
		t.Fatal(err)
	}
	seeds["examples/repo/pigsty.yml"] = b
	archives, _ := filepath.Glob("testdata/*/*.txtar")
	for _, a := range archives {
		ar, err := txtar.ParseFile(a)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ar.Files {
			if ext := filepath.Ext(f.Name); ext == ".yml" || ext == ".yaml" {
				seeds[a+"/"+f.Name] = f.Data
			}
		}
	}
	seeds["bench 1k roles"] = rolesSpec(10, 1000, false)["pigsty.yml"].Data
	seeds["fleetYAML"] = fleetYAML(3, 5, 4)
	return seeds
}

// TestFastYAMLAgreesWithYAMLv3: on every known inventory that the fast
// reader accepts, yaml.v3 yields the same tree, positions included; and
// it does accept the usual ones (the example repository's, Pigsty's
// style, the benchmarks'), so that they take the fast path.
func TestFastYAMLAgreesWithYAMLv3(t *testing.T) {
	accepted := map[string]bool{}
	for name, data := range yamlSeeds(t) {
		fast, ok := fastYAML("f.yml", data, nil)
		if !ok {
			continue
		}
		accepted[name] = true
		slow, problems := readYAMLSlow("f.yml", data, nil)
		if len(problems) > 0 {
			t.Errorf("%s: the fast reader accepted what yaml.v3 refuses: %v", name, problems)
			continue
		}
		if !sameTree(fast, slow) {
			t.Errorf("%s: trees differ:\nfast: %.2000s\nslow: %.2000s", name, treeString(fast), treeString(slow))
		}
	}
	for _, name := range []string{"examples/repo/pigsty.yml", "bench 1k roles", "fleetYAML"} {
		if !accepted[name] {
			t.Errorf("%s: the fast reader gave up", name)
		}
	}
	t.Logf("fast reader accepted %d inventories", len(accepted))
}

// splitAgrees checks that reading data with every block sequence split
// agrees with the serial read (see splitReadsAgree).
func splitAgrees(t testing.TB, data []byte) (splits int) {
	t.Helper()
	return splitReadsAgree(t, func(m *meter, split splitting) (*node, int, bool) {
		return fastYAMLSplit("f.yml", data, m, split)
	})
}

// splitReadsAgree checks that a fast read with every sequence or list
// split (into 2, 3 and 7 parts) yields what the serial read does: the
// same verdict, the same tree, the same charge to the budget; it returns
// how many the 3-part read split.
func splitReadsAgree(t testing.TB, read func(*meter, splitting) (root *node, splits int, ok bool)) (splits int) {
	t.Helper()
	serialMeter := newMeter(&budget{limit: 1 << 40})
	serial, _, ok := read(serialMeter, splitting{})
	for _, parts := range []int{2, 3, 7} {
		m := newMeter(&budget{limit: 1 << 40})
		split, n, splitOK := read(m, splitting{minBytes: 1, parts: parts})
		switch {
		case splitOK != ok:
			t.Fatalf("%d parts: the split read accepts: %v, the serial read: %v", parts, splitOK, ok)
		case ok && !sameTree(split, serial):
			t.Fatalf("%d parts: trees differ:\nsplit:  %.2000s\nserial: %.2000s", parts, treeString(split), treeString(serial))
		case m.persistent != serialMeter.persistent || m.b.used.Load() != serialMeter.b.used.Load():
			t.Fatalf("%d parts: charged %d (budget %d), serially %d (%d)", parts, m.persistent, m.b.used.Load(), serialMeter.persistent, serialMeter.b.used.Load())
		}
		if parts == 3 {
			splits = n
		}
	}
	return splits
}

// TestSplitYAMLAgreesWithSerial: big block sequences read in parts (a
// pg_users of thousands of roles, read on every core) read exactly as
// serially, on every known inventory and on sequences whose line scan
// misleads the cuts; and the benchmark's workload is split by default.
func TestSplitYAMLAgreesWithSerial(t *testing.T) {
	for name, data := range yamlSeeds(t) {
		t.Run(name, func(t *testing.T) { splitAgrees(t, data) })
	}
	for _, src := range []string{
		"all:\n  a:\n  - x\n  - y\n  b:\n  - z\n  - w\n",                         // a short sequence, then another in its column
		"all:\n  a:\n  - x\n  - y\n  b: {c: [\n  - z]}\n",                        // a dash line the sequence does not reach
		"all:\n- [a,\n- b]\n",                                                    // a flow sequence continued in the dashes' column
		"all:\n- a\n\n# c\n   # d\n- b\n-   c: 1\n    d: [1, 2]\n- - e\n  - f\n", // blanks, comments, nested sequences
		"all:\n- a\n-\n",             // an empty last item
		"all:\n- a\n- b\nx: - c\n",   // junk after the sequence
		"all:\n- a\n- b\n---\n- c\n", // a document marker
	} {
		splitAgrees(t, []byte(src))
	}
	if n := splitAgrees(t, []byte("all:\n  x:\n  - 1\n  - 2\n  - 3\n")); n != 1 {
		t.Errorf("a 3-item sequence: %d sequences split, want 1", n)
	}
	big := rolesSpec(100, 10000, false)["pigsty.yml"].Data
	if _, n, ok := fastYAMLSplit("f.yml", big, nil, splitting{minBytes: defaultSplit().minBytes, parts: 2}); !ok || n != 1 {
		t.Errorf("the 10k roles workload: ok %v, %d sequences split, want 1", ok, n)
	}
}

// TestSplitYAMLBudget: a budget that runs out inside a part ends the read
// as it ends a serial one.
func TestSplitYAMLBudget(t *testing.T) {
	data := rolesSpec(10, 1000, false)["pigsty.yml"].Data
	full := newMeter(&budget{limit: 1 << 40})
	if _, _, ok := fastYAMLSplit("f.yml", data, full, splitting{}); !ok {
		t.Fatal("the fast reader gave up")
	}
	for _, limit := range []int64{full.persistent / 3, full.persistent - 100} {
		serial := newMeter(&budget{limit: limit})
		_, _, serialOK := fastYAMLSplit("f.yml", data, serial, splitting{})
		split := newMeter(&budget{limit: limit})
		_, _, splitOK := fastYAMLSplit("f.yml", data, split, splitting{minBytes: 1, parts: 4})
		if serialOK || splitOK || !serial.spent() || !split.spent() {
			t.Errorf("limit %d: ok %v/%v, spent %v/%v (serial/split), want a spent budget both ways", limit, serialOK, splitOK, serial.spent(), split.spent())
		}
	}
}

// TestFastYAMLGivesUp: what the fast reader does not read exactly as
// yaml.v3 does, it leaves to yaml.v3.
func TestFastYAMLGivesUp(t *testing.T) {
	for _, src := range []string{
		"all: &a {x: 1}\nb: *a\n",     // anchors, aliases
		"all:\n  <<: {x: 1}\n",        // merge key
		"all: !!str 1\n",              // tags
		"all: |\n  text\n",            // block scalar
		"all: a\n  b\n",               // multi-line plain scalar
		"all: \"a\\tb\"\n",            // escapes
		"all: 1\nall: 2\n",            // duplicate key
		"all:\n",                      // empty value
		"all: 0b101\n",                // binary
		"all: 1_000\n",                // underscores
		"all: .inf\n",                 // infinity
		"all: 18446744073709551615\n", // beyond int64 (yaml.v3: uint64)
		"---\nall: 1\n",               // document marker
		"all: {a: 1, # c\n  b: 2}\n",  // comment in a flow mapping
		"all: [a #b]\n",               // comment after a flow plain scalar
		"all: {a: &x 1}\n",            // an anchor in a flow mapping
		"all: [*x]\n",                 // an alias in a flow sequence
		"all: [!!str 1]\n",            // a tag in a flow sequence
		"all: {a: |x}\n",              // a block indicator in a flow mapping
		"0: \u0085\n",                 // NEL, a line break to libyaml (FuzzFastYAML found it)
		"all: a\u2028b\n",             // LS, the same
		"all: [a\u2029]\n",            // PS, the same
		"all: {a: b c #d}\n",          // the same, after a blank inside it
		"all: {a:b}\n",                // colon inside a flow plain scalar
		"all: [a: b]\n",               // implicit mapping in a sequence
		"all: [a,]\n",                 // trailing comma
		"all:\n\tx: 1\n",              // tab
		"all: 'a\n  b'\n",             // multi-line quoted scalar
		"all: [a\n  b]\n",             // folded plain scalar in a flow sequence
		"all: x #c\n b: 1\n",          // more indented line
		"all: {a: 1}x\n",              // junk after a value
		"  all: 1\n",                  // indented document
		"all:\n- a\n-\n",              // empty item
		"all: a: b\n",                 // a mapping where a scalar is
	} {
		if _, ok := fastYAML("f.yml", []byte(src), nil); ok {
			t.Errorf("fast reader accepted %q", src)
		}
	}
}

// FuzzFastYAML checks the fast YAML reader against yaml.v3: when the fast
// reader accepts a file, yaml.v3 must accept it too and yield the same
// tree, positions included; and its reads with every block sequence split
// in parts against its serial read.
func FuzzFastYAML(f *testing.F) {
	for _, data := range yamlSeeds(f) {
		f.Add(data)
	}
	f.Add([]byte("all:\n  children:\n    x:\n    - {a: 'it''s', b: [1, -2, 3.5, 1e3, 0x1f, 007, ~, yes, On, 2024-01-01]}\n    - k: v # c\n      l: \"q\"\n"))
	f.Add([]byte("all: {a: [1,\n    2], b: {c: d}}\nx:\n- - a\n  - b\n"))
	f.Add([]byte("all: [a#b, c d#e, g#, 'f #g']\n")) // a '#' inside a flow plain scalar, and quoted
	// Escapes that decode to NUL: a fast reader that read them must not
	// flag their nodes clean (cleanHolds).
	f.Add([]byte("all: {a: \"x\\0y\"}\n"))
	f.Add([]byte("all: {\"k\\0\": 1}\n"))
	f.Add([]byte("all:\n  b: \"\\x00\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		splitAgrees(t, data)
		fast, ok := fastYAML("f.yml", data, nil)
		if !ok {
			return
		}
		cleanHolds(t, fast)
		slow, problems := readYAMLSlow("f.yml", data, nil)
		if len(problems) > 0 {
			t.Fatalf("fast reader accepted what yaml.v3 refuses: %v", problems)
		}
		if slow == nil || !sameTree(fast, slow) {
			t.Fatalf("trees differ:\nfast: %s\nslow: %s", treeString(fast), treeString(slow))
		}
	})
}

// cleanHolds fails t when a node flagged clean holds text the schema
// walk's text check would refuse: the walk skips those nodes.
func cleanHolds(t *testing.T, n *node) {
	t.Helper()
	if !n.clean {
		return
	}
	switch n.kind {
	case kindString:
		if msg := textFault(n.scalar(), false); msg != "" {
			t.Fatalf("a clean node at %s: %s", n.pos(), msg)
		}
	case kindMap:
		for _, f := range n.fields() {
			if msg := textFault(f.key, false); msg != "" {
				t.Fatalf("a clean map at %s: key %s", n.pos(), msg)
			}
			cleanHolds(t, f.value)
		}
	case kindList:
		for _, it := range n.items() {
			cleanHolds(t, it)
		}
	}
}

// TestFastYAMLNodesAreClean: every node of a fast read is flagged clean,
// in parts too, so that the schema walk skips their text check; and a
// file read by yaml.v3 (here for its escapes) has no clean node.
func TestFastYAMLNodesAreClean(t *testing.T) {
	data := rolesSpec(10, 2000, false)["pigsty.yml"].Data
	root, splits, ok := fastYAMLSplit("pigsty.yml", data, nil, splitting{minBytes: 1 << 10, parts: 3})
	if !ok || splits == 0 {
		t.Fatalf("read ok %v in %d splits, want a split read", ok, splits)
	}
	var all func(n *node) int
	all = func(n *node) (unclean int) {
		if !n.clean {
			unclean++
		}
		for _, f := range n.fields() {
			unclean += all(f.value)
		}
		for _, it := range n.items() {
			unclean += all(it)
		}
		return unclean
	}
	if n := all(root); n > 0 {
		t.Errorf("%d nodes of a fast read are not flagged clean", n)
	}
	slow, problems := readYAML("f.yml", []byte("all: {a: \"x\\0y\", b: c}\n"), nil)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if n, want := all(slow), 4; n != want {
		t.Errorf("%d of yaml.v3's nodes are not flagged clean, want all %d", n, want)
	}
}

// TestYAML11Booleans: plain yes/on/off are booleans, as PyYAML (Ansible,
// Pigsty) reads them, through both readers; quoted or tagged, strings.
func TestYAML11Booleans(t *testing.T) {
	src := []byte("all: {a: yes, b: 'yes', c: Off, d: !!str on}\n")
	slow, problems := readYAMLSlow("f.yml", src, nil)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	want := map[string]kind{"a": kindBool, "b": kindString, "c": kindBool, "d": kindString}
	for k, w := range want {
		if got := slow.get("all").get(k); got.kind != w {
			t.Errorf("%s: %s (%q), want %s", k, got.kind, got.scalar(), w)
		}
	}
	fast, ok := fastYAML("f.yml", []byte("all: {a: yes, b: 'yes', c: Off}\n"), nil)
	if !ok {
		t.Fatal("fast reader gave up")
	}
	for _, k := range []string{"a", "b", "c"} {
		if got := fast.get("all").get(k); got.kind != want[k] {
			t.Errorf("fast %s: %s, want %s", k, got.kind, want[k])
		}
	}
}

func TestCanonicalInt(t *testing.T) {
	for s, want := range map[string]bool{"0": true, "7": true, "-12": true, "120": true,
		"-0": false, "+1": false, "007": false, "0x1f": false, "0o17": false, "-": false, "1e3": false} {
		if got := canonicalInt(s); got != want {
			t.Errorf("canonicalInt(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestFastYAMLBooleansAreYAML11s: the fast reader's booleans are exactly
// yaml11Bool's.
func TestFastYAMLBooleansAreYAML11s(t *testing.T) {
	for _, s := range []string{"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "y", "n", "tRUE", "oN", "nO"} {
		root, ok := fastYAML("f.yml", []byte("all: "+s+"\n"), nil)
		if !ok {
			t.Fatalf("%s: the fast reader gave up", s)
		}
		got := root.get("all")
		want, isBool := yaml11Bool[s]
		if (got.kind == kindBool) != isBool || (isBool && got.scalar() != want) {
			t.Errorf("%s: %s %q, want bool %v (%q)", s, got.kind, got.scalar(), isBool, want)
		}
	}
}

// TestPlainASCII8: the word test is the byte test, for every byte value at
// every position of a word of printable bytes, and for random words.
func TestPlainASCII8(t *testing.T) {
	byteWise := func(w []byte) bool {
		for _, c := range w {
			if c < 0x20 || c > 0x7e {
				return false
			}
		}
		return true
	}
	w := []byte("abcdefgh")
	for at := range 8 {
		for b := range 256 {
			v := slices.Clone(w)
			v[at] = byte(b)
			if got, want := plainASCII8(binary.LittleEndian.Uint64(v)), byteWise(v); got != want {
				t.Fatalf("%q: %v, want %v", v, got, want)
			}
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 100000 {
		v := binary.LittleEndian.AppendUint64(nil, rng.Uint64())
		for i := range v { // mostly printable, as in a spec
			if rng.IntN(4) > 0 {
				v[i] = 0x20 + v[i]%0x5f
			}
		}
		if got, want := plainASCII8(binary.LittleEndian.Uint64(v)), byteWise(v); got != want {
			t.Fatalf("%q: %v, want %v", v, got, want)
		}
	}
}

// TestYAMLPrintableWords: yamlPrintable with its word test answers as
// its character loop alone does, on text with line breaks, controls, DEL
// and UTF-8 (valid or not) at every offset. (The characters allowed are
// FuzzFastYAML's to check, against yaml.v3.)
func TestYAMLPrintableWords(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	odd := []string{"\n", "\t", "\x00", "\x7f", "\x1f", "é", "\u0085", "\u0080", "\xff", "\xe2\x82", "\uFFFE", "😀"}
	for range 20000 {
		var b []byte
		for range rng.IntN(40) {
			if rng.IntN(8) == 0 {
				b = append(b, odd[rng.IntN(len(odd))]...)
			} else {
				b = append(b, byte(0x20+rng.IntN(0x5f)))
			}
		}
		p, a := yamlPrintable(b)
		if wp, wa := yamlPrintableBy(b, false); p != wp || a != wa {
			t.Fatalf("%q: printable %v ascii %v, want %v %v", b, p, a, wp, wa)
		}
	}
}

// TestFastYAMLHashInFlowScalar: a '#' without a blank before it is part of
// a flow plain scalar, at its end too; the fast reader reads it, not
// yaml.v3 (FuzzFastYAML holds the two equal).
func TestFastYAMLHashInFlowScalar(t *testing.T) {
	root, ok := fastYAML("f.yml", []byte("all: [a#b, c d#e, g#]\n"), nil)
	if !ok {
		t.Fatal("the fast reader gave up")
	}
	var got []string
	for _, it := range root.get("all").items() {
		got = append(got, it.scalar())
	}
	if want := []string{"a#b", "c d#e", "g#"}; !slices.Equal(got, want) {
		t.Errorf("items %q, want %q", got, want)
	}
}

// TestMergeKeepsCleanHonest: a map merged from two files is clean only
// when both were: a clean file's map merged with one whose key holds a NUL
// (read by yaml.v3, for its escape) must be checked.
func TestMergeKeepsCleanHonest(t *testing.T) {
	clean, ok := fastYAML("a.yml", []byte("all: {x: 1}\n"), nil)
	if !ok || !clean.clean {
		t.Fatalf("fast read ok %v, clean %v", ok, clean != nil && clean.clean)
	}
	dirty, problems := readYAML("b.yml", []byte("all: {\"k\\0\": 1}\n"), nil)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	for _, order := range [][2]*node{{clean, dirty}, {dirty, clean}} {
		merged := unify(order[0], order[1], "", func(p Problem) { t.Fatal(p) })
		cleanHolds(t, merged)
	}
	twice := unify(clean, clean, "", func(p Problem) { t.Fatal(p) })
	if !twice.clean || !twice.get("all").clean {
		t.Error("two clean files merged: not flagged clean")
	}
}
