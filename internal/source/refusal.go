package source

import "fmt"

// Refusal is the error for a commit the source will not hand out: a missing
// or untrusted signature, a history that breaks the policy, or a spec tree
// that breaks the tree rules. It needs a human; retrying will not help.
// Fetch and I/O failures are never a Refusal (they are worth a retry).
type Refusal struct {
	Commit string // full hash of the offending commit
	Path   string // for tree refusals: the path inside the repository
	Reason string
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
