package spec

import (
	"regexp"
	"regexp/syntax"
)

// textMatcher is a constraint =~"pattern" as the schema walk checks it: a
// table of bytes when the pattern is one of the shapes the schema's names
// have — ^[class][class]*$, ^[class]+$, ^[class]*$ with ASCII classes —
// else the compiled regular expression. A role name is checked for every
// role and every membership: the table is several times faster than the
// regexp engine, and than the memo a verdict would otherwise go through.
type textMatcher struct {
	re *regexp.Regexp

	table       bool
	first, rest [256]bool // the first byte's class, the other bytes'
	min         int       // 0 or 1: whether the string may be empty
}

func newTextMatcher(re *regexp.Regexp) *textMatcher {
	m := &textMatcher{re: re}
	m.table = m.compile(re.String())
	return m
}

func (m *textMatcher) match(s string) bool {
	if !m.table {
		return m.re.MatchString(s)
	}
	if len(s) == 0 {
		return m.min == 0
	}
	if !m.first[s[0]] {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !m.rest[s[i]] {
			return false
		}
	}
	return true
}

// compile fills the tables when the pattern has one of the table's
// shapes.
func (m *textMatcher) compile(pattern string) bool {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil || re.Op != syntax.OpConcat || len(re.Sub) < 3 {
		return false
	}
	subs := re.Sub
	if subs[0].Op != syntax.OpBeginText || subs[len(subs)-1].Op != syntax.OpEndText {
		return false
	}
	subs = subs[1 : len(subs)-1]
	repeated := func(r *syntax.Regexp) (*syntax.Regexp, bool) {
		if (r.Op == syntax.OpStar || r.Op == syntax.OpPlus) && r.Flags&syntax.NonGreedy == 0 && r.Sub[0].Op == syntax.OpCharClass {
			return r.Sub[0], true
		}
		return nil, false
	}
	switch {
	case len(subs) == 2 && subs[0].Op == syntax.OpCharClass: // [a][b]*
		rest, ok := repeated(subs[1])
		if !ok || subs[1].Op != syntax.OpStar {
			return false
		}
		m.min = 1
		return fillClass(&m.first, subs[0]) && fillClass(&m.rest, rest)
	case len(subs) == 1: // [a]+ or [a]*
		rest, ok := repeated(subs[0])
		if !ok {
			return false
		}
		if subs[0].Op == syntax.OpPlus {
			m.min = 1
		}
		return fillClass(&m.first, rest) && fillClass(&m.rest, rest)
	}
	return false
}

// fillClass sets the bytes of an ASCII character class; false for a class
// with anything beyond ASCII (or folded case: the parser has expanded it).
func fillClass(t *[256]bool, class *syntax.Regexp) bool {
	r := class.Rune
	for i := 0; i+1 < len(r); i += 2 {
		if r[i] < 0 || r[i+1] >= 0x80 {
			return false
		}
		for c := r[i]; c <= r[i+1]; c++ {
			t[c] = true
		}
	}
	return true
}
