package source

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
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

func TestRefusedRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	r, err := LoadRefused(dir, "prod")
	if err != nil || r.Source != "prod" || len(r.Commits) != 0 || r.Evaluating != nil {
		t.Fatalf("no file: %+v, %v; want nothing refused", r, err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	hash := func(i int) string { return fmt.Sprintf("%040x", i+1) }
	r.Evaluating = &Evaluating{Commit: hash(0), Since: at}
	if !r.Add(RefusedCommit{Commit: hash(0), Kind: "invalid", Reason: strings.Repeat("é", MaxReason), At: at}) {
		t.Fatal("a new commit was not added")
	}
	if r.Evaluating != nil {
		t.Error("refusing the commit being evaluated does not end its evaluation")
	}
	if got := r.Commits[0].Reason; len(got) != MaxReason || !utf8.ValidString(got) {
		t.Errorf("reason cut to %d bytes (valid UTF-8: %v), want %d", len(got), utf8.ValidString(got), MaxReason)
	}
	if r.Add(RefusedCommit{Commit: hash(0), Kind: "rewind", Reason: "again", At: at}) || len(r.Commits) != 1 || r.Commits[0].Kind != "rewind" {
		t.Errorf("the same commit twice: %+v", r.Commits)
	}
	for i := 1; i <= MaxRefused; i++ {
		r.Add(RefusedCommit{Commit: hash(i), Kind: "unsigned", Reason: "unsigned", At: at})
	}
	if len(r.Commits) != MaxRefused || r.Commits[0].Commit != hash(1) {
		t.Fatalf("%d commits, first %s; want %d, the oldest dropped", len(r.Commits), r.Commits[0].Commit, MaxRefused)
	}
	r.Evaluating = &Evaluating{Commit: strings.Repeat("c", 64), Since: at}
	if err := SaveRefused(dir, r); err != nil {
		t.Fatal(err)
	}
	got, err := LoadRefused(dir, "prod")
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("loaded %+v, %v; want what was saved", got, err)
	}
	if c, ok := got.Find(hash(5)); !ok || c.Kind != "unsigned" {
		t.Errorf("Find = %+v, %v", c, ok)
	}
	if _, ok := got.Find(hash(0)); ok {
		t.Error("a dropped commit is still found")
	}
	if err := SaveRefused(dir, &Refused{Source: "prod"}); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("nothing refused, but the state dir holds %v", entries)
	}
}

func TestRefusedRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	c := strings.Repeat("ab", 20)
	good := `{"version":1,"source":"prod","commits":[{"commit":"` + c + `","kind":"invalid","reason":"x","at":"2026-01-01T00:00:00Z"}]}`
	if err := os.WriteFile(filepath.Join(dir, "prod.refused.json"), []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadRefused(dir, "prod"); err != nil {
		t.Fatalf("the good file: %v", err)
	}
	many := `{"version":1,"source":"prod","commits":[` + strings.TrimSuffix(strings.Repeat(`{"commit":"`+c+`","kind":"invalid","reason":"x"},`, MaxRefused+1), ",") + `]}`
	for name, content := range map[string]string{
		"empty":         "",
		"truncated":     good[:40],
		"trailing data": good + good,
		"other source":  strings.Replace(good, `"prod"`, `"dev"`, 1),
		"short hash":    strings.Replace(good, c, "abcdef", 1),
		"no kind":       strings.Replace(good, `"kind":"invalid"`, `"kind":""`, 1),
		"version":       strings.Replace(good, `"version":1`, `"version":2`, 1),
		"unknown field": strings.Replace(good, `{"version"`, `{"extra":1,"version"`, 1),
		"bad marker":    strings.Replace(good, `"commits"`, `"evaluating":{"commit":"HEAD"},"commits"`, 1),
		"long reason":   strings.Replace(good, `"reason":"x"`, `"reason":"`+strings.Repeat("x", MaxReason+1)+`"`, 1),
		"too many":      many,
		"too large":     good + strings.Repeat(" ", maxStateFile),
	} {
		writeFile(t, filepath.Join(dir, "prod.refused.json"), content)
		if _, err := LoadRefused(dir, "prod"); err == nil || !strings.Contains(err.Error(), "prod.refused.json") {
			t.Errorf("%s: %v; want an error naming the file", name, err)
		}
	}
	for _, r := range []*Refused{
		{Source: "../etc"},
		{Source: "prod", Commits: []RefusedCommit{{Commit: "HEAD", Kind: "invalid"}}},
		{Source: "prod", Evaluating: &Evaluating{Commit: "abc"}},
	} {
		if err := SaveRefused(dir, r); err == nil {
			t.Errorf("SaveRefused(%+v) accepted", r)
		}
	}
}
