package pgconf

import (
	"strings"
	"unicode/utf8"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// listParam is a list-valued parameter flagged GUC_LIST_QUOTE: when
// ALTER SYSTEM (or SET) flattens its arguments, each one is passed through
// quote_identifier() and the results are joined with ", ". So
// "ALTER SYSTEM SET shared_preload_libraries = 'a, b'" stores ONE element
// named "a, b" (shown as "a, b" in double quotes) and the next restart fails;
// the elements must be given one literal each: = 'a', 'b'.
//
// The set, as ALTER SYSTEM shows it (the oracle test checks it on every
// major): search_path and temp_tablespaces hold SQL identifiers, read with
// SplitIdentifierString (unquoted names are downcased and cut to 63
// bytes); the preload library lists, unix_socket_directories (PostgreSQL
// 14+: 13 takes one string) and oauth_validator_libraries (18+) hold paths,
// read with SplitDirectoriesString (names end at a comma, case is kept).
//
// Other list parameters (DateStyle, listen_addresses, log_destination,
// synchronous_standby_names, wal_consistency_checking,
// restrict_nonsystem_relation_kind; debug_io_direct in PG16) are not
// quoted element by element; they are written and compared as plain
// strings.
type listParam struct {
	identifiers bool
	major       int // the server's, for quote_identifier()'s keywords
}

// listParamOf tells whether name is such a list on PostgreSQL major.
func listParamOf(name string, major int) (listParam, bool) {
	switch strings.ToLower(name) {
	case "search_path", "temp_tablespaces":
		return listParam{identifiers: true, major: major}, true
	case "shared_preload_libraries", "session_preload_libraries", "local_preload_libraries",
		"oauth_validator_libraries":
		return listParam{major: major}, true
	case "unix_socket_directories":
		return listParam{major: major}, major >= 14
	}
	return listParam{}, false
}

// namedatalen is PostgreSQL's NAMEDATALEN: identifiers keep 63 bytes.
const namedatalen = 64

// split reads a list the way PostgreSQL reads the stored value: elements
// separated by commas, optionally double-quoted (with "" for a quote), and
// whitespace around them ignored. It reports false for invalid list syntax
// (an unmatched quote, an empty unquoted element, junk after a quoted one).
func (l listParam) split(s string) ([]string, bool) {
	i := skipSpace(s, 0)
	if i == len(s) {
		return nil, true
	}
	var out []string
	for {
		if i == len(s) {
			return nil, false // nothing after a comma
		}
		var name string
		switch {
		case s[i] == '"':
			var b strings.Builder
			j := i + 1
			for {
				k := strings.IndexByte(s[j:], '"')
				if k < 0 {
					return nil, false
				}
				b.WriteString(s[j : j+k])
				j += k + 1
				if j < len(s) && s[j] == '"' {
					b.WriteByte('"')
					j++
					continue
				}
				break
			}
			name, i = b.String(), j
		case l.identifiers:
			j := i
			for j < len(s) && s[j] != ',' && !isSpace(s[j]) {
				j++
			}
			if j == i {
				return nil, false
			}
			name, i = downcase(s[i:j]), j
		default:
			j, end := i, i
			for j < len(s) && s[j] != ',' {
				if !isSpace(s[j]) {
					end = j + 1
				}
				j++
			}
			if end == i {
				return nil, false
			}
			name, i = s[i:end], j
		}
		if l.identifiers {
			name = truncateIdentifier(name)
		}
		out = append(out, name)
		i = skipSpace(s, i)
		if i == len(s) {
			return out, true
		}
		if s[i] != ',' {
			return nil, false
		}
		i = skipSpace(s, i+1)
	}
}

// display is what pg_settings shows once QuoteValue's literals went
// through ALTER SYSTEM: the elements, each through quote_identifier(),
// joined with ", ". An empty identifier list is written as an empty literal and shows
// as "" (see QuoteValue).
func (l listParam) display(elems []string) string {
	if len(elems) == 0 {
		if l.identifiers {
			return `""`
		}
		return ""
	}
	quoted := make([]string, len(elems))
	for i, e := range elems {
		quoted[i] = quoteIdent(e, l.major)
	}
	return strings.Join(quoted, ", ")
}

// check refuses path lists ALTER SYSTEM would accept but the server could
// not use: an empty element (quote_identifier writes "", and the next start
// fails to load a library named ""), and an empty list where the built-in
// default is not empty (ALTER SYSTEM cannot write one; RESET restores the
// default instead).
func (l listParam) check(value string, elems []string, s *model.LiveSetting) error {
	if l.identifiers {
		return nil
	}
	for _, e := range elems {
		if e == "" {
			e := invalidValue(s.Name, value, "")
			e.Detail = "A list element is empty."
			return e
		}
	}
	if len(elems) == 0 && s.BootVal != "" {
		e := invalidValue(s.Name, value, "")
		e.Detail = `ALTER SYSTEM cannot write an empty list; RESET restores the default "` + s.BootVal + `".`
		return e
	}
	return nil
}

// quoteIdent is PostgreSQL's quote_identifier() with quote_all_identifiers
// off: names of lowercase letters, digits and '_' (not starting with a
// digit) that are not keywords of that major stay bare.
func quoteIdent(s string, major int) string {
	safe := s != "" && (s[0] >= 'a' && s[0] <= 'z' || s[0] == '_')
	for i := 0; safe && i < len(s); i++ {
		c := s[i]
		safe = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
	}
	if safe && !isKeyword(s, major) {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// downcase is downcase_identifier() for a UTF-8 database, and the folding
// of pg_strcasecmp: ASCII letters only.
func downcase(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// truncateIdentifier cuts s to NAMEDATALEN-1 bytes without splitting a
// UTF-8 character, as truncate_identifier() does.
func truncateIdentifier(s string) string {
	if len(s) < namedatalen {
		return s
	}
	n := namedatalen - 1
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
