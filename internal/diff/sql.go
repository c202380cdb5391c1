package diff

import (
	"strings"

	"github.com/jackc/pgx/v5"
)

// ident quotes an identifier the way PostgreSQL reads it back verbatim.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// literal quotes a string constant, escaping quotes (and backslashes, with
// an E” literal, so the result is right whatever standard_conforming_strings
// says).
func literal(s string) string {
	if strings.Contains(s, `\`) {
		return "E'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `'`, `''`) + "'"
	}
	return "'" + strings.ReplaceAll(s, `'`, `''`) + "'"
}
