package source

import (
	"context"
	"io/fs"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/testenv/gitenv"
)

// An unverified source reads an unsigned commit (plan --rev without trust)
// and says so; without Unverified the same source needs keys.
func TestUnverifiedSource(t *testing.T) {
	r := gitenv.NewRepo(t)
	r.WriteFile("spec.cue", "package x\n")
	hash := r.Commit("unsigned", nil)
	if _, err := New(Config{Name: "s", URL: r.Dir}); err == nil {
		t.Fatal("a source without trusted keys was accepted")
	}
	s, err := New(Config{Name: "s", URL: r.Dir, Unverified: true})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := s.Resolve(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if snap.Commit != hash || snap.Signer.Fingerprint != "" || snap.Report.Verdicts[0].Reason == "" {
		t.Fatalf("snapshot %+v", snap)
	}
	if b, err := fs.ReadFile(snap.FS, "spec.cue"); err != nil || string(b) != "package x\n" {
		t.Fatalf("spec.cue: %q %v", b, err)
	}
}
