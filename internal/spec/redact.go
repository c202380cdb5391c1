package spec

import (
	"fmt"
	"io"
	"strings"
	"unicode"
)

// Secrets never reach a Problem: a message about a field that holds a
// password (user.password, pg_*_password) names the field and the
// reason, never the value. Problems are printed by validate, written to
// the daemon's log and returned as errors, so they are as public as a log.

// secretPath reports whether the last element of a data path ("a.b[2].c"
// or CUE's selector list) names a secret-bearing field.
func secretPath(path string) bool {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		path = path[i+1:]
	}
	return secretField(path)
}

func secretField(name string) bool {
	return name == "password" || strings.HasSuffix(name, "_password")
}

// describeAt is describe, except for a secret field, whose value is not shown.
func (n *node) describeAt(path string) string {
	if secretPath(path) {
		return redacted{}.String()
	}
	return n.describe()
}

// redacted prints as a placeholder under every fmt verb, so a CUE message's
// format can be kept while its arguments are hidden.
type redacted struct{}

func (redacted) String() string                  { return "(value not shown)" }
func (r redacted) Format(f fmt.State, verb rune) { io.WriteString(f, r.String()) }

// redactArgs hides the arguments of a CUE message that may be values,
// keeping those that are only a kind ("string", "int") or an operator
// ("+"), so "invalid operands %s and %s to '%s'" still says what went wrong.
func redactArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if harmlessArg(fmt.Sprint(a)) {
			out[i] = a
		} else {
			out[i] = redacted{}
		}
	}
	return out
}

var cueKinds = map[string]bool{
	"string": true, "bytes": true, "int": true, "float": true, "number": true,
	"bool": true, "null": true, "struct": true, "list": true, "_|_": true, "_": true,
}

func harmlessArg(s string) bool {
	if cueKinds[s] {
		return true
	}
	for _, r := range s {
		if r == '"' || r == '\'' || unicode.IsLetter(r) || unicode.IsDigit(r) {
			return false
		}
	}
	return s != ""
}
