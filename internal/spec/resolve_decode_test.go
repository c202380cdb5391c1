package spec

import (
	"strings"
	"testing"
)

// An integer that does not fit an int is reported, never clamped (the
// schema bounds every integer field, so this is the last line of defence).
func TestDecodeIntegerOverflow(t *testing.T) {
	cs := &clusterSrc{}
	n := &node{kind: kindInt, scalar: "99999999999999999999", pos: Pos{File: "a.cue", Line: 3, Col: 7}}
	if v := cs.optInt(n); v != nil {
		t.Errorf("optInt = %d, want nil", *v)
	}
	if len(cs.problems) != 1 || cs.problems[0].Pos != n.pos || !strings.Contains(cs.problems[0].Message, "out of range") {
		t.Errorf("problems = %v, want one at %s", cs.problems, n.pos)
	}
	if v := cs.optInt(&node{kind: kindInt, scalar: "-1"}); v == nil || *v != -1 {
		t.Errorf("optInt(-1) = %v", v)
	}
}
