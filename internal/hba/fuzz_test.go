package hba

import "testing"

// FuzzParse: Parse never panics, and every line it returns survives a
// round trip through its canonical text.
func FuzzParse(f *testing.F) {
	for _, c := range goodLines() {
		f.Add(c.in)
	}
	for in := range badLines() {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, text string) {
		lines, _ := Parse(text)
		for _, l := range lines {
			again, errs := Parse(l.text())
			if len(errs) > 0 || len(again) != 1 || !Equal(l, again[0]) {
				t.Fatalf("line %d of %q: canonical text %q parses to %v, %v", l.Number, text, l.text(), again, errs)
			}
		}
	})
}
