package source

import (
	"fmt"
	"strings"
)

// Refusal is the error for a commit the source will not hand out: a missing
// or untrusted signature, a history that breaks the policy, or a spec tree
// that breaks the tree rules. It needs a human; retrying will not help.
// Fetch and I/O failures are never a Refusal (they are worth a retry).
type Refusal struct {
	Commit string // full hash of the offending commit
	Path   string // for tree refusals: the path inside the repository
	Reason string
	Kind   RefusalKind
}

// RefusalKind classifies refusals for metrics and alerts.
type RefusalKind string

const (
	RefusedUnsigned     RefusalKind = "unsigned"      // the target carries no signature
	RefusedUntrusted    RefusalKind = "untrusted"     // signed by a key that is not trusted
	RefusedBadSignature RefusalKind = "bad_signature" // the signature does not verify
	RefusedExpired      RefusalKind = "expired"       // the key was expired, revoked or outside its validity
	RefusedRewind       RefusalKind = "rewind"        // not a descendant of the last applied commit
	RefusedHistory      RefusalKind = "history"       // a commit before the target fails (strict policy)
	RefusedTree         RefusalKind = "tree"          // the spec tree breaks the tree rules
)

// kindOfVerdict classifies a failed signature verdict.
func kindOfVerdict(reason string) RefusalKind {
	switch {
	case reason == ErrUnsigned.Error():
		return RefusedUnsigned
	case strings.Contains(reason, "unknown key"):
		return RefusedUntrusted
	case strings.Contains(reason, "revoked"), strings.Contains(reason, "expired"), strings.Contains(reason, "not valid"):
		return RefusedExpired
	}
	return RefusedBadSignature
}

func (r *Refusal) Error() string {
	if r.Path != "" {
		return fmt.Sprintf("refuse commit %s: %s: %s", short(r.Commit), r.Path, r.Reason)
	}
	return fmt.Sprintf("refuse commit %s: %s", r.Commit, r.Reason)
}

// short abbreviates a commit hash for messages about paths in its tree.
func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}
