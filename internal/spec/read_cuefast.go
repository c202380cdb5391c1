package spec

import (
	"bytes"
	"unicode/utf8"
	"unique"

	"cuelang.org/go/cue/literal"
)

// fastPlainCUE reads a .cue file that is plain data (the usual hand-written
// spec: a package clause, fields, struct and list literals, strings,
// numbers, booleans, null, comments) straight into a data tree, about ten
// times faster than cue/parser. It gives up (ok == false) on anything else
// — references, definitions, constraints, attributes, interpolation,
// multi-line or raw strings, unusual numbers, even a syntax error — and
// the caller then uses cue/parser, which is authoritative. A fuzz test
// checks that whenever this succeeds, cue/parser yields the same tree.
//
// m is charged for the tree; when the budget runs out, ok is false and
// m.out is set.
func fastPlainCUE(file string, src []byte, m *meter) (pkg string, root *node, ok bool) {
	pkg, root, _, ok = fastPlainCUESplit(file, src, m, defaultSplit())
	return pkg, root, ok
}

// fastPlainCUESplit is fastPlainCUE with big list literals split as split
// says (read_cuesplit.go); splits counts the lists read in parts.
func fastPlainCUESplit(file string, src []byte, m *meter, split splitting) (pkg string, root *node, splits int, ok bool) {
	if !utf8.Valid(src) || bytes.HasPrefix(src, []byte("\xef\xbb\xbf")) || bytes.IndexByte(src, 0) >= 0 {
		return "", nil, 0, false
	}
	s := &fastScanner{file: unique.Make(file), src: src, line: 1, lineStart: 0, m: m, split: split}
	// UTF-8 without NUL, checked above: only an escape can put either in
	// a string, so without a backslash the nodes are clean (node.clean).
	s.clean = bytes.IndexByte(src, '\\') < 0
	s.strs.presize(len(src) / 4) // a big list in it is read by parts, each its own
	mark := m.mark()
	defer func() {
		if r := recover(); r != nil {
			if _, bail := r.(fastBail); !bail {
				panic(r)
			}
			pkg, root, splits, ok = "", nil, 0, false
			m.undo(mark) // the slower readers charge the tree afresh
		}
	}()
	s.skipSpace(true)
	if s.peekWord("package") {
		s.word() // package
		s.skipSpace(false)
		pkg = s.ident()
		s.endDecl()
	}
	root = s.node(kindMap, place{file: s.file, line: 1, col: 1})
	root.setFields(s.fields(0))
	if s.pos != len(s.src) {
		s.bail()
	}
	return pkg, root, s.splits, true
}

type fastBail struct{}

type fastScanner struct {
	file      unique.Handle[string]
	strs      interner
	scratch   // per nesting depth: a collection is copied once, at its final size
	src       []byte
	pos       int
	line      int
	lineStart int
	m         *meter

	split  splitting // the root scanner's; a part's never splits
	splits int       // lists read in parts
}

func (s *fastScanner) bail() { panic(fastBail{}) }

func (s *fastScanner) here() place {
	return place{file: s.file, line: int32(s.line), col: int32(s.pos - s.lineStart + 1)}
}

func (s *fastScanner) intern(b []byte) string { return s.strs.str(b) }

// skipSpace skips blanks and comments; newlines only when nl is true.
// It reports whether a newline was crossed.
func (s *fastScanner) skipSpace(nl bool) bool {
	crossed := false
	for s.pos < len(s.src) {
		switch c := s.src[s.pos]; {
		case c == ' ' || c == '\t' || c == '\r':
			s.pos++
		case c == '\n':
			if !nl {
				return crossed
			}
			crossed = true
			s.pos++
			s.line++
			s.lineStart = s.pos
		case c == '/' && s.pos+1 < len(s.src) && s.src[s.pos+1] == '/':
			for s.pos < len(s.src) && s.src[s.pos] != '\n' {
				s.pos++
			}
		default:
			return crossed
		}
	}
	return crossed
}

