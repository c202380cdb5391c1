package spec

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"
	"unique"
	"unsafe"
)

// Pos is a position in a file of the spec repository.
type Pos struct {
	File string // slash-separated, relative to the repository root
	Line int32
	Col  int32
}

func (p Pos) String() string {
	if p.File == "" {
		return "-"
	}
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// kind is the kind of a data node.
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindInt
	kindFloat
	kindString
	kindList
	kindMap
)

func (k kind) String() string {
	return [...]string{"null", "bool", "int", "float", "string", "list", "struct"}[k]
}

// node is one value of a spec, as read from CUE or YAML, with its position.
// Both formats become the same tree, so that one schema walk, one variable
// resolution and one decoder serve both.
//
// A node is 32 bytes, because a spec of 10,000 roles holds 200,000 of them
// and they are most of a load's memory (BENCHMARKS.md): a scalar's bytes, a
// map's fields and a list's items are never held at once, so one pointer
// and one length hold whichever the kind has, and the position names its
// file by a canonical handle instead of a string. Read them through
// scalar, fields, items and pos; set them through the set methods.
type node struct {
	data unsafe.Pointer // the first byte, field or item; nil when empty
	file unique.Handle[string]
	n    uint32 // bytes, fields or items
	line int32
	col  int32
	kind kind

	// clean: this node's text (a string's value, a map's keys) is known
	// to hold no NUL byte and to be UTF-8, so the schema walk need not
	// look (schema_walk.go). The fast YAML reader's nodes are: it reads
	// only a file of printable characters (yamlPrintable), and no escapes;
	// and the fast CUE reader's, from a UTF-8 file without NUL or '\\'.
	clean bool
}

// field is one field of a map node; its key is in the value's file.
type field struct {
	key     string
	value   *node
	keyLine int32
	keyCol  int32
}

// place is a position with its file as a canonical handle: what a reader
// computes once per file and gives every node it makes.
type place struct {
	file      unique.Handle[string]
	line, col int32
}

// placeOf makes p a place (a lookup in unique's table: readers that make
// many nodes keep the file's handle instead).
func placeOf(p Pos) place {
	if p.File == "" {
		return place{line: p.Line, col: p.Col}
	}
	return place{file: unique.Make(p.File), line: p.Line, col: p.Col}
}

func (p place) pos() Pos {
	var zero unique.Handle[string]
	if p.file == zero {
		return Pos{Line: p.line, Col: p.col}
	}
	return Pos{File: p.file.Value(), Line: p.line, Col: p.col}
}

func newNode(k kind, at place) *node {
	return &node{kind: k, file: at.file, line: at.line, col: at.col}
}

func newScalar(k kind, s string, at place) *node {
	n := newNode(k, at)
	n.setScalar(s)
	return n
}

func newMap(at place, fs []field) *node {
	n := newNode(kindMap, at)
	n.setFields(fs)
	return n
}

func newList(at place, items []*node) *node {
	n := newNode(kindList, at)
	n.setItems(items)
	return n
}

func newField(key string, keyAt place, value *node) field {
	return field{key: key, value: value, keyLine: keyAt.line, keyCol: keyAt.col}
}

func (n *node) at() place { return place{file: n.file, line: n.line, col: n.col} }

// pos is where the node starts.
func (n *node) pos() Pos { return n.at().pos() }

func (n *node) setPos(p Pos) { n.setAt(placeOf(p)) }

func (n *node) setAt(at place) { n.file, n.line, n.col = at.file, at.line, at.col }

// scalar is the value of a scalar node: bool "true"/"false", numbers as
// written, strings unquoted; "" for null, maps and lists.
func (n *node) scalar() string {
	if n.kind >= kindList || n.data == nil {
		return ""
	}
	return unsafe.String((*byte)(n.data), n.n)
}

// fields are a map node's fields in source order (nil for other kinds).
// The slice shares the node's array: assigning an element changes the
// node; to add one, append to a copy and setFields.
func (n *node) fields() []field {
	if n.kind != kindMap || n.data == nil {
		return nil
	}
	return unsafe.Slice((*field)(n.data), n.n)
}

// items are a list node's items (nil for other kinds), shared like fields.
func (n *node) items() []*node {
	if n.kind != kindList || n.data == nil {
		return nil
	}
	return unsafe.Slice((**node)(n.data), n.n)
}

// The setters keep no pointer to an empty string or slice: it could point
// just past the end of another allocation.
func (n *node) setScalar(s string) {
	if s == "" {
		n.data, n.n = nil, 0
		return
	}
	n.data, n.n = unsafe.Pointer(unsafe.StringData(s)), uint32(len(s))
}

func (n *node) setFields(fs []field) {
	if len(fs) == 0 {
		n.data, n.n = nil, 0
		return
	}
	n.data, n.n = unsafe.Pointer(&fs[0]), uint32(len(fs))
}

func (n *node) setItems(items []*node) {
	if len(items) == 0 {
		n.data, n.n = nil, 0
		return
	}
	n.data, n.n = unsafe.Pointer(&items[0]), uint32(len(items))
}

