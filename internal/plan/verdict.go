package plan

// Verdict is what one reconcile of a cluster came to. Its values are the
// result label of pgreconciler_reconcile_total and the last_result of a
// cluster at /status; package reconcile decides it, package drift counts
// it, the daemon schedules by it (backoff after a failure or a refusal).
type Verdict string

// The verdicts of a reconcile.
const (
	VerdictSuccess Verdict = "success" // inspected, and the plan applied (or observed) without error
	VerdictFailure Verdict = "failure" // an error: a server down, a change failed, a writer failed
	VerdictBusy    Verdict = "busy"    // skipped: another reconciler held the cluster's apply lock
	VerdictRefused Verdict = "refused" // a guard refused changes (lockout, protected object) and none failed, or the commit was refused under the lock
)

// Verdicts lists every verdict.
func Verdicts() []Verdict {
	return []Verdict{VerdictSuccess, VerdictFailure, VerdictBusy, VerdictRefused}
}
