package spec

import "fmt"

// unify merges o into n with CUE's semantics for plain data: maps merge
// field by field, everything else must be equal. Conflicts are reported
// with both positions and without the values (see shape); n keeps its
// value. Neither input is changed.
func unify(n, o *node, path string, report func(Problem)) *node {
	m := merger{report: report}
	return m.unify(n, o, path)
}

// merger unifies many trees into one (the files of a load). The maps it
// makes are its own: it adds to them in place, with an index of their
// keys, so that merging one file per cluster costs what the files hold,
// not the square of their number. Input trees (cached per file) are never
// changed.
type merger struct {
	report func(Problem)
	owned  map[*node]*ownedMap
}

// ownedMap is a map node the merger made: its fields with room to grow
// (a node keeps only their length), and an index of the keys of big ones.
type ownedMap struct {
	fields []field
	idx    map[string]int
}

func (m *merger) unify(n, o *node, path string) *node {
	if n == nil {
		return o
	}
	if o == nil {
		return n
	}
	if n.kind == kindMap && o.kind == kindMap {
		out, own := n, m.owned[n]
		if own == nil {
			own = &ownedMap{fields: append(make([]field, 0, len(n.fields())+len(o.fields())), n.fields()...)}
			out = newMap(n.at(), own.fields)
			out.clean = n.clean // its keys are n's, and o's below
			if m.owned == nil {
				m.owned = map[*node]*ownedMap{}
			}
			m.owned[out] = own
		}
		if own.idx == nil && len(own.fields)*len(o.fields()) > 64 {
			// Big maps (a fleet's clusters): no quadratic scans.
			own.idx = make(map[string]int, len(own.fields)+len(o.fields()))
			for i, f := range own.fields {
				own.idx[f.key] = i
			}
		}
		out.clean = out.clean && o.clean
		for _, of := range o.fields() {
			i := -1
			if own.idx != nil {
				if j, ok := own.idx[of.key]; ok {
					i = j
				}
			} else {
				i = fieldIndex(own.fields, of.key)
			}
			if i < 0 {
				if own.idx != nil {
					own.idx[of.key] = len(own.fields)
				}
				own.fields = append(own.fields, of)
				out.setFields(own.fields)
				continue
			}
			own.fields[i].value = m.unify(own.fields[i].value, of.value, joinPath(path, of.key))
		}
		return out
	}
	if !n.equal(o) {
		m.report(Problem{Pos: o.pos(), Rule: RuleConflict,
			Message: fmt.Sprintf("%s: conflicting values %s and %s (other value at %s)", path, o.shape(), n.shape(), n.pos())})
	}
	return n
}