// keyPos is where the field's key starts.
func (f field) keyPos() Pos {
	var file unique.Handle[string]
	if f.value != nil {
		file = f.value.file
	}
	return place{file: file, line: f.keyLine, col: f.keyCol}.pos()
}

// get returns the value of field key of a map node, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.kind != kindMap {
		return nil
	}
	if i := n.index(key); i >= 0 {
		return unsafe.Slice((*field)(n.data), n.n)[i].value
	}
	return nil
}

// posOf returns the position of field key of a map node, or the node's
// own position when the field is missing (a spec the schema refused may
// lack it).
func (n *node) posOf(key string) Pos {
	if v := n.get(key); v != nil {
		return v.pos()
	}
	if n == nil {
		return Pos{}
	}
	return n.pos()
}

// itemPos returns the position of item i of list field key, falling back
// like posOf.
func (n *node) itemPos(key string, i int) Pos {
	if l := n.get(key); l != nil && l.kind == kindList && i < len(l.items()) {
		return l.items()[i].pos()
	}
	return n.posOf(key)
}

// isNull reports whether n is absent or null: Pigsty's "no opinion".
func (n *node) isNull() bool { return n == nil || n.kind == kindNull }

func (n *node) boolean() bool { return n.kind == kindBool && n.scalar() == "true" }

// text renders a scalar the way PostgreSQL reads it in a parameter value:
// booleans as on/off, numbers as written.
func (n *node) text() string {
	if n.kind == kindBool {
		if n.scalar() == "true" {
			return "on"
		}
		return "off"
	}
	return n.scalar()
}

// equal reports deep equality of two data trees, ignoring positions and,
// for maps, field order.
func (n *node) equal(o *node) bool {
	if n.kind != o.kind {
		return false
	}
	switch n.kind {
	case kindList:
		if len(n.items()) != len(o.items()) {
			return false
		}
		for i := range n.items() {
			if !n.items()[i].equal(o.items()[i]) {
				return false
			}
		}
		return true
	case kindMap:
		if len(n.fields()) != len(o.fields()) {
			return false
		}
		for _, f := range n.fields() {
			ov := o.get(f.key)
			if ov == nil || !f.value.equal(ov) {
				return false
			}
		}
		return true
	case kindInt, kindFloat:
		return numEqual(n.scalar(), o.scalar())
	}
	return n.scalar() == o.scalar()
}

func numEqual(a, b string) bool {
	if a == b {
		return true
	}
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	return err1 == nil && err2 == nil && x == y
}

func (n *node) index(key string) int { return fieldIndex(n.fields(), key) }

func fieldIndex(fs []field, key string) int {
	for i := range fs {
		if fs[i].key == key {
			return i
		}
	}
	return -1
}

// describe renders a node briefly for messages.
func (n *node) describe() string {
	switch n.kind {
	case kindString:
		return strconv.Quote(n.scalar())
	case kindList:
		return fmt.Sprintf("a list of %d", len(n.items()))
	case kindMap:
		return "a struct"
	case kindNull:
		return "null"
	}
	return n.scalar()
}

