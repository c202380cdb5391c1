package spec

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

// The data tree is most of a load's memory (BENCHMARKS.md): a node and a
// field stay 32 bytes.
func TestNodeSize(t *testing.T) {
	if s := unsafe.Sizeof(node{}); s != 32 {
		t.Errorf("a node is %d bytes, want 32", s)
	}
	if s := unsafe.Sizeof(field{}); s != 32 {
		t.Errorf("a field is %d bytes, want 32", s)
	}
}

// A node's one pointer holds a scalar's bytes, a map's fields or a list's
// items: each reads back only as its kind, survives collections, and an
// empty one keeps no pointer.
func TestNodeData(t *testing.T) {
	at := placeOf(Pos{File: "a.yml", Line: 3, Col: 5})
	s := newScalar(kindString, strings.Repeat("x", 3), at)
	l := newList(at, []*node{s, newScalar(kindInt, "42", at)})
	m := newMap(at, []field{newField("k", placeOf(Pos{File: "a.yml", Line: 2, Col: 1}), l)})
	runtime.GC()
	if got := m.get("k").items()[0].scalar(); got != "xxx" {
		t.Errorf("scalar after GC = %q", got)
	}
	if got := m.get("k").items()[1].scalar(); got != "42" {
		t.Errorf("second item = %q", got)
	}
	if m.scalar() != "" || m.items() != nil || l.fields() != nil || l.scalar() != "" || s.fields() != nil || s.items() != nil {
		t.Error("a node reads as another kind")
	}
	if p := m.fields()[0].keyPos(); p != (Pos{File: "a.yml", Line: 2, Col: 1}) {
		t.Errorf("key position = %v", p)
	}
	if p := s.pos(); p != (Pos{File: "a.yml", Line: 3, Col: 5}) {
		t.Errorf("position = %v", p)
	}
	if p := newNode(kindNull, place{}).pos(); p != (Pos{}) {
		t.Errorf("no position = %v", p)
	}
	for _, n := range []*node{newScalar(kindString, "", at), newMap(at, make([]field, 0, 4)), newList(at, make([]*node, 0, 4))} {
		if n.data != nil || n.n != 0 {
			t.Errorf("an empty %s keeps a pointer", n.kind)
		}
	}
	m.fields()[0].value = s // the slice is the node's
	if m.get("k") != s {
		t.Error("assigning a field through fields() did not change the node")
	}
}

// TestInterner: str always returns its bytes' string, and keeps few
// copies of each string of a spec's kind of repetition: 100 group names in
// 50,000 memberships, among 20,000 strings seen once (names, comments).
// A name used again after k strings seen once finds its slot of the
// second cache taken with a chance of about k/4,096: here ~1% of 500 uses
// of each name, so about 6 copies of each, where a copy per use would be
// 500.
func TestInterner(t *testing.T) {
	var in interner
	in.presize(2 << 20)
	copies := map[string]map[*byte]bool{}
	rng := rand.New(rand.NewPCG(3, 4))
	lookups := 0
	for u := range 10000 {
		words := []string{fmt.Sprintf("usr_%05d", u), fmt.Sprintf("user %d", u), "name", "login", "true", "false", ""}
		for range 5 {
			words = append(words, fmt.Sprintf("grp_%04d", rng.IntN(100)))
		}
		words = append(words, strings.Repeat("x", maxInterned+1))
		for _, w := range words {
			s := in.str([]byte(w))
			if s != w {
				t.Fatalf("str(%q) = %q", w, s)
			}
			if strings.HasPrefix(w, "grp_") {
				lookups++
				if copies[w] == nil {
					copies[w] = map[*byte]bool{}
				}
				copies[w][unsafe.StringData(s)] = true
			}
		}
	}
	n := 0
	for _, ps := range copies {
		n += len(ps)
	}
	if n > 10*len(copies) {
		t.Errorf("%d copies of %d group names in %d lookups, want at most %d", n, len(copies), lookups, 10*len(copies))
	}
}
