package spec

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestProblemsAreOneLine: whatever a value or a file name holds, every
// problem prints as one line, with control characters and bytes that are
// not UTF-8 escaped.
func TestProblemsAreOneLine(t *testing.T) {
	l := newTestLoader(t)
	fsys := fstest.MapFS{"evil\nname\u2028.cue": {Data: []byte(`package fleet
all: children: "pg-x": {
	hosts: "10.0.0.1": {pg_seq: 1, pg_role: "primary"}
	vars: pg_cluster: "pg-x"
	vars: pg_databases: [{name: "d", schemas: ["x\ny", "x\ny", "bell\u0007"], comment: "c\u0000"}]
}`)}}
	res, err := l.Load(fsys, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) < 4 {
		t.Fatalf("want at least 4 problems, got:\n%s", dump(res.Problems))
	}
	for _, p := range res.Problems {
		s := p.String()
		if strings.ContainsAny(s, "\n\r\x00\a\u2028") {
			t.Errorf("problem is not one line: %q", s)
		}
		if !strings.HasPrefix(s, `evil\nname\u2028.cue:`) {
			t.Errorf("file name not escaped: %q", s)
		}
	}
	if err := res.Err(); err == nil || strings.Count(err.Error(), "\n") != len(res.Problems) {
		t.Errorf("error has %d lines for %d problems: %v", strings.Count(err.Error(), "\n")+1, len(res.Problems), err)
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"plain é":           "plain é",
		"a\nb\tc\r":         `a\nb\tc\r`,
		"nul\x00 bad\xff":   `nul\x00 bad\xff`,
		"c1\u0085 ls\u2028": `c1\u0085 ls\u2028`,
	} {
		if got := oneLine(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
