package dbconn

import "strings"

// hint says why a login failed when the error alone does not: libpq
// reports "no password supplied" before asking the server; pgx sends an
// empty password and the server answers "password authentication failed"
// (28P01), which reads like a wrong password.
func (e *ConnectError) hint() string {
	if e.NoPassword && SQLState(e.Err) == "28P01" {
		return " (no password was supplied: set PGPASSWORD, or give a passfile: connection.passfile, PGPASSFILE or ~/.pgpass)"
	}
	return ""
}

// onceEach drops the repeated lines of a multi-line error. pgx reports one
// line per connection attempt, and sslmode=prefer (or allow) tries the same
// address twice, with and without TLS: a refused connection would read
// twice otherwise.
func onceEach(msg string) string {
	lines := strings.Split(msg, "\n")
	seen := make(map[string]bool, len(lines))
	out := lines[:0]
	for _, l := range lines {
		k := strings.TrimSpace(l)
		if k != "" && seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