func isLetter(c byte) bool {
	return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (s *fastScanner) peekWord(w string) bool {
	end := s.pos + len(w)
	return end <= len(s.src) && string(s.src[s.pos:end]) == w && (end == len(s.src) || !isLetter(s.src[end]) && !isDigit(s.src[end]))
}

func (s *fastScanner) word() string {
	start := s.pos
	for s.pos < len(s.src) && (isLetter(s.src[s.pos]) || isDigit(s.src[s.pos])) {
		s.pos++
	}
	return s.intern(s.src[start:s.pos])
}

// ident reads a plain identifier (no #definitions, no _hidden names, no
// keywords).
func (s *fastScanner) ident() string {
	if s.pos >= len(s.src) || !isLetter(s.src[s.pos]) || s.src[s.pos] == '_' {
		s.bail()
	}
	w := s.word()
	switch w {
	case "package", "import", "for", "in", "if", "let", "true", "false", "null", "_":
		s.bail()
	}
	if w[0] == '$' {
		s.bail()
	}
	return w
}

// endDecl consumes the separator after a declaration or element: a comma,
// or a newline (CUE inserts the comma), or nothing before a closing
// bracket or the end of input.
func (s *fastScanner) endDecl() {
	crossed := s.skipSpace(false)
	if s.pos >= len(s.src) {
		return
	}
	switch s.src[s.pos] {
	case ',':
		s.pos++
	case '\n':
		crossed = true
	case '}', ']':
		return
	default:
		if !crossed {
			s.bail()
		}
	}
	s.skipSpace(true)
}

// fields reads declarations until a closing brace or the end.
func (s *fastScanner) fields(depth int) []field {
	fs := s.fieldBuf(depth)
	for {
		s.skipSpace(true)
		if s.pos >= len(s.src) || s.src[s.pos] == '}' {
			return s.keepFields(fs, depth)
		}
		s.field(&fs, depth)
		s.endDecl()
	}
}

// field reads `label: value` (and the shorthand `a: b: value`).
func (s *fastScanner) field(fs *[]field, depth int) {
	keyPos := s.here()
	var key string
	if s.src[s.pos] == '"' {
		key = s.simpleString()
	} else {
		key = s.ident()
	}
	if s.pos >= len(s.src) || s.src[s.pos] != ':' {
		s.bail() // ? ! constraints, aliases, embeddings …
	}
	s.pos++
	s.skipSpace(false)
	var v *node
	if s.pos < len(s.src) && (isLetter(s.src[s.pos]) || s.src[s.pos] == '"') && s.isLabel() {
		at := s.here()
		var inner []field
		s.field(&inner, depth+1)
		v = s.node(kindMap, at)
		v.setFields(inner)
	} else {
		v = s.value(depth + 1)
	}
	if i := fieldIndex(*fs, key); i >= 0 {
		ok := true
		(*fs)[i].value = unify((*fs)[i].value, v, "", func(Problem) { ok = false })
		if !ok {
			s.bail() // let CUE report the conflict
		}
		return
	}
	*fs = append(*fs, newField(key, keyPos, v))
}

// isLabel looks ahead: is the identifier or string at pos followed by ':'?
func (s *fastScanner) isLabel() bool {
	p := s.pos
	if s.src[p] == '"' {
		p++
		for p < len(s.src) && s.src[p] != '"' {
			if s.src[p] == '\\' {
				p++
			}
			if p < len(s.src) && s.src[p] == '\n' {
				return false
			}
			p++
		}
		p++
	} else {
		for p < len(s.src) && (isLetter(s.src[p]) || isDigit(s.src[p])) {
			p++
		}
	}
	return p < len(s.src) && s.src[p] == ':'
}

func (s *fastScanner) value(depth int) *node {
	if depth > 100 || !s.m.charge(nodeCost+fieldCost) || s.pos >= len(s.src) {
		s.bail()
	}
	pos := s.here()
	switch c := s.src[s.pos]; {
	case c == '{':
		s.pos++
		fs := s.fields(depth)
		if s.pos >= len(s.src) || s.src[s.pos] != '}' {
			s.bail()
		}
		s.pos++
		m := s.node(kindMap, pos)
		m.setFields(fs)
		return m
	case c == '[':
		s.pos++
		if s.split.parts > 1 && len(s.src)-s.pos >= s.split.minBytes {
			if items, ok := s.splitList(depth); ok {
				l := s.node(kindList, pos)
				l.setItems(items)
				return l
			}
		}
		items, _ := s.listItems(depth, true)
		l := s.node(kindList, pos)
		l.setItems(items)
		return l
	case c == '"':
		str := s.simpleString()
		s.m.charge(int64(len(str)))
		return s.scalar(kindString, str, pos)
	case c == '-' || isDigit(c):
		return s.number(pos)
	case isLetter(c):
		switch s.word() {
		case "true":
			return s.scalar(kindBool, "true", pos)
		case "false":
			return s.scalar(kindBool, "false", pos)
		case "null":
			return s.node(kindNull, pos)
		}
	}
	s.bail()
	return nil
}

// listItems reads a list literal's elements from s.pos (just after its
// '[' or a separator) to its ']', consumed (closed). serial is false for
// a part of a split list (read_cuesplit.go), which may also end at the end
// of its input, between elements (not closed), and keeps its items in its
// scratch buffer.
func (s *fastScanner) listItems(depth int, serial bool) (items []*node, closed bool) {
	items = s.itemBuf(depth)
	for {
		s.skipSpace(true)
		switch {
		case s.pos < len(s.src) && s.src[s.pos] == ']':
			s.pos++
			if serial {
				items = s.keepItems(items, depth)
			}
			return items, true
		case s.pos >= len(s.src) && !serial:
			return items, false
		}
		items = append(items, s.value(depth+1))
		s.endDecl()
	}
}

// simpleString reads a one-line double-quoted string and unquotes it with
// CUE's own rules.
func (s *fastScanner) simpleString() string {
	start, escaped := s.pos, false
	if s.pos+2 < len(s.src) && s.src[s.pos+1] == '"' && s.src[s.pos+2] == '"' {
		s.bail() // """ multi-line string
	}
	s.pos++
	for {
		if s.pos >= len(s.src) || s.src[s.pos] == '\n' {
			s.bail()
		}
		c := s.src[s.pos]
		if c == '\\' {
			if s.pos+1 < len(s.src) && s.src[s.pos+1] == '(' {
				s.bail() // interpolation
			}
			escaped = true
			s.pos += 2
			continue
		}
		s.pos++
		if c == '"' {
			break
		}
	}
	if body := s.src[start+1 : s.pos-1]; !escaped { // UTF-8: the file is, and quotes are ASCII
		return s.intern(body) // what Unquote would return, without its copies
	}
	v, err := literal.Unquote(string(s.src[start:s.pos]))
	if err != nil {
		s.bail()
	}
	return v
}

// number reads -?digits or -?digits.digits[e[+-]digits]; anything fancier
// (hex, underscores, multipliers, leading zeros) is left to CUE.
func (s *fastScanner) number(pos place) *node {
	start := s.pos
	if s.src[s.pos] == '-' {
		s.pos++
	}
	digits := func() int {
		d := s.pos
		for s.pos < len(s.src) && isDigit(s.src[s.pos]) {
			s.pos++
		}
		return s.pos - d
	}
	intStart := s.pos
	if digits() == 0 {
		s.bail()
	}
	if s.src[intStart] == '0' && s.pos-intStart > 1 {
		s.bail()
	}
	k := kindInt
	if s.pos < len(s.src) && s.src[s.pos] == '.' {
		s.pos++
		if digits() == 0 {
			s.bail()
		}
		k = kindFloat
		if s.pos < len(s.src) && (s.src[s.pos] == 'e' || s.src[s.pos] == 'E') {
			s.pos++
			if s.pos < len(s.src) && (s.src[s.pos] == '+' || s.src[s.pos] == '-') {
				s.pos++
			}
			if digits() == 0 {
				s.bail()
			}
		}
	}
	if s.pos < len(s.src) && (isLetter(s.src[s.pos]) || s.src[s.pos] == '.') {
		s.bail()
	}
	text := s.intern(s.src[start:s.pos])
	if text == "-0" {
		text = "0"
	}
	return s.scalar(k, text, pos)
}
