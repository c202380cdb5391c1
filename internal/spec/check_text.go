package spec

import (
	"fmt"
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
//     it reads, whatever the field (checkText, schema_walk.go);
//   - names and settings that are written into a configuration file or
//     shown in a plan line may not hold a control character either (a
//     line break would start a new line of the file, or forge one of the
//     plan or log). The Go checks call checkName for them; parameter
//     values and HBA fields have their own checks.

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

// controlAt returns the byte offset of the first control character of s
// (C0, DEL, C1, and the Unicode line and paragraph separators), or -1.
func controlAt(s string) int {
	return strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
	})
}

// checkName refuses a name or setting that holds a control character
// (what is a noun phrase: "schema name"). NUL and invalid UTF-8 are
// reported for every string by checkText (schema_walk.go).
func (cs *clusterSrc) checkName(n *node, rule, what string) {
	if n == nil || n.kind != kindString {
		return
	}
	if at := controlAt(n.scalar()); at >= 0 {
		cs.fail(n.pos(), rule, "%s %s holds a control character (a line break, tab …) at byte %d; names and settings must be one line of printable text",
			what, quoteValue(n.scalar()), at)
	}
}
