package spec

// A big CUE spec is, like a big inventory, mostly one list literal — the
// pg_users of a cluster with thousands of roles — whose elements are
// independent. So the fast CUE reader cuts such a list after separators
// (a comma or a line break) found by a scan that follows only brackets,
// strings and comments, and reads the parts at once, as the YAML reader
// does with block sequences (read_yamlsplit.go).
//
// The parts' reads prove the cuts, as there: every part but the last is
// read from a copy of the scanner cut off where the next part begins, and
// must reach that end still inside the list, between elements. A cut
// inside an element, a string or a comment leaves that part inside it at
// its end, which it refuses; so by induction each part starts between two
// elements and reads what the serial reader would. Any doubt reads the
// whole list again serially. FuzzFastCUE holds split and serial reads
// equal.

// listCut is where a part of a list starts: the offset just after a
// separator, with the line it is on and that line's start.
type listCut struct{ pos, line, lineStart int }

// listCutStop: the bytes listCuts looks at; stringStop: those it looks at
// inside a string.
var listCutStop, stringStop = byteSet("[{(]})\"'#`/,\n"), byteSet("\"\\\n")

func byteSet(s string) (set [256]bool) {
	for i := range len(s) {
		set[s[i]] = true
	}
	return set
}

// listCuts scans the list literal whose '[' is just before s.pos for
// separators between its elements, keeping at most one per gap bytes; end
// is the offset of its closing ']'. ok is false when the scan meets what
// the fast reader does not read anyway (multi-line or raw strings, byte
// literals) or the list does not close.
func (s *fastScanner) listCuts(gap int) (cuts []listCut, end int, ok bool) {
	src, line, lineStart := s.src, s.line, s.lineStart
	depth, last := 0, s.pos
	for i := s.pos; i < len(src); i++ {
		for i < len(src) && !listCutStop[src[i]] { // most bytes: one lookup
			i++
		}
		if i == len(src) {
			break
		}
		switch c := src[i]; c {
		case '[', '{', '(':
			depth++
		case ']', '}', ')':
			if depth == 0 {
				return cuts, i, c == ']'
			}
			depth--
		case '"':
			if i+2 < len(src) && src[i+1] == '"' && src[i+2] == '"' {
				return nil, 0, false
			}
			for i++; i < len(src) && src[i] != '"'; i++ {
				for i < len(src) && !stringStop[src[i]] {
					i++
				}
				if i == len(src) || src[i] == '"' {
					break
				}
				switch src[i] {
				case '\\':
					i++
				case '\n':
					return nil, 0, false
				}
			}
		case '\'', '#', '`':
			return nil, 0, false
		case '/':
			if i+1 < len(src) && src[i+1] == '/' {
				for i < len(src) && src[i] != '\n' {
					i++
				}
				i-- // the line break is a separator
			}
		case ',', '\n':
			if c == '\n' {
				line, lineStart = line+1, i+1
			}
			if depth == 0 && i+1-last >= gap {
				cuts = append(cuts, listCut{i + 1, line, lineStart})
				last = i + 1
			}
		}
	}
	return nil, 0, false
}

// splitList reads the list literal whose '[' is just before s.pos, in
// parts at once; ok is false, with nothing read or charged, when it is
// too short to split or a part did not read as the cuts said (the caller
// then reads it serially). When the list exceeds the budget, the read
// gives up as a serial one does.
func (s *fastScanner) splitList(depth int) (items []*node, ok bool) {
	gap := max(s.split.minBytes/(4*s.split.parts), 1)
	cuts, end, ok := s.listCuts(gap)
	if !ok || end-s.pos < s.split.minBytes {
		return nil, false
	}
	// The cuts nearest after equal shares of the bytes.
	starts := []listCut{{s.pos, s.line, s.lineStart}}
	for p, i := 1, 0; p < s.split.parts; p++ {
		target := s.pos + (end-s.pos)*p/s.split.parts
		for i < len(cuts) && cuts[i].pos < target {
			i++
		}
		if i == len(cuts) {
			break
		}
		starts = append(starts, cuts[i])
		i++
	}
	if len(starts) < 2 {
		return nil, false
	}

	share := partShare(s.m, len(starts))
	parts := make([]*fastScanner, len(starts))
	meters := make([]*meter, len(starts))
	for i, at := range starts {
		src := s.src
		if i+1 < len(starts) {
			src = s.src[:starts[i+1].pos]
		}
		meters[i] = share.meter()
		parts[i] = &fastScanner{file: s.file, src: src, pos: at.pos, line: at.line, lineStart: at.lineStart, m: meters[i]}
		parts[i].strs.presize(len(src) - at.pos)
		parts[i].clean = s.clean
	}
	items, cost, ok := readParts(meters, func(i int) ([]*node, bool) {
		p, last := parts[i], i+1 == len(parts)
		items, closed := p.listItems(depth, false)
		// Every part but the last ends at its cut, between elements; the
		// last at the list's ']'.
		return items, closed == last && (last || p.pos == len(p.src))
	})
	if !ok {
		return nil, false
	}
	if !s.m.charge(cost) {
		s.bail()
	}
	last := parts[len(parts)-1]
	s.pos, s.line, s.lineStart = last.pos, last.line, last.lineStart
	s.splits++
	return items, true
}
