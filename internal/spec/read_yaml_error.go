package spec

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// yaml.v3 is a port of libyaml and finds the same two marks libyaml does:
// the problem (where the parser gave up) and its context (where the
// collection or scalar it was reading began). Its error text keeps one
// line number only, the context's when there is one, and for parser
// errors that number is 0-based: an unclosed "{" on line 3 came out as
// "line 2". yamlError recovers both marks' lines and reports the problem's,
// as libyaml does, naming the context's line in the message; the test
// compares them with libyaml's own.

// parserProblems are the problems yaml.v3's parser (not its scanner)
// reports (parserc.go); their line numbers are 0-based.
var parserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"found undefined tag handle":             true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

// yamlMark splits a yaml.v3 message into the 1-based line it names (0 when
// none) and the problem.
func yamlMark(err error) (line int, problem string) {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ":"); i > 0 {
			if l, err := strconv.Atoi(rest[:i]); err == nil {
				line, msg = l, strings.TrimSpace(rest[i+1:])
			}
		}
	}
	if line > 0 && parserProblems[msg] {
		line++
	}
	return line, msg
}

// yamlError turns a yaml.v3 error into a Problem at the line libyaml's
// problem mark names (or, when that is the end of the file, at its
// context), with the context's line in the message.
func yamlError(file string, data []byte, err error) Problem {
	if p, ok := badCharacter(file, data); ok {
		return p
	}
	line, problem := yamlMark(err)
	if name, ok := strings.CutPrefix(problem, "unknown anchor '"); ok && line == 0 {
		// yaml.v3 does not say where; libyaml's problem is the alias.
		line = aliasLine(data, strings.TrimSuffix(name, "' referenced"))
	}
	if line == 0 {
		line = 1 // both marks on the first line
	}
	msg := problem
	if context := yamlContexts[problem]; context != "" {
		ctxLine, probLine := yamlMarks(data, line, problem)
		switch {
		case probLine > countLines(data):
			// Nothing is wrong at the end of the file: what began at the
			// context was never closed.
			line = ctxLine
			msg += fmt.Sprintf(" (%s that starts here)", context)
		case probLine != ctxLine:
			line = probLine
			msg += fmt.Sprintf(" (%s that starts at line %d)", context, ctxLine)
		default:
			msg += fmt.Sprintf(" (%s)", context)
		}
	}
	return Problem{Pos: Pos{File: file, Line: int32(line), Col: 1}, Rule: RuleSyntax, Message: msg}
}

// yamlContexts are the contexts of libyaml's errors, by problem: the
// problem alone tells which one applies.
var yamlContexts = map[string]string{
	"did not find expected ',' or '}'":    "while parsing a flow mapping",
	"did not find expected ',' or ']'":    "while parsing a flow sequence",
	"did not find expected key":           "while parsing a block mapping",
	"did not find expected '-' indicator": "while parsing a block collection",
	"could not find expected ':'":         "while scanning a simple key",
	"found unexpected end of stream":      "while scanning a quoted scalar",
	"found unexpected document indicator": "while scanning a quoted scalar",
}

// yamlMarks recovers the lines of both marks of an error that has a
// context. yaml.v3 named the context's line, unless the context lies on
// the first line, when it named the problem's. Parsed again from the named
// line, a context found there lies on line 0, and yaml.v3 then names the
// problem's line; if that second parse does not fail the same way, the
// named line was the problem's and the context is on line 1.
func yamlMarks(data []byte, named int, problem string) (ctxLine, probLine int) {
	start := lineOffset(data, named)
	if start < 0 {
		return named, named
	}
	var doc yaml.Node
	err := yaml.NewDecoder(bytes.NewReader(data[start:])).Decode(&doc)
	if err == nil {
		return 1, named
	}
	rel, again := yamlMark(err)
	if again != problem {
		return 1, named
	}
	if rel == 0 {
		rel = 1
	}
	return named, named + rel - 1
}

// aliasLine returns the line of the first alias *name in data, or 0.
func aliasLine(data []byte, name string) int {
	for off := 0; ; {
		i := bytes.Index(data[off:], []byte("*"+name))
		if i < 0 {
			return 0
		}
		end := off + i + 1 + len(name)
		if end == len(data) || bytes.IndexByte([]byte(" \t\r\n,]}"), data[end]) >= 0 {
			return bytes.Count(data[:off+i], []byte("\n")) + 1
		}
		off = end
	}
}

// lineOffset returns the byte offset of 1-based line n, or -1.
func lineOffset(data []byte, n int) int {
	off := 0
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(data[off:], '\n')
		if j < 0 {
			return -1
		}
		off += j + 1
	}
	return off
}

// countLines is the number of lines of data (a last line without a line
// break counts).
func countLines(data []byte) int {
	n := bytes.Count(data, []byte("\n"))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	return n
}

// badCharacter finds the first byte YAML does not allow (invalid UTF-8, a
// control character other than tab and line breaks, a non-character):
// yaml.v3 refuses those without a position.
func badCharacter(file string, data []byte) (Problem, bool) {
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		var why string
		switch {
		case r == utf8.RuneError && size <= 1:
			why = "invalid UTF-8"
		case r == '\n':
			line, col = line+1, 0
		case r == '\t' || r == '\r' || r == 0x85:
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			why = fmt.Sprintf("control character %U is not allowed in YAML", r)
		case r == 0xfeff && i == 0:
		case (r >= 0xd800 && r <= 0xdfff) || r == 0xfffe || r == 0xffff:
			why = fmt.Sprintf("character %U is not allowed in YAML", r)
		}
		if why != "" {
			return Problem{Pos: Pos{File: file, Line: int32(line), Col: int32(col)}, Rule: RuleSyntax, Message: why}, true
		}
		i += size
		col++
	}
	return Problem{}, false
}
