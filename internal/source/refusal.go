package source

import (
	"fmt"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Refusal is the error for a commit the source will not hand out: a missing
// or untrusted signature, a history that breaks the policy, or a spec tree
// that breaks the tree rules. It needs a human; retrying will not help.
// Fetch and I/O failures are never a Refusal (they are worth a retry).
type Refusal struct {
	Commit string // full hash of the offending commit
	Path   string // for tree refusals: the path inside the repository
	Reason string
	Kind   model.RefusalKind // for metrics and alerts: unsigned, untrusted, bad_signature, expired, rewind, history or tree
}

// kindOfVerdict classifies a failed signature verdict.
func kindOfVerdict(reason string) model.RefusalKind {
	switch {
	case reason == ErrUnsigned.Error():
		return model.RefusalUnsigned
	case strings.Contains(reason, "unknown key"):
		return model.RefusalUntrusted
	case strings.Contains(reason, "revoked"), strings.Contains(reason, "expired"), strings.Contains(reason, "not valid"):
		return model.RefusalExpired
	}
	return model.RefusalBadSignature
}

func (r *Refusal) Error() string {
	if r.Path != "" {
		return fmt.Sprintf("refuse commit %s: %s: %s", model.ShortHash(r.Commit), r.Path, r.Reason)
	}
	return fmt.Sprintf("refuse commit %s: %s", r.Commit, r.Reason)
}
