package source

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStateRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	st, err := LoadState(dir, "prod")
	if err != nil || st != (State{}) {
		t.Fatalf("no file: %+v, %v; want the zero state", st, err)
	}
	want := State{Source: "prod", Commit: strings.Repeat("a1", 20), Signer: "SHA256:x",
		AppliedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := SaveState(dir, want); err != nil {
		t.Fatal(err)
	}
	want.Commit = strings.Repeat("b2", 20)
	if err := SaveState(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := LoadState(dir, "prod")
	if err != nil || got != want {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "prod.state.json" {
		t.Errorf("state dir holds %v, want only prod.state.json", entries)
	}
}

func TestStateRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	good := `{"version":1,"source":"prod","commit":"` + strings.Repeat("ab", 20) + `","applied_at":"2026-01-01T00:00:00Z"}`
	for name, content := range map[string]string{
		"empty":         "",
		"truncated":     good[:30],
		"not json":      "commit=abc",
		"trailing data": good + good,
		"other source":  strings.Replace(good, `"prod"`, `"dev"`, 1),
		"short hash":    strings.Replace(good, strings.Repeat("ab", 20), "abcdef", 1),
		"upper hash":    strings.Replace(good, strings.Repeat("ab", 20), strings.Repeat("AB", 20), 1),
		"version":       strings.Replace(good, `"version":1`, `"version":2`, 1),
		"unknown field": strings.Replace(good, `{`, `{"extra":1,`, 1),
	} {
		writeFile(t, filepath.Join(dir, "prod.state.json"), content)
		if _, err := LoadState(dir, "prod"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, st := range []State{
		{Source: "../etc", Commit: strings.Repeat("ab", 20)},
		{Source: "", Commit: strings.Repeat("ab", 20)},
		{Source: "prod", Commit: "HEAD"},
	} {
		if err := SaveState(dir, st); err == nil {
			t.Errorf("SaveState(%+v) accepted", st)
		}
	}
	if _, err := LoadState(dir, "a/b"); err == nil {
		t.Error("LoadState accepted a source name with a slash")
	}
}
