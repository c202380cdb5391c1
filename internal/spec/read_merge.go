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
	owned  map[*node]map[string]int
}

func (m *merger) unify(n, o *node, path string) *node {
	if n == nil {
		return o
	}
	if o == nil {
		return n
	}
	if n.kind == kindMap && o.kind == kindMap {
		out, idx := n, m.owned[n]
		if _, mine := m.owned[n]; !mine {
			out = &node{kind: kindMap, pos: n.pos, fields: append(make([]field, 0, len(n.fields)+len(o.fields)), n.fields...)}
			if m.owned == nil {
				m.owned = map[*node]map[string]int{}
			}
			m.owned[out] = nil
		}
		if idx == nil && len(out.fields)*len(o.fields) > 64 {
			// Big maps (a fleet's clusters): no quadratic scans.
			idx = make(map[string]int, len(out.fields)+len(o.fields))
			for i, f := range out.fields {
				idx[f.key] = i
			}
			m.owned[out] = idx
		}
		for _, of := range o.fields {
			i := -1
			if idx != nil {
				if j, ok := idx[of.key]; ok {
					i = j
				}
			} else {
				i = out.index(of.key)
			}
			if i < 0 {
				if idx != nil {
					idx[of.key] = len(out.fields)
				}
				out.fields = append(out.fields, of)
				continue
			}
			out.fields[i].value = m.unify(out.fields[i].value, of.value, joinPath(path, of.key))
		}
		return out
	}
	if !n.equal(o) {
		m.report(Problem{Pos: o.pos, Rule: RuleConflict,
			Message: fmt.Sprintf("%s: conflicting values %s and %s (other value at %s)", path, o.shape(), n.shape(), n.pos)})
	}
	return n
}
