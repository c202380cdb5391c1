package hba

import "strings"

// Op is what an Entry of a Diff does to the live file.
type Op uint8

// Entry operations.
const (
	Add    Op = iota // the line is desired here but not live here
	Remove           // the line is live here but not desired here
)

func (o Op) String() string {
	if o == Add {
		return "+"
	}
	return "-"
}

// Entry is one step of the edit from the live lines to the desired ones.
// Moved marks a line that both sides hold, at different positions: its
// Remove and Add entries describe an order change, not a content change.
type Entry struct {
	Op    Op
	Line  Line // Number is the line in the desired (Add) or live (Remove) text
	Moved bool
}

func (e Entry) String() string {
	s := e.Op.String() + " " + e.Line.String()
	if e.Moved {
		s += "  (moved)"
	}
	return s
}

// Diff is the order-sensitive difference between desired and live lines.
type Diff struct {
	Entries    []Entry // in file order, as a unified diff would list them
	Missing    []Line  // desired lines that are not live at all
	Unexpected []Line  // live lines that are not desired at all
	Moved      []Line  // lines both sides hold in a different order (desired form)
}

// Empty reports whether both sides hold the same lines in the same order.
func (d Diff) Empty() bool { return len(d.Entries) == 0 }

// String lists the entries, one per line: "+ host  all  …", "- local …".
func (d Diff) String() string {
	var b strings.Builder
	for _, e := range d.Entries {
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Compare computes the difference between desired and live lines.
// PostgreSQL uses the first matching line, so order matters: a line that
// both sides hold but in another order is reported (as Moved). Lines are
// compared by Key; the edit is a longest-common-subsequence diff, so the
// result is deterministic and minimal in the number of entries.
func Compare(desired, live []Line) Diff {
	dk, lk := keys(desired), keys(live)
	// lcs[i][j] = length of the LCS of dk[i:] and lk[j:].
	lcs := make([][]int, len(dk)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(lk)+1)
	}
	for i := len(dk) - 1; i >= 0; i-- {
		for j := len(lk) - 1; j >= 0; j-- {
			if dk[i] == lk[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var d Diff
	for i, j := 0, 0; i < len(dk) || j < len(lk); {
		switch {
		case i < len(dk) && j < len(lk) && dk[i] == lk[j]:
			i, j = i+1, j+1
		case j < len(lk) && (i == len(dk) || lcs[i][j+1] >= lcs[i+1][j]):
			d.Entries = append(d.Entries, Entry{Op: Remove, Line: live[j]})
			j++
		default:
			d.Entries = append(d.Entries, Entry{Op: Add, Line: desired[i]})
			i++
		}
	}
	d.classify()
	return d
}

// classify pairs Add and Remove entries of the same key as moves (each
// line at most once) and fills Missing, Unexpected and Moved.
func (d *Diff) classify() {
	removed := map[string][]int{}
	for i, e := range d.Entries {
		if e.Op == Remove {
			k := e.Line.Key()
			removed[k] = append(removed[k], i)
		}
	}
	for i, e := range d.Entries {
		if e.Op != Add {
			continue
		}
		k := e.Line.Key()
		if r := removed[k]; len(r) > 0 {
			d.Entries[i].Moved, d.Entries[r[0]].Moved = true, true
			removed[k] = r[1:]
			d.Moved = append(d.Moved, e.Line)
		}
	}
	for _, e := range d.Entries {
		switch {
		case e.Moved:
		case e.Op == Add:
			d.Missing = append(d.Missing, e.Line)
		default:
			d.Unexpected = append(d.Unexpected, e.Line)
		}
	}
}

func keys(lines []Line) []string {
	k := make([]string, len(lines))
	for i, l := range lines {
		k[i] = l.Key()
	}
	return k
}
