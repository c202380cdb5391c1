package spec

import "testing"

// Every problem is one line: whatever a message quotes raw, its control
// characters come out escaped.
func TestProblemsOneLine(t *testing.T) {
	ps := Problems{{Pos: Pos{File: "a.yml", Line: 1, Col: 1}, Message: "role a\nb: x\ty\r\u2028\x00"}}.sort()
	if got, want := ps[0].Message, `role a\nb: x\ty\r\u2028\x00`; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	if got := (Problems{{Message: `"quoted" stays`}}).sort()[0].Message; got != `"quoted" stays` {
		t.Errorf("message %q changed", got)
	}
}
