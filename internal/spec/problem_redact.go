package spec

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode"
)

// Secrets never reach a Problem: a message about a field that holds a
// password (user.password, pg_*_password) names the field and the
// reason, never the value. Where the path alone cannot tell (a conflict
// between two files, a CUE message about a field a password refers to),
// no value is shown at all. Problems are printed by validate, written to
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

// shape describes a node for a conflict message without its value: a
// scalar may be a password even on a path that names none (a YAML alias,
// a CUE reference to a hidden field), so only lists, structs and null,
// which hold no secret themselves, are described.
func (n *node) shape() string {
	switch n.kind {
	case kindList, kindMap, kindNull:
		return n.describe()
	}
	return redacted{}.String()
}

// redacted prints as a placeholder under every fmt verb, so a CUE message's
// format can be kept while its arguments are hidden.
type redacted struct{}

func (redacted) String() string                  { return "(value not shown)" }
func (r redacted) Format(f fmt.State, verb rune) { io.WriteString(f, r.String()) }

// redactArgs hides the arguments of a CUE message that may be values,
// keeping those that cannot (see harmlessArg), so "invalid operands %s and
// %s to '%s' (type %s and %s)" still names the operator and the kinds, and
// a syntax error what the parser expected.
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

// quotedToken is how the CUE parser names a punctuation token: '}'.
var quotedToken = regexp.MustCompile(`'[^\pL\pN\s'"` + "`" + `]+'`)

// harmlessArg reports whether a message argument cannot hold a value. CUE
// writes a string or bytes value quoted and a number with digits, so an
// argument with neither is a kind, a keyword, an operator, a token type or
// the parser's description of what it expected ("label or ':'").
func harmlessArg(s string) bool {
	rest := quotedToken.ReplaceAllString(s, "")
	return s != "" && !strings.ContainsFunc(rest, func(r rune) bool {
		return r == '"' || r == '\'' || r == '`' || unicode.IsDigit(r)
	})
}
