package spec

import "bytes"

// A big inventory is mostly one big block sequence — the pg_users of a
// cluster with thousands of roles, one line or a few each — and the items
// of a block sequence are independent: each starts on a line whose dash
// is in the sequence's column, and everything else of it is on lines
// indented more (the fast reader gives up on anything else: multi-line
// scalars, flow collections continued at or left of that column). So the
// fast reader cuts such a sequence at item starts and reads the parts at
// once, one scanner each, on as many cores as Go has.
//
// The cuts come from a scan of line indentation, which knows nothing of
// YAML; the parts' reads prove them right. Every part but the last is
// read from a copy of the scanner cut off where the next part begins, and
// must end exactly there, having read items all the way; the last reads
// on to wherever the sequence ends. By induction each part then starts at
// an item of the sequence and reads what the serial reader would: an
// item's read ends at the first line indented no more than its dash, and
// at the end of the input, alike. When any part gives up or ends early,
// the whole sequence is read again serially, which decides. A fuzz test
// (FuzzFastYAML) holds the split and the serial reads equal, positions
// included.

// seqLine is where an item of a block sequence starts: the offset of its
// line, and the line's number.
type seqLine struct{ start, line int }

// itemStart reports whether the line at offset i starts an item of a block
// sequence in column c (c spaces, a dash, a blank), and whether it has
// content in column c or left of it (else it is blank, a comment or more
// indented).
func itemStart(src []byte, i, c int) (item, left bool) {
	j := i
	for j < len(src) && src[j] == ' ' {
		j++
	}
	if j == len(src) || src[j] == '\n' || src[j] == '#' || j-i > c {
		return false, false
	}
	return j-i == c && src[j] == '-' && (j+1 == len(src) || src[j+1] == ' ' || src[j+1] == '\n'), true
}

// seqEnd scans the lines after the current one for the end of the block
// sequence in column c: the offset of the first line with content in
// column c or left of it that is no item (or the end of the input). Blank
// lines and comment lines are skipped, as the reader skips them.
func (y *yamlScanner) seqEnd(c int) int {
	src := y.src
	for i := y.lineStart; ; {
		nl := bytes.IndexByte(src[i:], '\n')
		if nl < 0 {
			return len(src)
		}
		i += nl + 1
		if item, left := itemStart(src, i, c); left && !item {
			return i
		}
	}
}

// itemAfter is the first item line of the sequence in column c that
// starts at or after offset at (> prev.start) and before end; prev is an
// item line before it, from which its number is counted.
func (y *yamlScanner) itemAfter(at, end, c int, prev seqLine) (seqLine, bool) {
	for i := at; i < end; {
		if y.src[i-1] == '\n' { // a line starts at i
			if item, _ := itemStart(y.src, i, c); item {
				return seqLine{i, prev.line + bytes.Count(y.src[prev.start:i], []byte{'\n'})}, true
			}
		}
		nl := bytes.IndexByte(y.src[i:end], '\n')
		if nl < 0 {
			break
		}
		i += nl + 1
	}
	return seqLine{}, false
}

// splitSeq reads the block sequence in column c whose first dash is at
// y.pos, in parts at once (see above). ok is false, with nothing read or
// charged, when the sequence is too short to split or a part did not read
// as the cuts said; the caller then reads it serially. When the sequence
// exceeds the budget, the read gives up as a serial one does.
func (y *yamlScanner) splitSeq(c, depth int) (items []*node, ok bool) {
	end := y.seqEnd(c)
	if end-y.pos < y.split.minBytes {
		return nil, false
	}
	// Cut at the item starts nearest after equal shares of the bytes.
	cuts := []seqLine{{y.lineStart, y.line}}
	for p := 1; p < y.split.parts; p++ {
		prev := cuts[len(cuts)-1]
		target := max(y.pos+(end-y.pos)*p/y.split.parts, prev.start+1)
		if target >= end {
			break
		}
		cut, ok := y.itemAfter(target, end, c, prev)
		if !ok {
			break
		}
		cuts = append(cuts, cut)
	}
	if len(cuts) < 2 {
		return nil, false
	}

	share := partShare(y.m, len(cuts))
	parts := make([]*yamlScanner, len(cuts))
	meters := make([]*meter, len(cuts))
	for i, cut := range cuts {
		src := y.src
		if i+1 < len(cuts) {
			src = y.src[:cuts[i+1].start]
		}
		meters[i] = share.meter()
		parts[i] = &yamlScanner{file: y.file, src: src, pos: cut.start + c, line: cut.line, lineStart: cut.start, m: meters[i], ascii: y.ascii}
		parts[i].strs.presize(len(src) - cut.start)
		parts[i].clean = true
	}
	items, cost, ok := readParts(meters, func(i int) ([]*node, bool) {
		p := parts[i]
		items := p.seqItems(c, depth, false)
		// A part that ended early was not cut at items of this sequence:
		// a cut past its end. seqEnd ends the sequence where the reader
		// does, but this check is what makes any cut safe
		// (TestSplitYAMLAgreesWithSerial holds with seqEnd scanning to the
		// end of the file).
		return items, i+1 == len(parts) || p.pos == len(p.src)
	})
	if !ok {
		return nil, false // a part out of its share is read again serially, against the whole budget
	}
	y.charge(cost)
	last := parts[len(parts)-1]
	y.pos, y.line, y.lineStart = last.pos, last.line, last.lineStart
	y.splits++
	return items, true
}
