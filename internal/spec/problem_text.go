package spec

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Problems quote a value escaped, on one line (quoteValue), and never a
// secret's (problem_redact.go); Problems.sort makes every message one line
// whatever its arguments (oneLine).

// maxQuoted bounds how much of a value a problem quotes.
const maxQuoted = 80

// quoteValue quotes a value for a problem: Go-escaped (so on one line),
// shortened to maxQuoted bytes.
func quoteValue(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}

// oneLine escapes what would break a message over lines or hide part of
// it: control characters, line separators and bytes that are not UTF-8.
func oneLine(s string) string {
	if utf8.ValidString(s) && controlAt(s) < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
