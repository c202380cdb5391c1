package source

import (
	"fmt"
	"path/filepath"
	"time"
	"unicode/utf8"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Refused is what the state directory remembers of the commits of one
// source that the daemon will not use, so that a restarted daemon neither
// reads them again nor dies again on one:
//
//   - Commits: every refused commit (any refusal kind, a spec found
//     invalid, too large or too slow to evaluate), oldest first, at most
//     MaxRefused (the oldest are dropped);
//   - Evaluating: the commit whose spec is being read, recorded before it
//     is read and cleared after. A daemon that finds it at start died
//     while evaluating that commit (killed out of memory, most likely).
//
// The daemon forgets it all on a reload, which judges those commits again.
type Refused struct {
	Source     string          `json:"source"`
	Evaluating *Evaluating     `json:"evaluating,omitempty"`
	Commits    []RefusedCommit `json:"commits"`
}

// Evaluating is a commit being evaluated, and since when.
type Evaluating struct {
	Commit string    `json:"commit"`
	Since  time.Time `json:"since"`
}

// RefusedCommit is one refused commit.
type RefusedCommit struct {
	Commit string            `json:"commit"` // full hash
	Kind   model.RefusalKind `json:"kind"`   // why: a Refusal's kind, or invalid for a spec
	Reason string            `json:"reason"` // the error; at most MaxReason bytes
	At     time.Time         `json:"at"`
}

// MaxRefused bounds the refused commits remembered per source; MaxReason
// the bytes kept of each reason.
const (
	MaxRefused = 100
	MaxReason  = 4 << 10
)

const refusedVersion = 1

type refusedFile struct {
	Version int `json:"version"`
	Refused
}

func refusedPath(dir, source string) string { return filepath.Join(dir, source+".refused.json") }

// LoadRefused reads what dir remembers of source's refused commits. A
// missing file is an empty Refused. A file that exists but cannot be read
// or parsed, or breaks the bounds, is an error, never "nothing refused".
func LoadRefused(dir, source string) (*Refused, error) {
	if err := checkName(source); err != nil {
		return nil, fmt.Errorf("load refused commits: %w", err)
	}
	p := refusedPath(dir, source)
	var f refusedFile
	found, err := readStateFile(p, &f)
	if err != nil {
		return nil, fmt.Errorf("load refused commits: %w", err)
	}
	if !found {
		return &Refused{Source: source}, nil
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("load refused commits %s: corrupt: %s", p, fmt.Sprintf(format, args...))
	}
	switch {
	case f.Version != refusedVersion:
		return nil, fmt.Errorf("load refused commits %s: unsupported version %d", p, f.Version)
	case f.Source != source:
		return nil, bad("it is for source %q", f.Source)
	case len(f.Commits) > MaxRefused:
		return nil, bad("%d commits, at most %d are kept", len(f.Commits), MaxRefused)
	case f.Evaluating != nil && !validHash(f.Evaluating.Commit):
		return nil, bad("evaluating commit %q is not a full hash", f.Evaluating.Commit)
	}
	for _, c := range f.Commits {
		switch {
		case !validHash(c.Commit):
			return nil, bad("commit %q is not a full hash", c.Commit)
		case c.Kind == "":
			return nil, bad("commit %s has no kind", c.Commit)
		case len(c.Reason) > MaxReason:
			return nil, bad("the reason of commit %s is longer than %d bytes", c.Commit, MaxReason)
		}
	}
	return &f.Refused, nil
}

// SaveRefused writes r into dir atomically, as SaveState does; with no
// commit and none being evaluated, it removes the file.
func SaveRefused(dir string, r *Refused) error {
	if err := checkName(r.Source); err != nil {
		return fmt.Errorf("save refused commits: %w", err)
	}
	if len(r.Commits) > MaxRefused {
		return fmt.Errorf("save refused commits: %d commits, at most %d are kept", len(r.Commits), MaxRefused)
	}
	if r.Evaluating != nil && !validHash(r.Evaluating.Commit) {
		return fmt.Errorf("save refused commits: evaluating commit %q is not a full hash", r.Evaluating.Commit)
	}
	for _, c := range r.Commits {
		if !validHash(c.Commit) || c.Kind == "" || len(c.Reason) > MaxReason {
			return fmt.Errorf("save refused commits: bad entry for commit %q", c.Commit)
		}
	}
	p := refusedPath(dir, r.Source)
	var err error
	if len(r.Commits) == 0 && r.Evaluating == nil {
		err = removeStateFile(dir, p)
	} else {
		err = writeStateFile(dir, p, refusedFile{Version: refusedVersion, Refused: *r})
	}
	if err != nil {
		return fmt.Errorf("save refused commits: %w", err)
	}
	return nil
}

// Find returns the refusal of commit, if it is remembered.
func (r *Refused) Find(commit string) (RefusedCommit, bool) {
	for _, c := range r.Commits {
		if c.Commit == commit {
			return c, true
		}
	}
	return RefusedCommit{}, false
}

// Add remembers c (its reason cut to MaxReason bytes), replacing an
// earlier verdict on the same commit and dropping the oldest beyond
// MaxRefused. It reports whether the commit was new. Adding the commit
// being evaluated ends its evaluation.
func (r *Refused) Add(c RefusedCommit) bool {
	c.Reason = truncateUTF8(c.Reason, MaxReason)
	if r.Evaluating != nil && r.Evaluating.Commit == c.Commit {
		r.Evaluating = nil
	}
	for i := range r.Commits {
		if r.Commits[i].Commit == c.Commit {
			r.Commits[i] = c
			return false
		}
	}
	r.Commits = append(r.Commits, c)
	if n := len(r.Commits) - MaxRefused; n > 0 {
		r.Commits = append(r.Commits[:0:0], r.Commits[n:]...)
	}
	return true
}

// truncateUTF8 cuts s to at most n bytes, at a character boundary.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
