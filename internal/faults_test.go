package internal_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestFaultIndex: docs/faults.md, the index of the fault and
// hostile-input suite (issue #18), names only tests that exist, every
// case names at least one, and the README's security section reports the
// index's counts.
func TestFaultIndex(t *testing.T) {
	checkCitations(t, "faults.md")
	doc, err := os.ReadFile(filepath.Join("..", "docs", "faults.md"))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	section := ""
	for _, line := range strings.Split(string(doc), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			section = h
			continue
		}
		if section != "Hostile input" && section != "Faults" || !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| case ") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) != 6 {
			t.Errorf("docs/faults.md: a row of %d cells: %s", len(cells)-2, line)
			continue
		}
		if !regexp.MustCompile("`[a-z][a-z0-9/]*\\.(Test|Fuzz)[A-Za-z0-9_]*`|`[a-z0-9_]+\\.txtar`").MatchString(cells[4]) {
			t.Errorf("docs/faults.md: case %s names no test", strings.TrimSpace(cells[1]))
		}
		counts[section]++
	}
	inputs, faults := counts["Hostile input"], counts["Faults"]
	if inputs < 10 || faults < 5 {
		t.Fatalf("docs/faults.md: %d hostile-input cases, %d faults: has its format changed?", inputs, faults)
	}
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := strconv.Itoa(inputs) + " hostile-input cases and " + strconv.Itoa(faults) + " faults"
	if !strings.Contains(strings.Join(strings.Fields(string(readme)), " "), want) {
		t.Errorf("README.md does not report the counts of docs/faults.md: want %q in its security section", want)
	}
}
