package spec

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/fstest"
)

// TestSchemaMemo loads fleets with many distinct values, as a daemon does
// over its lifetime: the schema's memo must keep no password and stay
// within its bound.
func TestSchemaMemo(t *testing.T) {
	l := newTestLoader(t)
	const users = 3000
	for round := 0; round < 3; round++ {
		var b strings.Builder
		b.WriteString("package fleet\n\nall: children: \"pg-x\": {\n\thosts: \"10.0.0.1\": {pg_seq: 1, pg_role: \"primary\"}\n")
		fmt.Fprintf(&b, "\tvars: {pg_cluster: \"pg-x\", pg_admin_password: \"MemoSecret%d\", pg_users: [\n", round)
		for u := 0; u < users; u++ {
			n := round*users + u
			fmt.Fprintf(&b, "\t\t{name: \"u%d\", password: \"MemoSecret%d\", connlimit: %d, expire_in: %d},\n", u, n, n, n)
		}
		b.WriteString("\t]}\n}\n")
		res, err := l.Load(fstest.MapFS{"a.cue": {Data: []byte(b.String())}}, Options{Profile: "none"})
		if err != nil || res.Err() != nil {
			t.Fatal(err, res.Err())
		}
	}
	seen := map[*snode]bool{}
	var visit func(n *snode)
	visit = func(n *snode) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		if len(n.memo) > maxMemo {
			t.Errorf("a schema node memoises %d values (bound %d)", len(n.memo), maxMemo)
		}
		for k := range n.memo {
			if strings.Contains(k.scalar, "MemoSecret") {
				t.Fatalf("the memo keeps a password: %q", k.scalar)
			}
		}
		for _, v := range n.views {
			visit(v)
		}
		for _, f := range n.fields {
			visit(f.node)
		}
		visit(n.pattern)
		visit(n.elem)
	}
	visit(l.schema.inventory)
	if len(seen) < 10 {
		t.Fatalf("visited only %d schema nodes", len(seen))
	}
}

// TestFieldAtIsLookup: fieldAt answers as the struct's field table, for
// keys repeated at the same place (interned, as the fast readers make
// them), for copies, and for prefixes of one string (the same address,
// another length).
func TestFieldAtIsLookup(t *testing.T) {
	s, err := LoadSchema()
	if err != nil {
		t.Fatal(err)
	}
	sn := s.group.view(kindMap)
	sn.compileStruct()
	backing := "varshostschildrenbogus"
	keys := []string{backing[:4], backing[4:9], backing[9:17], backing[17:], backing[:3], backing[:5], "vars", string([]byte("hosts")), ""}
	var hints [16]fieldHint
	rng := rand.New(rand.NewPCG(9, 10))
	for range 20000 {
		i, key := rng.IntN(20), keys[rng.IntN(len(keys))]
		if got, want := fieldAt(sn, &hints, i, key), sn.fields[key]; got != want {
			t.Fatalf("fieldAt(%d, %q) = %v, the table has %v", i, key, got, want)
		}
	}
}
