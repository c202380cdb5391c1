package spec

import (
	"strings"
	"testing"
)

// An integer that does not fit an int is reported, never clamped (the
// schema bounds every integer field, so this is the last line of defence).
func TestDecodeIntegerOverflow(t *testing.T) {
	cs := &clusterSrc{}
	n := newScalar(kindInt, "99999999999999999999", placeOf(Pos{File: "a.cue", Line: 3, Col: 7}))
	if v := cs.optInt(n); v != nil {
		t.Errorf("optInt = %d, want nil", *v)
	}
	if len(cs.problems) != 1 || cs.problems[0].Pos != n.pos() || !strings.Contains(cs.problems[0].Message, "out of range") {
		t.Errorf("problems = %v, want one at %s", cs.problems, n.pos())
	}
	if v := cs.optInt(newScalar(kindInt, "-1", place{})); v == nil || *v != -1 {
		t.Errorf("optInt(-1) = %v", v)
	}
}
