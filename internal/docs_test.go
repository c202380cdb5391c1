package internal_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPromisesNameRealTests: every test, fuzz target and test archive that
// docs/promises.md says holds a promise exists where it says. A test
// renamed or moved to another package must take its citation with it, or
// the promise is held by nothing the reader can find.
func TestPromisesNameRealTests(t *testing.T) {
	if n := checkCitations(t, "promises.md"); n < 20 {
		t.Fatalf("only %d test citations found in docs/promises.md: has its format changed?", n)
	}
}

// checkCitations checks that every test, fuzz target and test archive
// docs/<name> cites exists where it says, and returns how many tests it
// cites.
func checkCitations(t *testing.T, name string) int {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "docs", name))
	if err != nil {
		t.Fatal(err)
	}
	cited := regexp.MustCompile("`([a-z][a-z0-9/]*)\\.((?:Test|Fuzz|Benchmark)[A-Za-z0-9_]*)(\\*?)`").FindAllStringSubmatch(string(doc), -1)
	for _, m := range cited {
		pkg, test, prefix := m[1], m[2], m[3] == "*"
		if pkg == "package" { // the format's own example
			continue
		}
		dir := filepath.Join("..", "internal", pkg)
		switch pkg {
		case "cmd":
			dir = filepath.Join("..", "cmd", "reconciler")
		case "internal": // this package: the layering test
			dir = "."
		}
		if !declares(t, dir, test, prefix) {
			t.Errorf("docs/%s cites %s.%s%s, which %s does not declare", name, pkg, test, m[3], dir)
		}
	}
	// Archives: the CLI's scripts and the spec's valid and invalid cases.
	archives := []string{
		filepath.Join("..", "cmd", "reconciler", "testdata", "script"),
		filepath.Join("..", "internal", "spec", "testdata", "invalid"),
		filepath.Join("..", "internal", "spec", "testdata", "valid"),
	}
	for _, m := range regexp.MustCompile("`([a-z0-9_]+\\.txtar)`").FindAllStringSubmatch(string(doc), -1) {
		found := false
		for _, dir := range archives {
			if _, err := os.Stat(filepath.Join(dir, m[1])); err == nil {
				found = true
			}
		}
		if !found {
			t.Errorf("docs/%s cites the test archive %s, which none of %v holds", name, m[1], archives)
		}
	}
	return len(cited)
}

// declares reports whether a _test.go file of dir declares func name (or,
// with prefix, a func whose name starts with it).
func declares(t *testing.T, dir, name string, prefix bool) bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			rest, ok := strings.CutPrefix(line, "func "+name)
			if ok && (prefix || strings.HasPrefix(rest, "(")) {
				return true
			}
		}
	}
	return false
}
