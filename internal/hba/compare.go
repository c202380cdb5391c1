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
	var d Diff
	for _, st := range EditScript(keys(desired), keys(live)) {
		if st.Op == Add {
			d.Entries = append(d.Entries, Entry{Op: Add, Line: desired[st.Index]})
		} else {
			d.Entries = append(d.Entries, Entry{Op: Remove, Line: live[st.Index]})
		}
	}
	d.classify()
	return d
}

// Step is one step of an EditScript: Index is into the desired list for
// Add, into the live list for Remove.
type Step struct {
	Op    Op
	Index int
}

// EditScript is the longest-common-subsequence edit from live to desired,
// compared as strings, in file order (as a unified diff lists it):
// deterministic and minimal in the number of steps. Compare uses it on
// line keys; other files of the same kind of diff (PgBouncer's) on their
// own normalised lines.
func EditScript(desired, live []string) []Step {
	// lcs[i][j] = length of the LCS of desired[i:] and live[j:].
	lcs := make([][]int, len(desired)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(live)+1)
	}
	for i := len(desired) - 1; i >= 0; i-- {
		for j := len(live) - 1; j >= 0; j-- {
			if desired[i] == live[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var steps []Step
	for i, j := 0, 0; i < len(desired) || j < len(live); {
		switch {
		case i < len(desired) && j < len(live) && desired[i] == live[j]:
			i, j = i+1, j+1
		case j < len(live) && (i == len(desired) || lcs[i][j+1] >= lcs[i+1][j]):
			steps = append(steps, Step{Op: Remove, Index: j})
			j++
		default:
			steps = append(steps, Step{Op: Add, Index: i})
			i++
		}
	}
	return steps
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
