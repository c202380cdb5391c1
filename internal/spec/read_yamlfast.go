package spec

import (
	"bytes"
	"encoding/binary"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
	"unique"
)

// fastYAML reads an inventory file written in the subset of YAML that
// Pigsty's conf/*.yml and hand-written inventories use — block mappings
// and sequences, one-line flow mappings and sequences, plain and quoted
// scalars, comments — straight into a data tree, without yaml.v3's node
// tree (which costs several times the data tree and most of the load's
// time). It gives up (ok == false) on anything else: anchors, aliases,
// merge keys, tags, block scalars, multi-line scalars, escapes, tabs, a
// duplicate key, unusual numbers, any syntax error; the caller then uses
// yaml.v3, which is authoritative and reports the problems. A fuzz test
// (FuzzFastYAML) checks that whenever this succeeds, yaml.v3 yields the
// same tree, positions included.
//
// m is charged for the tree as readYAML charges it; when the budget runs
// out, ok is false and m.out is set.
func fastYAML(file string, src []byte, m *meter) (root *node, ok bool) {
	root, _, ok = fastYAMLSplit(file, src, m, defaultSplit())
	return root, ok
}

// fastYAMLSplit is fastYAML with big block sequences split as split says
// (read_yamlsplit.go); splits counts the sequences read in parts.
func fastYAMLSplit(file string, src []byte, m *meter, split splitting) (root *node, splits int, ok bool) {
	printable, ascii := yamlPrintable(src)
	if !printable || bytes.HasPrefix(src, []byte("\xef\xbb\xbf")) {
		return nil, 0, false
	}
	if bytes.HasPrefix(src, []byte("---")) || bytes.HasPrefix(src, []byte("...")) || bytes.HasPrefix(src, []byte("%")) {
		return nil, 0, false
	}
	y := &yamlScanner{file: unique.Make(file), src: src, line: 1, m: m, split: split, ascii: ascii}
	y.clean = true               // a printable file, and quoted() refuses escapes
	y.strs.presize(len(src) / 4) // a big sequence in it is read by parts, each its own
	mark := m.mark()
	defer func() {
		if r := recover(); r != nil {
			if _, bail := r.(fastBail); !bail {
				panic(r)
			}
			root, splits, ok = nil, 0, false
			m.undo(mark) // the slow reader charges the tree afresh
		}
	}()
	if c := y.nextContent(); c != 0 {
		y.bail() // an empty file, or an indented document
	}
	root = y.block(0, 0)
	if y.nextContent() >= 0 {
		y.bail()
	}
	if root.kind != kindMap {
		y.bail()
	}
	return root, y.splits, true
}

// yamlPrintable reports whether src is UTF-8 of characters YAML allows
// in a stream (yaml.v3 refuses the others), tabs, carriage returns and the
// Unicode line breaks excepted: the fast reader leaves those to yaml.v3
// too; and whether it is all ASCII (columns are then byte offsets on
// every line).
func yamlPrintable(src []byte) (printable, ascii bool) { return yamlPrintableBy(src, true) }

// yamlPrintableBy is yamlPrintable, skipping words of printable ASCII
// when words is set (TestYAMLPrintableWords holds the two ways equal).
func yamlPrintableBy(src []byte, words bool) (printable, ascii bool) {
	ascii = true
	for i := 0; i < len(src); {
		if words && i+8 <= len(src) && plainASCII8(binary.LittleEndian.Uint64(src[i:])) {
			i += 8
			continue
		}
		n := yamlCharAt(src, i)
		if n == 0 {
			return false, false
		}
		ascii = ascii && n == 1
		i += n
	}
	return true, ascii
}

// yamlCharAt is the length of the character at src[i] when it is one
// yamlPrintable allows (a line break, printable ASCII, or UTF-8 of a
// character YAML allows), else 0. Not NEL, LS or PS (U+0085, U+2028,
// U+2029): libyaml breaks lines at them as at '\n', which the fast reader
// does not.
func yamlCharAt(src []byte, i int) int {
	if c := src[i]; c < utf8.RuneSelf {
		if (c < 0x20 && c != '\n') || c == 0x7f {
			return 0
		}
		return 1
	}
	r, n := utf8.DecodeRune(src[i:])
	if r == utf8.RuneError || r < 0xa0 || r == 0x2028 || r == 0x2029 || (r >= 0xd800 && r < 0xe000) || r == 0xfffe || r == 0xffff {
		return 0
	}
	return n
}

