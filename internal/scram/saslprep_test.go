package scram

import (
	"errors"
	"testing"
	"unicode"
)

func TestSASLprep(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"ascii", "pencil", "pencil", nil},
		{"empty ascii", "", "", nil},
		{"ascii control passes unchecked", "a\x07b", "a\x07b", nil},
		{"rfc4013 soft hyphen", "I\u00ADX", "IX", nil},
		{"rfc4013 feminine ordinal", "\u00AA", "a", nil},
		{"rfc4013 roman nine", "\u2168", "IX", nil},
		{"ligature needs nfkc", "\uFB01x", "fix", nil},
		{"fullwidth", "\uFF21\uFF42", "Ab", nil},
		{"nfd composed", "pa\u0308ss", "p\u00E4ss", nil},
		{"nbsp to space", "nb\u00A0sp", "nb sp", nil},
		{"zero width space is C.1.2 first", "zw\u200Bsp", "zw sp", nil},
		{"ideographic space alone", "\u3000", " ", nil},
		{"variation selector to nothing", "x\uFE0Fy", "xy", nil},
		{"hebrew", "\u05D0\u05D1", "\u05D0\u05D1", nil},
		{"hebrew around digit", "\u05D01\u05D1", "\u05D01\u05D1", nil},
		{"bidi checked before nfkc", "\uFB1D", "\u05D9\u05B4", nil},
		{"empty after mapping", "\u00AD\u200C", "", ErrProhibited},
		{"prohibited checked before nfkc", "a\u0340b", "", ErrProhibited},
		{"private use", "\uE000x", "", ErrProhibited},
		{"replacement character", "\uFFFDx", "", ErrProhibited},
		{"c1 control", "\u0085x", "", ErrProhibited},
		{"tagging", "x\U000E0041", "", ErrProhibited},
		{"unassigned in 3.2", "\u0221x", "", ErrProhibited},
		{"unassigned plane 2 tail", "\U0002FFFDx", "", ErrProhibited},
		{"rfc4013 bidi mixed", "\u0627\u0031", "", ErrProhibited},
		{"bidi with L", "\u05D0a\u05D1", "", ErrProhibited},
		{"invalid utf-8", "\xffabc", "", ErrInvalidUTF8},
		{"surrogate encoding", "\xed\xa0\x80", "", ErrInvalidUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SASLprep(tt.in)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Errorf("SASLprep(%+q) = %+q, %v; want %+q, %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestPrepareFallsBackToRawBytes(t *testing.T) {
	for _, in := range []string{"a\u0340b", "\xffabc", "\u00AD"} {
		if got := prepare(in); got != in {
			t.Errorf("prepare(%+q) = %+q, want the input unchanged", in, got)
		}
	}
	if got := prepare("\uFB01x"); got != "fix" {
		t.Errorf("prepare(ligature) = %+q, want \"fix\"", got)
	}
}

// TestTablesMatchPostgres spot-checks the generated tables against entries
// of PostgreSQL's src/common/saslprep.c, where both come from RFC 3454.
func TestTablesMatchPostgres(t *testing.T) {
	in := []struct {
		table string
		r     rune
		want  bool
	}{
		{"mapToSpace", 0x200B, true}, {"mapToSpace", 0x200C, false},
		{"mapToNothing", 0x180B, true}, {"mapToNothing", 0xFE0F, true}, {"mapToNothing", 0xFE10, false},
		{"prohibited", 0x0340, true}, {"prohibited", 0x06DD, true}, {"prohibited", 0xFFFC, true},
		{"prohibited", 0xE007F, true}, {"prohibited", 0x10FFFF, true}, {"prohibited", 0x0020, false},
		{"unassigned", 0x0221, true}, {"unassigned", 0x0220, false}, {"unassigned", 0x1D455, true},
		{"unassigned", 0xE0080, true}, {"unassigned", 0xEFFFD, true}, {"unassigned", 0xE0001, false},
		{"randAL", 0x05BE, true}, {"randAL", 0xFEFC, true}, {"randAL", 0x05BF, false},
		{"leftToRight", 0x0041, true}, {"leftToRight", 0xD800, true}, {"leftToRight", 0xFA2D, true},
		{"leftToRight", 0x10FFFD, true}, {"leftToRight", 0x0030, false}, {"leftToRight", 0x0221, false},
	}
	tables := map[string]func(rune) bool{
		"mapToSpace":   func(r rune) bool { return unicode.Is(mapToSpace, r) },
		"mapToNothing": func(r rune) bool { return unicode.Is(mapToNothing, r) },
		"prohibited":   func(r rune) bool { return unicode.Is(prohibited, r) },
		"unassigned":   func(r rune) bool { return unicode.Is(unassigned, r) },
		"randAL":       func(r rune) bool { return unicode.Is(randAL, r) },
		"leftToRight":  func(r rune) bool { return unicode.Is(leftToRight, r) },
	}
	for _, c := range in {
		if got := tables[c.table](c.r); got != c.want {
			t.Errorf("%s contains U+%04X = %v, want %v", c.table, c.r, got, c.want)
		}
	}
}
