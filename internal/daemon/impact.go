package daemon

import (
	"fmt"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/reconcile"
	"github.com/pgreconciler/pgreconciler/internal/source"
)

// The impact hold (issue #19; docs/daemon.md): the daemon does not
// auto-apply a change whose plan would cut off live clients (plan.Change
// CutsOff: rejected by the new pg_hba.conf, a NOLOGIN or an expiry on a
// role with open sessions, a connection limit below them, a dropped role
// with sessions) unless the commit it applies carries the trailer
// Impact-Accepted: yes — part of the commit message, so signed with it.
// The held changes are skipped, the rest of the plan is applied, and the
// reconcile is refused (pgreconciler_reconcile_total{result="refused"},
// backoff, /status last_result and held): the commit is not recorded as
// applied to the cluster until a commit that accepts the impact (or no
// longer has it) arrives.

// impactHold is the hold reason of a change that cuts off live clients.
const impactHold = "impact: would cut off live clients (see the plan's Impact); held until a commit carries " +
	source.ImpactAcceptedTrailer + ": yes"

// impactAccepted reports whether the revision's commit accepts cutting off
// live clients.
func impactAccepted(rev *revision) bool {
	return rev.snap != nil && source.ImpactAccepted(rev.snap.Message)
}

// heldForImpact lists the changes of the plan that hold kept back for
// their impact: "instance kind object (N sessions)".
func heldForImpact(cp plan.ClusterPlan, hold func(plan.Change) string) []string {
	var out []string
	for _, ch := range cp.Changes {
		if ch.CutsOff() && hold(ch) == impactHold {
			one := plan.Plan{Clusters: []plan.ClusterPlan{{Changes: []plan.Change{ch}}}}
			out = append(out, fmt.Sprintf("%s (%s)", changeKey(ch), one.CutOffText()))
		}
	}
	return out
}

// refuseHeld makes a reconcile that held changes for their impact a
// refusal: the commit is not applied to the cluster while it cuts off
// live clients without saying so.
func refuseHeld(o *reconcile.Outcome, held []string) {
	if len(held) == 0 {
		return
	}
	msg := "held, would cut off live clients without " + source.ImpactAcceptedTrailer + ": yes: " + strings.Join(held, "; ")
	if o.Verdict == plan.VerdictSuccess {
		o.Verdict, o.Message = plan.VerdictRefused, msg
		return
	}
	o.Message += "; " + msg
}
