package pgconf

import (
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// QuoteValue returns the SQL text to put after "ALTER SYSTEM SET name = "
// so that the server stores value:
//
//   - Most parameters: one string literal.
//   - GUC_LIST_QUOTE lists (see listParam): one literal per element,
//     'a', 'b'. ALTER SYSTEM quotes each literal as an identifier, so a
//     single literal 'a, b' would become ONE element called "a, b".
//   - An empty GUC_LIST_QUOTE list never becomes a quoted empty element (as
//     community.postgresql #744 wrote, after which the server would not
//     start): for search_path and temp_tablespaces it is the empty literal,
//     stored as "", which names no schema or tablespace, i.e. an empty
//     list; for the library and socket directory lists it is DEFAULT,
//     which is ALTER SYSTEM RESET: the value then comes from
//     postgresql.conf or the built-in default, so the caller must read it
//     back (Validate refuses the case where the built-in default is not
//     empty).
//
// Elements are written as they parse (unquoted identifiers downcased), so
// the stored value means what value means in postgresql.conf. A value with
// invalid list syntax is returned as one literal; Validate it first.
//
// QuoteValue follows the newest major's lists; QuoteSetting those of the
// server s was read from (unix_socket_directories is one string in 13).
func QuoteValue(name, value string) string {
	return quoteValue(name, value, newestMajor)
}

// QuoteSetting is QuoteValue for the server the pg_settings row s came from.
func QuoteSetting(value string, s *model.LiveSetting) string {
	return quoteValue(s.Name, value, major(s))
}

func quoteValue(name, value string, major int) string {
	l, ok := listParamOf(name, major)
	if !ok {
		return QuoteLiteral(value)
	}
	elems, ok := l.split(value)
	switch {
	case !ok:
		return QuoteLiteral(value)
	case len(elems) == 0 && l.identifiers:
		return "''"
	case len(elems) == 0:
		return "DEFAULT"
	}
	lits := make([]string, len(elems))
	for i, e := range elems {
		lits[i] = QuoteLiteral(e)
	}
	return strings.Join(lits, ", ")
}

// QuoteLiteral is PostgreSQL's quote_literal(): '…' with quotes doubled,
// and the E'…' form with backslashes doubled when there is a backslash,
// so the result reads the same whatever standard_conforming_strings says.
// It is the one SQL string quoting of the project (plans, the executor).
func QuoteLiteral(s string) string {
	q := "'" + strings.ReplaceAll(s, "'", "''") + "'"
	if strings.Contains(s, `\`) {
		return "E" + strings.ReplaceAll(q, `\`, `\\`)
	}
	return q
}
