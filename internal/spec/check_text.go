package spec

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text checks. Every string of a spec that pgreconciler reads ends up in
// SQL, in pg_hba.conf or postgresql.auto.conf, or in a log line:
//
//   - no string may hold a NUL byte (no PostgreSQL text type holds one,
//     and the simple-query protocol ends the statement there) or bytes
//     that are not UTF-8 (Pigsty's databases are UTF8; the server rejects
//     the whole statement). The schema walk checks every string and key
//     it reads, whatever the field (checkText);
//   - names and settings that are written into a configuration file or
//     shown in a plan line may not hold a control character either (a
//     line break would start a new line of the file, or forge one of the
//     plan or log). The Go checks call checkName for them; parameter
//     values and HBA fields have their own checks.
//
// Problems quote a value escaped, on one line (quoteValue), and never a
// secret's; Problems.sort makes every message one line whatever its
// arguments (oneLine).

// maxQuoted bounds how much of a value a problem quotes.
const maxQuoted = 80

// textFault says why s cannot be stored as PostgreSQL text, or "".
func textFault(s string, secret bool) string {
	at, what := strings.IndexByte(s, 0), "a NUL byte"
	if at < 0 {
		if utf8.ValidString(s) {
			return ""
		}
		what = "a byte that is not UTF-8"
		for i, r := range s {
			if r == utf8.RuneError {
				if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
					at = i
					break
				}
			}
		}
	}
	if secret {
		return fmt.Sprintf("the value holds %s (value not shown), which PostgreSQL cannot store", what)
	}
	return fmt.Sprintf("%s holds %s at byte %d, which PostgreSQL cannot store", quoteValue(s), what, at)
}

// checkText reports a string (a value or a key) that PostgreSQL cannot
// store, at its position.
func (w *walker) checkText(p Pos, s string, secret bool) {
	if msg := textFault(s, secret); msg != "" {
		if path := w.path(); path != "" {
			msg = path + ": " + msg
		}
		w.problems = append(w.problems, Problem{Pos: p, Rule: RuleText, Message: msg})
	}
}

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

// controlAt returns the byte offset of the first control character of s
// (C0, DEL, C1, and the Unicode line and paragraph separators), or -1.
func controlAt(s string) int {
	return strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
	})
}

// checkName refuses a name or setting that holds a control character
// (what is a noun phrase: "schema name"). NUL and invalid UTF-8 are
// reported for every string by checkText.
func (cs *clusterSrc) checkName(n *node, rule, what string) {
	if n == nil || n.kind != kindString {
		return
	}
	if at := controlAt(n.scalar); at >= 0 {
		cs.fail(n.pos, rule, "%s %s holds a control character (a line break, tab …) at byte %d; names and settings must be one line of printable text",
			what, quoteValue(n.scalar), at)
	}
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