// plainASCII8 reports whether the eight bytes of x are printable ASCII
// (0x20 to 0x7e): a word test (any byte below 0x20, any with its top bit,
// any 0x7f) with no false negatives, for yamlPrintable to skip such words;
// words with a line break or anything else are looked at byte by byte.
func plainASCII8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	below := (x - ones*0x20) &^ x & highs
	del := x ^ ones*0x7f
	isDel := (del - ones) &^ del & highs
	return (below | x&highs | isDel) == 0
}

type yamlScanner struct {
	file      unique.Handle[string]
	src       []byte
	pos       int
	line      int
	lineStart int
	m         *meter

	ascii       bool // the whole file is ASCII: columns are byte offsets
	checkedLine int  // else the line lineASCII is about
	lineASCII   bool // and whether it is ASCII

	scratch // per nesting depth: a collection is copied once, at its final size

	strs interner

	split  splitting // the root scanner's; a part's never splits
	splits int       // sequences read in parts
}

// str is the string of b (see interner).
func (y *yamlScanner) str(b []byte) string { return y.strs.str(b) }

func (y *yamlScanner) bail() { panic(fastBail{}) }

func (y *yamlScanner) charge(n int64) {
	if !y.m.charge(n) {
		y.bail()
	}
}

// here is the position yaml.v3 gives a node starting at y.pos: columns
// count characters, not bytes.
func (y *yamlScanner) here() place {
	if !y.ascii && y.checkedLine != y.line {
		end := bytes.IndexByte(y.src[y.lineStart:], '\n')
		if end < 0 {
			end = len(y.src) - y.lineStart
		}
		y.checkedLine, y.lineASCII = y.line, isASCII(y.src[y.lineStart:y.lineStart+end])
	}
	col := y.pos - y.lineStart
	if !y.ascii && !y.lineASCII {
		col = utf8.RuneCount(y.src[y.lineStart:y.pos])
	}
	return place{file: y.file, line: int32(y.line), col: int32(col + 1)}
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func (y *yamlScanner) peek() byte {
	if y.pos < len(y.src) {
		return y.src[y.pos]
	}
	return 0
}

func (y *yamlScanner) peekAt(i int) byte {
	if y.pos+i < len(y.src) {
		return y.src[y.pos+i]
	}
	return 0
}

// blankAt reports whether the byte i ahead ends a token: a space, a
// newline or the end of the file.
func (y *yamlScanner) blankAt(i int) bool {
	c := y.peekAt(i)
	return c == ' ' || c == '\n' || c == 0
}

func (y *yamlScanner) spaces() int {
	n := 0
	for y.peek() == ' ' {
		y.pos++
		n++
	}
	return n
}

// nextContent moves to the next character that is neither blank nor in
// a comment, across lines, and returns its column (0-based), or -1 at the
// end of the file. A document marker or directive gives up.
func (y *yamlScanner) nextContent() int {
	for {
		y.spaces()
		switch y.peek() {
		case 0:
			return -1
		case '#':
			if y.pos > y.lineStart && y.src[y.pos-1] != ' ' {
				y.bail()
			}
			for y.pos < len(y.src) && y.src[y.pos] != '\n' {
				y.pos++
			}
			continue
		case '\n':
			y.pos++
			y.line++
			y.lineStart = y.pos
			if rest := y.src[y.pos:]; bytes.HasPrefix(rest, []byte("---")) || bytes.HasPrefix(rest, []byte("...")) || bytes.HasPrefix(rest, []byte("%")) {
				y.bail()
			}
			continue
		}
		return y.pos - y.lineStart
	}
}

// endLine expects the end of a line (blanks, then a comment) after a
// value.
func (y *yamlScanner) endLine() {
	n := y.spaces()
	switch y.peek() {
	case 0, '\n':
	case '#':
		if n == 0 {
			y.bail()
		}
	default:
		y.bail()
	}
}

// block reads the block node at y.pos, in column c.
func (y *yamlScanner) block(c, depth int) *node {
	if depth > 100 {
		y.bail()
	}
	switch ch := y.peek(); {
	case ch == '-' && y.blankAt(1):
		return y.blockSeq(c, depth)
	case ch == '{' || ch == '[':
		n := y.flow(c, depth)
		y.endLine()
		return n
	}
	keyPos := y.here()
	key, quoted, isKey := y.blockScalar()
	if isKey {
		return y.blockMap(c, key, keyPos, depth)
	}
	y.endLine()
	return y.scalarNode(key, quoted, keyPos)
}

// blockMap reads a block mapping in column c whose first key has been
// read (y.pos is just after its colon).
func (y *yamlScanner) blockMap(c int, key string, keyPos place, depth int) *node {
	y.charge(nodeCost)
	out := y.node(kindMap, keyPos)
	buf := y.fieldBuf(depth)
	var seen map[string]bool
	for {
		y.charge(fieldCost + int64(len(key)))
		if hasKey(buf, key, &seen) {
			y.bail() // yaml.v3 reports it
		}
		var value *node
		y.spaces()
		switch ch := y.peek(); {
		case ch == '\n' || ch == 0 || ch == '#':
			if ch == '#' && y.src[y.pos-1] != ' ' {
				y.bail()
			}
			nc := y.nextContent()
			switch {
			case nc > c:
				value = y.block(nc, depth+1)
			case nc == c && y.peek() == '-' && y.blankAt(1):
				value = y.blockSeq(c, depth+1) // a sequence as indented as its key
			default:
				y.bail() // an empty value
			}
		case ch == '{' || ch == '[':
			value = y.flow(c, depth+1)
			y.endLine()
		default:
			p := y.here()
			s, quoted, isKey := y.blockScalar()
			if isKey {
				y.bail() // "a: b: c"
			}
			y.endLine()
			value = y.scalarNode(s, quoted, p)
		}
		buf = append(buf, newField(key, keyPos, value))
		nc := y.nextContent()
		if nc < c {
			out.setFields(y.keepFields(buf, depth))
			return out
		}
		if nc > c {
			y.bail()
		}
		keyPos = y.here()
		var isKey bool
		key, _, isKey = y.blockScalar()
		if !isKey {
			y.bail()
		}
	}
}

// hasKey reports whether key is already one of fields, and then notes
// it; seen indexes the keys of big mappings.
func hasKey(fields []field, key string, seen *map[string]bool) bool {
	if *seen == nil && len(fields) < 16 {
		for i := range fields {
			if fields[i].key == key {
				return true
			}
		}
		return false
	}
	if *seen == nil {
		*seen = make(map[string]bool, 2*len(fields))
		for _, f := range fields {
			(*seen)[f.key] = true
		}
	}
	if (*seen)[key] {
		return true
	}
	(*seen)[key] = true
	return false
}

// blockSeq reads a block sequence whose dashes are in column c.
func (y *yamlScanner) blockSeq(c, depth int) *node {
	y.charge(nodeCost)
	out := y.node(kindList, y.here())
	if y.split.parts > 1 && len(y.src)-y.pos >= y.split.minBytes {
		if items, ok := y.splitSeq(c, depth); ok {
			out.setItems(items)
			return out
		}
	}
	out.setItems(y.seqItems(c, depth, true))
	return out
}

// seqItems reads the items of a block sequence whose dashes are in column
// c, from the dash at y.pos on: an exact-size copy of the scratch buffer
// they were gathered in (keep), or that buffer itself.
func (y *yamlScanner) seqItems(c, depth int, keep bool) []*node {
	buf := y.itemBuf(depth)
	for {
		y.pos++ // the dash
		y.charge(itemCost)
		var item *node
		y.spaces()
		switch ch := y.peek(); {
		case ch == '\n' || ch == 0 || ch == '#':
			if ch == '#' && y.src[y.pos-1] != ' ' {
				y.bail()
			}
			nc := y.nextContent()
			if nc <= c {
				y.bail() // an empty item
			}
			item = y.block(nc, depth+1)
		default:
			// A node on the dash's line: its column is where it starts.
			item = y.block(y.pos-y.lineStart, depth+1)
		}
		buf = append(buf, item)
		nc := y.nextContent()
		if nc < c || (nc == c && !(y.peek() == '-' && y.blankAt(1))) {
			if !keep {
				return buf
			}
			return y.keepItems(buf, depth)
		}
		if nc > c {
			y.bail()
		}
	}
}

// blockScalar reads a plain or quoted scalar in block context; isKey
// reports that a colon followed it (consumed), so that it is a key.
func (y *yamlScanner) blockScalar() (s string, quoted, isKey bool) {
	switch y.peek() {
	case '\'', '"':
		s = y.quoted()
		quoted = true
	default:
		if blockIndicator[y.peek()] && !(y.peek() == '-' && !y.blankAt(1)) {
			y.bail()
		}
		start := y.pos
		end := y.pos
		for y.pos < len(y.src) {
			ch := y.src[y.pos]
			if ch == '\n' || (ch == ':' && y.blankAt(1)) || (ch == '#' && y.src[y.pos-1] == ' ') {
				break
			}
			y.pos++
			if ch != ' ' {
				end = y.pos
			}
		}
		s = y.str(y.src[start:end])
		y.pos = end
	}
	y.spaces()
	if y.peek() == ':' && y.blankAt(1) {
		y.pos++
		if len(s) > 1000 || s == "<<" {
			y.bail() // a long implicit key, a merge key
		}
		return s, quoted, true
	}
	return s, quoted, false
}

// quoted reads a one-line single- or double-quoted scalar without
// escapes.
func (y *yamlScanner) quoted() string {
	q := y.src[y.pos]
	y.pos++
	var b []byte
	start := y.pos
	for {
		if y.pos >= len(y.src) {
			y.bail()
		}
		ch := y.src[y.pos]
		switch {
		case ch == '\n' || (q == '"' && ch == '\\'):
			y.bail()
		case ch == q && q == '\'' && y.peekAt(1) == '\'':
			b = append(b, y.src[start:y.pos+1]...)
			y.pos += 2
			start = y.pos
			continue
		case ch == q:
			b = append(b, y.src[start:y.pos]...)
			y.pos++
			return y.str(b)
		}
		y.pos++
	}
}

// flow reads a flow mapping or sequence; continuation lines must be
// indented more than the block column c that holds it.
func (y *yamlScanner) flow(c, depth int) *node {
	if depth > 100 {
		y.bail()
	}
	y.charge(nodeCost)
	open := y.peek()
	out := y.node(kindNull, y.here())
	y.pos++
	closer := byte(']')
	if open == '{' {
		out.kind, closer = kindMap, '}'
	} else {
		out.kind = kindList
	}
	var seen map[string]bool
	fields, items := y.fieldBuf(depth), y.itemBuf(depth)
	y.flowSpace(c)
	if y.peek() == closer {
		y.pos++
		return out
	}
	for {
		if open == '{' {
			keyPos := y.here()
			key, _, term := y.flowScalar(c)
			if term != ':' || key == "<<" {
				y.bail()
			}
			y.charge(fieldCost + int64(len(key)))
			if hasKey(fields, key, &seen) {
				y.bail()
			}
			y.flowSpace(c)
			fields = append(fields, newField(key, keyPos, y.flowValue(c, depth)))
		} else {
			y.charge(itemCost)
			items = append(items, y.flowValue(c, depth))
		}
		y.flowSpace(c)
		switch y.peek() {
		case ',':
			y.pos++
			y.flowSpace(c)
			if y.peek() == closer {
				y.bail() // a trailing comma
			}
		case closer:
			y.pos++
			if open == '{' {
				out.setFields(y.keepFields(fields, depth))
			} else {
				out.setItems(y.keepItems(items, depth))
			}
			return out
		default:
			y.bail()
		}
	}
}

func (y *yamlScanner) flowValue(c, depth int) *node {
	switch y.peek() {
	case '{', '[':
		return y.flow(c, depth+1)
	}
	p := y.here()
	s, quoted, term := y.flowScalar(c)
	if term == ':' {
		y.bail() // an implicit mapping in a sequence, or "a: b: c"
	}
	return y.scalarNode(s, quoted, p)
}

// flowSpace skips blanks and line breaks inside a flow collection.
func (y *yamlScanner) flowSpace(c int) {
	for {
		y.spaces()
		switch y.peek() {
		case '\n':
			y.pos++
			y.line++
			y.lineStart = y.pos
			if ind := y.spaces(); ind <= c || y.peek() == '#' || y.peek() == '\n' {
				y.bail()
			}
			continue
		case '#':
			y.bail() // comments inside flow collections: leave them to yaml.v3
		}
		return
	}
}

// flowScalar reads a scalar inside a flow collection; term is ':' when a
// key indicator (": ") follows it (consumed).
func (y *yamlScanner) flowScalar(c int) (s string, quoted bool, term byte) {
	switch y.peek() {
	case '\'', '"':
		s = y.quoted()
		quoted = true
	default:
		if flowIndicator[y.peek()] && !(y.peek() == '-' && !y.blankAt(1) && strings.IndexByte(",[]{}", y.peekAt(1)) < 0) {
			y.bail()
		}
		start, end := y.pos, y.pos
	scan:
		for y.pos < len(y.src) {
			ch := y.src[y.pos]
			if !flowPlainStop[ch] { // most bytes: one lookup
				y.pos++
				end = y.pos
				continue
			}
			switch ch {
			case '\n', ',', ']', '}':
				break scan
			case '[', '{', '?':
				y.bail() // libyaml ends a flow plain scalar at '?' too
			case ':':
				if y.blankAt(1) || strings.IndexByte(",[]{}", y.peekAt(1)) >= 0 {
					break scan
				}
				y.bail() // "a:b" in a flow collection: leave it to yaml.v3
			case '#':
				if y.src[y.pos-1] == ' ' {
					y.bail()
				}
				end = y.pos + 1
			}
			y.pos++ // a blank (not in end), or a '#' inside the scalar
		}
		s = y.str(y.src[start:end])
		y.pos = end
		if s == "" {
			y.bail()
		}
	}
	y.spaces()
	if y.peek() == ':' && y.blankAt(1) {
		y.pos++
		return s, quoted, ':'
	}
	if y.peek() == '\n' && !quoted {
		// A plain scalar continued on the next line is folded: give up
		// unless the line goes on with an indicator.
		save, line, ls := y.pos, y.line, y.lineStart
		y.flowSpace(c)
		if strings.IndexByte(",]}", y.peek()) < 0 {
			y.bail()
		}
		y.pos, y.line, y.lineStart = save, line, ls
	}
	return s, quoted, 0
}

// flowIndicator and blockIndicator: the bytes a plain scalar cannot start
// with in a flow collection (quotes are read before) and in a block one;
// '-' may start one when not followed by a blank (or a flow indicator).
var flowIndicator, blockIndicator = byteSet("-?:,[]{}#&*!|>'\"%@`"), byteSet("-?:,[]{}#&*!|>%@`")

// flowPlainStop: the bytes a plain scalar in a flow collection ends or
// gives up at, and the blank, which it holds only before more text.
var flowPlainStop = byteSet("\n,]}[{?:# ")

// yamlFloat is yaml.v3's pattern for a plain float.
var yamlFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// scalarNode is readYAML's scalar node for a scalar yaml.v3 would have
// resolved as it does (yaml.v3 resolve.go, YAML 1.2 core schema), with
// PyYAML's booleans on top; a scalar whose resolution is unusual (merge
// key, infinities, NaN, underscores, binary or octal prefixes, integers
// beyond 64 bits) gives up.
func (y *yamlScanner) scalarNode(s string, quoted bool, p place) *node {
	y.charge(nodeCost + int64(len(s)))
	out := y.scalar(kindString, s, p)
	if quoted {
		return out
	}
	switch s { // yaml11Bool, without hashing
	case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON":
		out.kind = kindBool
		out.setScalar("true")
		return out
	case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF":
		out.kind = kindBool
		out.setScalar("false")
		return out
	case "~", "null", "Null", "NULL":
		out.kind = kindNull
		out.setScalar("")
		return out
	case "<<", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF":
		y.bail()
	}
	switch c := s[0]; {
	case c == '.':
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			out.kind = kindFloat
		}
	case c == '+' || c == '-' || isDigit(c):
		if strings.IndexByte(s, '_') >= 0 || strings.Contains(s, "0b") || strings.Contains(s, "0o") {
			y.bail()
		}
		if isTimestampLike(s) {
			return out // !!timestamp: a string to readYAML
		}
		if v, err := strconv.ParseInt(s, 0, 64); err == nil {
			out.kind = kindInt
			if !canonicalInt(s) {
				out.setScalar(strconv.FormatInt(v, 10)) // +1, 0x1f, 007 …
			}
			return out
		}
		if _, err := strconv.ParseUint(s, 0, 64); err == nil {
			y.bail() // an integer beyond int64: yaml.v3's reader reports it
		}
		if yamlFloat.MatchString(s) {
			if _, err := strconv.ParseFloat(s, 64); err == nil {
				out.kind = kindFloat
			}
		}
	}
	return out
}

// canonicalInt reports whether s, which ParseInt accepts, is already how
// FormatInt writes its value: an optional minus and digits with no
// leading zero, not "-0".
func canonicalInt(s string) bool {
	d := strings.TrimPrefix(s, "-")
	if d == "" || d[0] == '0' && (len(d) > 1 || len(s) > 1) {
		return false
	}
	for i := 0; i < len(d); i++ {
		if !isDigit(d[i]) {
			return false
		}
	}
	return true
}

// isTimestampLike reports whether s starts as yaml.v3's timestamps must
// (four digits and a dash); whether or not it is one, yaml.v3 then reads
// it as no number.
func isTimestampLike(s string) bool {
	return len(s) > 4 && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2]) && isDigit(s[3]) && s[4] == '-'
}

// mark is what m has charged for data trees so far.
func (m *meter) mark() int64 {
	if m == nil {
		return 0
	}
	return m.persistent
}

// undo gives back what was charged since mark, unless the budget ran out
// (the load then stops).
func (m *meter) undo(mark int64) {
	if m == nil || m.out {
		return
	}
	m.b.used.Add(mark - m.persistent)
	m.persistent = mark
}