func joinPath(path, key string) string {
	if !isIdent(key) {
		key = strconv.Quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return true
}

// scratch is a fast reader's growing collections, one per nesting depth:
// a map's fields or a list's items are gathered in it and the node gets
// an exact-size copy, instead of the garbage and the slack of a slice
// grown by appending (a 10,100-role CUE file: 10 MB of it).
//
// The nodes, and the copies of fields and items, are taken from slabs a
// few kilobytes at a time instead of one allocation each (a 10,100-role
// spec: 330,000 of them, and the slack of their size classes). A slab
// lives as long as any node, field or item in it: for a tree, as long as
// the tree.
type scratch struct {
	fieldBufs [][]field
	itemBufs  [][]*node

	nodeSlab  []node
	fieldSlab []field
	itemSlab  []*node

	clean bool // the nodes made are clean (node.clean)
}

// slabLen is how many nodes, fields or items a slab holds; a collection
// of more than a quarter of that gets an allocation of its own. Not 256:
// an allocation of more than 512 bytes that holds pointers carries an
// 8-byte header, and 256 × 32 + 8 bytes would take a 9,472-byte block
// (255 × 32 + 8 fits 8,192, 255 × 8 + 8 fits 2,048).
const slabLen = 255

// node is a new node of kind k at at.
func (b *scratch) node(k kind, at place) *node {
	if len(b.nodeSlab) == 0 {
		b.nodeSlab = make([]node, slabLen)
	}
	n := &b.nodeSlab[0]
	b.nodeSlab = b.nodeSlab[1:]
	n.kind, n.file, n.line, n.col, n.clean = k, at.file, at.line, at.col, b.clean
	return n
}

// scalar is a new scalar node.
func (b *scratch) scalar(k kind, s string, at place) *node {
	n := b.node(k, at)
	n.setScalar(s)
	return n
}

// carve takes n elements from a slab (nil for none): a slice whose
// capacity is its length, so that appending to it copies.
func carve[T any](slab *[]T, n int) []T {
	switch {
	case n == 0:
		return nil
	case n > slabLen/4:
		return make([]T, n)
	case len(*slab) < n:
		*slab = make([]T, slabLen)
	}
	out := (*slab)[:n:n]
	*slab = (*slab)[n:]
	return out
}

func (b *scratch) fieldBuf(depth int) []field {
	for len(b.fieldBufs) <= depth {
		b.fieldBufs = append(b.fieldBufs, nil)
	}
	return b.fieldBufs[depth][:0]
}

func (b *scratch) itemBuf(depth int) []*node {
	for len(b.itemBufs) <= depth {
		b.itemBufs = append(b.itemBufs, nil)
	}
	return b.itemBufs[depth][:0]
}

// keepFields returns an exact-size copy of buf, and keeps buf for the
// next collection at this depth.
func (b *scratch) keepFields(buf []field, depth int) []field {
	out := carve(&b.fieldSlab, len(buf))
	copy(out, buf)
	clear(buf)
	b.fieldBufs[depth] = buf[:0]
	return out
}

func (b *scratch) keepItems(buf []*node, depth int) []*node {
	out := carve(&b.itemSlab, len(buf))
	copy(out, buf)
	clear(buf)
	b.itemBufs[depth] = buf[:0]
	return out
}

// recentBits: an interner's recent cache has 2^recentBits slots.
const recentBits = 8

// interner makes one string of each short scalar of a fast read: a spec
// repeats its keys (name, login, …) and role names (in every membership)
// tens of thousands of times, and the tree then holds about one copy of
// each. It lives as long as one file's read.
//
// It is two direct-mapped caches, not a table of every string: a small
// one of the strings last seen (most of a spec's scalars are the same few
// keys and booleans) and a bigger one behind it, sized from the source. A
// table of tens of thousands of names, most of them seen once, cost more
// in cache misses than the copies it saved (5% of a validate's CPU at
// 10,100 roles). A string evicted from both since it was last seen is
// copied again: 4% more copies on the 10k workload (100 groups in 50,000
// memberships). A fleet with more groups than the second cache has slots
// would hold a copy per membership, about 80 bytes more per role.
type interner struct {
	recent   [1 << recentBits]string
	more     []string // 2^moreBits slots
	moreBits int
}

// presize sizes the second cache for a source of n bytes: a slot per 256
// bytes, from 64 to 4,096 slots (64 KiB, a size that stays in a core's
// cache).
func (in *interner) presize(n int) {
	if in.more == nil {
		in.moreBits = min(max(bits.Len(uint(n/256)), 6), 12)
		in.more = make([]string, 1<<in.moreBits)
	}
}

// maxInterned is the longest string an interner keeps; longer ones
// (comments, passwords, rules) are rarely repeated.
const maxInterned = 48

// recentSlot is b's slot in an interner's recent cache: a multiplicative
// hash of its last four bytes, its first and its length. Names that
// differ only in their last digits (grp_0001 … grp_0099, the roles of
// most memberships) must not share slots, or they evict each other on
// every line.
func recentSlot(b []byte) uint {
	n := len(b)
	var h uint32
	if n >= 4 {
		h = binary.LittleEndian.Uint32(b[n-4:])
	} else {
		h = uint32(b[n-1])<<16 | uint32(b[n/2])<<8
	}
	h ^= uint32(b[0])<<24 ^ uint32(n)
	return uint(h*0x9E3779B1) >> (32 - recentBits)
}

// moreSlot is b's slot in a second cache of 2^k slots: a multiplicative
// hash of other bytes than recentSlot's, so that strings sharing a recent
// slot rarely share this one too (its first and last eight, overlapping
// when shorter). The slot is the product's top bits: a product mixes a
// difference into the bits above it only, and names differ in their last
// bytes, the top of a little-endian load.
func moreSlot(b []byte, k int) uint {
	n := len(b)
	var h uint64
	if n >= 8 {
		h = binary.LittleEndian.Uint64(b[:8])*31 ^ binary.LittleEndian.Uint64(b[n-8:])
	} else {
		for _, c := range b {
			h = h<<8 | uint64(c)
		}
	}
	return uint((h ^ uint64(n)) * 0x9E3779B97F4A7C15 >> (64 - k))
}

// str is the string of b, interned when short. No copy of the source's
// bytes outlives the reader: each string is its own allocation.
func (in *interner) str(b []byte) string {
	if len(b) > maxInterned || len(b) == 0 {
		return string(b)
	}
	slot := &in.recent[recentSlot(b)]
	if *slot == string(b) { // no allocation for the comparison
		return *slot
	}
	if in.more == nil {
		in.presize(0)
	}
	more := &in.more[moreSlot(b, in.moreBits)]
	if *more != string(b) {
		*more = string(b)
	}
	s := *more
	*slot = s
	return s
}
