package spec

import (
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// libyamlMarks are the lines of the context and problem marks that libyaml
// itself reports for broken inventories (0: no context). They were produced
// with Debian 12's python3-yaml 6.0 on libyaml 0.2.5, not at test time:
//
//	try: yaml.compose(src, Loader=yaml.CSafeLoader)
//	except yaml.MarkedYAMLError as e:
//	    print(e.context_mark.line+1 if e.context_mark else 0, e.problem_mark.line+1)
var libyamlMarks = []struct {
	name, src        string
	context, problem int
}{
	{"flow_map_unclosed", "all:\n  children:\n    pg-x: {hosts: {10.0.0.1: {pg_seq: 1}}\nx: [1, 2\n", 3, 4},
	{"flow_map_unclosed_eof", "all:\n  vars: {a: 1\n", 2, 3},
	{"flow_map_unclosed_next_key", "all:\n  vars: {a: 1,\n    b: 2\n  children: {}\n", 2, 4},
	{"flow_seq_unclosed", "all:\n  vars:\n    pg_users: [a, b\n    pg_x: 1\n", 3, 4},
	{"flow_seq_in_flow_map", "all:\n  vars: {l: [1, 2}\n", 2, 2},
	{"block_map_bad_indent", "all:\n  vars:\n    a: 1\n   b: 2\n", 2, 4},
	{"block_seq_bad", "all:\n  vars:\n    l:\n      - a\n     - b\n", 3, 5},
	{"block_seq_then_key", "all:\n  vars:\n    l:\n      - a\n      b: 1\n", 4, 5},
	{"tab_indent", "all:\n\tvars: 1\n", 2, 2},
	{"mapping_value_not_allowed", "all:\n  vars:\n    a: b: c\n", 0, 3},
	{"simple_key_no_colon", "all:\n  vars:\n    \"a\n", 3, 4},
	{"unclosed_quote", "all:\n  vars:\n    a: \"xyz\n    b: 2\n", 3, 5},
	{"unclosed_single_quote", "all:\n  vars:\n    a: 'xyz\n", 3, 4},
	{"bad_char", "all:\n  vars:\n    a: @x\n", 3, 3},
	{"alias_undefined", "all:\n  vars:\n    a: *nope\n", 0, 3},
	{"alias_in_flow", "all:\n  vars: {a: 1, b: *x}\n", 0, 2},
	{"first_line_flow", "all: {vars: 1\n", 1, 2},
	{"first_line_flow_more", "all: {vars: {a: 1}\nx: 2\ny: 3\n", 1, 2},
	{"doc_end_junk", "all:\n  vars: 1\n- x\n", 1, 3},
	{"nested_junk", "all:\n  children:\n    pg-x:\n      hosts: 1\n    - y\n", 3, 5},
	{"dup_tag", "%TAG ! a\n%TAG ! b\n---\nall: 1\n", 0, 2},
	{"key_no_value_flow", "all:\n  vars: {a: 1 b: 2}\n", 2, 2},
	{"deep_block_bad", "all:\n  children:\n    pg-test:\n      hosts:\n        10.0.0.1: {pg_seq: 1, pg_role: primary}\n      vars:\n        pg_cluster: pg-test\n        pg_users:\n          - name: a\n           password: x\n", 9, 10},
}

// A YAML syntax error is reported where libyaml's problem mark is (the
// line after an unclosed "{", never the line before it), or at the
// context when the problem is the end of the file; the context's line is
// named in the message when it differs.
func TestYAMLSyntaxErrorLines(t *testing.T) {
	l := newTestLoader(t)
	for _, c := range libyamlMarks {
		t.Run(c.name, func(t *testing.T) {
			res, err := l.Load(fstest.MapFS{"pigsty.yml": {Data: []byte(c.src)}}, Options{Profile: "none"})
			if err != nil {
				t.Fatal(err)
			}
			syntax := problemsOf(res.Problems, RuleSyntax)
			if len(syntax) != 1 {
				t.Fatalf("want one syntax problem, got:\n%s", dump(res.Problems))
			}
			p := syntax[0]
			want := c.problem
			if want > countLines([]byte(c.src)) {
				want = c.context
			}
			if int(p.Pos.Line) != want {
				t.Errorf("reported at line %d, libyaml's marks: context %d, problem %d\n%s", p.Pos.Line, c.context, c.problem, p)
			}
			if c.context != 0 && c.context != want && !strings.Contains(p.Message, "line "+strconv.Itoa(c.context)) {
				t.Errorf("the message does not name the context's line %d: %s", c.context, p)
			}
		})
	}
}

// Characters YAML does not allow are reported where they are.
func TestYAMLBadCharacter(t *testing.T) {
	l := newTestLoader(t)
	for _, c := range []struct {
		src  string
		pos  string
		text string
	}{
		{"all:\n  vars:\n    a: x\x00y\n", "pigsty.yml:3:9", "U+0000"},
		{"all:\n  vars: {a: \xff}\n", "pigsty.yml:2:13", "invalid UTF-8"},
		{"all:\n  vars:\n    a: \"x\x1by\"\n", "pigsty.yml:3:10", "U+001B"},
	} {
		res, err := l.Load(fstest.MapFS{"pigsty.yml": {Data: []byte(c.src)}}, Options{Profile: "none"})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Problems) != 1 || res.Problems[0].Pos.String() != c.pos || !strings.Contains(res.Problems[0].Message, c.text) {
			t.Errorf("%q: want one problem at %s about %s, got:\n%s", c.src, c.pos, c.text, dump(res.Problems))
		}
	}
}
