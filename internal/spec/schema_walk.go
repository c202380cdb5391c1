package spec

import (
	"fmt"
	"unsafe"

	"cuelang.org/go/cue"
)

// walker checks one data tree against the schema. The path of the value
// being checked is kept as a stack of keys and indices and spelt out only
// for a message: building it for every value costed more than the walk.
type walker struct {
	s        *Schema
	problems Problems
	base     string     // the path of the tree walked
	stack    []pathPart // below base

	hints map[*snode]*[16]fieldHint // per struct, see fieldAt
}

// fieldHint is what fieldAt last found for a key at one place of a map:
// the key's bytes (by address) and its field, nil when the struct has none.
type fieldHint struct {
	key *byte
	n   int
	f   *sfield
}

// fieldAt is the field of struct sn named key, the i-th key of a map
// (hints: sn's, from w.hints). The fast readers intern keys, so the
// entries of one list repeat the same key strings at the same places: the
// last key seen at i, by address and length (the same bytes: the hint
// keeps the string alive, so its address is not reused), answers without
// hashing the name. Any other string is looked up. The hints are the
// walker's, so that no key outlives the walk on the schema, which a
// daemon keeps.
func fieldAt(sn *snode, hints *[16]fieldHint, i int, key string) *sfield {
	h := &hints[i&15]
	if p := unsafe.StringData(key); p != nil && h.key == p && h.n == len(key) {
		return h.f
	}
	f := sn.fields[key]
	*h = fieldHint{unsafe.StringData(key), len(key), f}
	return f
}

// hintsFor is sn's hints for this walk.
func (w *walker) hintsFor(sn *snode) *[16]fieldHint {
	h := w.hints[sn]
	if h == nil {
		if w.hints == nil {
			w.hints = map[*snode]*[16]fieldHint{}
		}
		h = new([16]fieldHint)
		w.hints[sn] = h
	}
	return h
}

type pathPart struct {
	key   string
	index int // -1 for a key
}

func (w *walker) path() string {
	p := w.base
	for _, e := range w.stack {
		if e.index >= 0 {
			p = indexPath(p, e.index)
		} else {
			p = joinPath(p, e.key)
		}
	}
	return p
}

// secret reports whether the value being checked is a secret field.
func (w *walker) secret() bool {
	if len(w.stack) == 0 {
		return secretPath(w.base)
	}
	return w.stack[len(w.stack)-1].index < 0 && secretField(w.stack[len(w.stack)-1].key)
}

func (w *walker) fail(p Pos, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path := w.path(); path != "" {
		msg = path + ": " + msg
	}
	w.problems = append(w.problems, Problem{Pos: p, Rule: RuleSchema, Message: msg})
}

// walk checks d, found at path, against sn.
func (w *walker) walk(d *node, sn *snode, path string) {
	w.base, w.stack = path, w.stack[:0]
	w.check(d, sn)
}

func (w *walker) check(d *node, sn *snode) {
	if sn.any {
		return
	}
	if sn.kinds&cueKind(d.kind) == 0 {
		shown := d.describe()
		if w.secret() {
			shown = redacted{}.String()
		}
		w.fail(d.pos(), "expected %s, got %s %s", kindNames(sn.kinds), d.kind, shown)
		return
	}
	switch d.kind {
	case kindMap:
		v := sn.view(kindMap)
		if v == nil {
			w.fail(d.pos(), "ambiguous struct alternatives in the schema")
			return
		}
		w.checkStruct(d, v)
	case kindList:
		v := sn.view(kindList)
		if v == nil {
			w.fail(d.pos(), "ambiguous list alternatives in the schema")
			return
		}
		if v.elem == nil {
			v.elem = w.s.newNode(v.v.LookupPath(cue.MakePath(cue.AnyIndex)))
		}
		for i, it := range d.items() {
			w.stack = append(w.stack, pathPart{index: i})
			w.check(it, v.elem)
			w.stack = w.stack[:len(w.stack)-1]
		}
	default:
		secret := w.secret()
		if d.kind == kindString && !d.clean {
			w.checkText(d.pos, d.scalar(), secret)
		}
		if msg := sn.checkScalar(d, !secret); msg != "" {
			if secret {
				msg = "invalid value " + redacted{}.String()
			}
			w.fail(d.pos(), "%s", msg)
		}
	}
}

func (w *walker) checkStruct(d *node, sn *snode) {
	sn.compileStruct()
	hints := w.hintsFor(sn)
	for i, f := range d.fields() {
		w.stack = append(w.stack, pathPart{key: f.key, index: -1})
		if !d.clean {
			w.checkText(f.keyPos, f.key, false)
		}
		sf := fieldAt(sn, hints, i, f.key)
		if sf != nil {
			w.check(f.value, sf.node)
		}
		if sn.pattern != nil {
			w.check(f.value, sn.pattern)
		}
		if sf == nil && sn.pattern == nil && !sn.allows(f.key) {
			w.fail(f.keyPos(), "field not allowed%s", suggest(f.key, sn.fields))
		}
		w.stack = w.stack[:len(w.stack)-1]
	}
	for _, name := range sn.required {
		if d.get(name) == nil {
			w.stack = append(w.stack, pathPart{key: name, index: -1})
			w.fail(d.pos(), "field is required but not present")
			w.stack = w.stack[:len(w.stack)-1]
		}
	}
}

// checkText reports a string (a value or a key) that PostgreSQL cannot
// store, at its position (asked for only then).
func (w *walker) checkText(pos func() Pos, s string, secret bool) {
	if msg := textFault(s, secret); msg != "" {
		if path := w.path(); path != "" {
			msg = path + ": " + msg
		}
		w.problems = append(w.problems, Problem{Pos: pos(), Rule: RuleText, Message: msg})
	}
}

// walkNestedGroups checks the groups nested in other groups' children
// against #Group, as the schema walk does for the top-level ones.
func (w *walker) walkNestedGroups(children *node, path string, depth int) {
	if children == nil || children.kind != kindMap || depth > 50 {
		return
	}
	for _, f := range children.fields() {
		p := joinPath(path, f.key)
		if depth > 0 {
			w.walk(f.value, w.s.group, p)
		}
		if f.value.kind == kindMap {
			w.walkNestedGroups(f.value.get("children"), joinPath(p, "children"), depth+1)
		}
	}
}
