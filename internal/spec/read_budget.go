package spec

import (
	"errors"
	"fmt"
	"runtime/metrics"
	"sync/atomic"
	"unsafe"

	"go.yaml.in/yaml/v3"
)

// A load has one memory budget (Limits.MaxMemory) for everything it
// parses: every file's data tree, every YAML alias expansion, the parsers'
// own trees while they exist, and the CUE evaluator. A small file can
// expand to gigabytes (nested YAML anchors), so a budget per file would
// not bound a commit of many such files.
//
// Files are parsed in parallel against the shared budget, so that the
// whole load never holds more than about the budget; the verdict is then
// taken file by file in name order (a file cut short because others used
// the budget is read again alone, with what the files before it left), so
// the same commit is always refused at the same file.

// ErrMemoryBudget is what a load refused for exceeding its memory budget
// matches (errors.Is on Result.Err()): the refusal is permanent for that
// commit, and no retry changes it.
var ErrMemoryBudget = errors.New("spec exceeds the memory budget")

// What the data tree costs, in bytes: a node, a field of a map, an item of
// a list; strings add their length.
const (
	nodeCost     = int64(unsafe.Sizeof(node{}))
	fieldCost    = int64(unsafe.Sizeof(field{}))
	itemCost     = int64(unsafe.Sizeof((*node)(nil)))
	yamlNodeCost = int64(unsafe.Sizeof(yaml.Node{})) + 16 // and its share of Content
)

// budget is the memory one load may spend, shared by the files read in
// parallel.
type budget struct {
	limit int64
	used  atomic.Int64
}

// meter charges one file's allocations to a budget.
type meter struct {
	b          *budget
	persistent int64 // the data tree
	transient  int64 // the parser's own tree, freed when the file is read
	peak       int64
	out        bool // the budget ran out: the tree is incomplete

	// private: b is this meter's alone (a part of a split read,
	// read_split.go), so it is not charged: what the meter holds is
	// compared with b.limit without an atomic add per node.
	private bool
}

func newMeter(b *budget) *meter { return &meter{b: b} }

// spent reports whether the budget ran out (the tree is incomplete).
func (m *meter) spent() bool { return m != nil && m.out }

// charge adds n bytes of data tree; it reports whether the budget holds.
func (m *meter) charge(n int64) bool {
	if m == nil {
		return true
	}
	return m.add(&m.persistent, n)
}

// reserve charges n bytes the parser holds until release.
func (m *meter) reserve(n int64) bool {
	if m == nil {
		return true
	}
	return m.add(&m.transient, n)
}

func (m *meter) add(to *int64, n int64) bool {
	if m.out {
		return false
	}
	*to += n
	m.peak = max(m.peak, m.persistent+m.transient)
	if m.private {
		m.out = m.persistent+m.transient > m.b.limit
	} else if m.b.used.Add(n) > m.b.limit {
		m.out = true
	}
	return !m.out
}

func (m *meter) release() {
	if m == nil {
		return
	}
	m.b.used.Add(-m.transient)
	m.transient = 0
}

// yamlNodes estimates, from above, how many nodes yaml.v3 builds for data:
// one per word (a run of bytes between blanks and flow indicators, or a
// quoted scalar), per flow collection, per block sequence entry and per
// mapping value indicator (a block mapping has at least one); comments
// are skipped.
func yamlNodes(data []byte) int64 {
	var n int64
	inWord := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case inWord && (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' || c == ':' || c == '[' || c == ']' || c == '{' || c == '}'):
			inWord = false
		case inWord:
			continue
		}
		switch c {
		case ' ', '\t', '\r', '\n', ',', ']', '}':
		case ':':
			if i+1 == len(data) || data[i+1] == ' ' || data[i+1] == '\n' || data[i+1] == '\r' {
				n++
			}
		case '#':
			for i < len(data) && data[i] != '\n' {
				i++
			}
		case '"', '\'':
			// A quoted scalar, which may hold blanks, '#' and line breaks.
			n++
			for i++; i < len(data) && data[i] != c; i++ {
				if c == '"' && data[i] == '\\' {
					i++
				}
			}
		case '-':
			if i+1 == len(data) || data[i+1] == ' ' || data[i+1] == '\n' {
				n++
				continue
			}
			n++
			inWord = true
		default: // '[', '{' and the first byte of a word
			n++
			inWord = c != '[' && c != '{'
		}
	}
	return n + 1
}

// memoryProblem is the refusal of a load whose budget ran out at file.
func memoryProblem(file string, limit, before int64) Problem {
	return Problem{Pos: Pos{File: file}, Rule: RuleMemory,
		Message: fmt.Sprintf("the spec exceeds the memory budget of %s for one load: it ran out reading this file (the files before it took %s); nested YAML aliases, or more data than a fleet needs? (Limits.MaxMemory)",
			sizeString(limit), sizeString(before))}
}

func sizeString(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

// heapBytes is the memory the heap holds now (live objects and garbage
// not yet collected), read without stopping the world.
func heapBytes() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}
