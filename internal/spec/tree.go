package spec

import (
	"fmt"
	"strconv"
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
type node struct {
	kind   kind
	scalar string  // bool "true"/"false", numbers as written, strings unquoted
	fields []field // kindMap, in source order
	items  []*node // kindList
	pos    Pos
}

type field struct {
	key    string
	keyPos Pos
	value  *node
}

// get returns the value of field key of a map node, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.kind != kindMap {
		return nil
	}
	for i := range n.fields {
		if n.fields[i].key == key {
			return n.fields[i].value
		}
	}
	return nil
}

// posOf returns the position of field key of a map node, or the node's
// own position when the field is missing (a spec the schema refused may
// lack it).
func (n *node) posOf(key string) Pos {
	if v := n.get(key); v != nil {
		return v.pos
	}
	if n == nil {
		return Pos{}
	}
	return n.pos
}

// itemPos returns the position of item i of list field key, falling back
// like posOf.
func (n *node) itemPos(key string, i int) Pos {
	if l := n.get(key); l != nil && l.kind == kindList && i < len(l.items) {
		return l.items[i].pos
	}
	return n.posOf(key)
}

// isNull reports whether n is absent or null: Pigsty's "no opinion".
func (n *node) isNull() bool { return n == nil || n.kind == kindNull }

func (n *node) boolean() bool { return n.kind == kindBool && n.scalar == "true" }

// text renders a scalar the way PostgreSQL reads it in a parameter value:
// booleans as on/off, numbers as written.
func (n *node) text() string {
	if n.kind == kindBool {
		if n.scalar == "true" {
			return "on"
		}
		return "off"
	}
	return n.scalar
}

// equal reports deep equality of two data trees, ignoring positions and,
// for maps, field order.
func (n *node) equal(o *node) bool {
	if n.kind != o.kind {
		return false
	}
	switch n.kind {
	case kindList:
		if len(n.items) != len(o.items) {
			return false
		}
		for i := range n.items {
			if !n.items[i].equal(o.items[i]) {
				return false
			}
		}
		return true
	case kindMap:
		if len(n.fields) != len(o.fields) {
			return false
		}
		for _, f := range n.fields {
			ov := o.get(f.key)
			if ov == nil || !f.value.equal(ov) {
				return false
			}
		}
		return true
	case kindInt, kindFloat:
		return numEqual(n.scalar, o.scalar)
	}
	return n.scalar == o.scalar
}

func numEqual(a, b string) bool {
	if a == b {
		return true
	}
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	return err1 == nil && err2 == nil && x == y
}

func (n *node) index(key string) int {
	for i := range n.fields {
		if n.fields[i].key == key {
			return i
		}
	}
	return -1
}

// describe renders a node briefly for messages.
func (n *node) describe() string {
	switch n.kind {
	case kindString:
		return strconv.Quote(n.scalar)
	case kindList:
		return fmt.Sprintf("a list of %d", len(n.items))
	case kindMap:
		return "a struct"
	case kindNull:
		return "null"
	}
	return n.scalar
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
