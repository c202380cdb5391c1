package scram

import (
	"testing"
	"unicode/utf8"
)

// FuzzSASLprep: SASLprep never panics, returns pure-ASCII input unchanged,
// and returns valid UTF-8 whenever it succeeds.
func FuzzSASLprep(f *testing.F) {
	for _, s := range []string{"pencil", "\uFB01x", "a\u0340b", "\uFB1D", "\u05D0a\u05D1", "\xff", "\u00AD"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := SASLprep(s)
		if err != nil {
			return
		}
		if isASCII(s) && got != s {
			t.Errorf("SASLprep(%+q) = %+q, want ASCII input unchanged", s, got)
		}
		if !utf8.ValidString(got) {
			t.Errorf("SASLprep(%+q) = %+q, not valid UTF-8", s, got)
		}
	})
}

// FuzzParse: Parse never panics, and whatever it accepts prints back
// byte for byte.
func FuzzParse(f *testing.F) {
	f.Add(pencil)
	f.Add("SCRAM-SHA-256$1:AA==$" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	f.Add("SCRAM-SHA-256$")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			return
		}
		if got := v.String(); got != s {
			t.Errorf("Parse(%q).String() = %q", s, got)
		}
	})
}
