package main

import (
	"fmt"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/source"
)

// impactRefused reports whether plan --fail-on-impact fails: the plan
// cuts off live clients and the planned commit does not accept it with
// the trailer Impact-Accepted: yes. The trailer counts only on a verified
// commit (its signature covers the message); a work tree has none.
func impactRefused(e *env, t *target, p *plan.Plan) bool {
	n, _, _ := p.CutsOff()
	if n == 0 {
		return false
	}
	if t.snap != nil && source.ImpactAccepted(t.snap.Message) {
		if t.prov.Signer != "" {
			fmt.Fprintf(e.stderr, "reconciler plan: the plan cuts off %s; accepted by commit %s (%s: yes, signed by %s)\n",
				p.CutOffText(), model.ShortHash(t.snap.Commit), source.ImpactAcceptedTrailer, t.prov.Signer)
			return false
		}
		fmt.Fprintf(e.stderr, "reconciler plan: commit %s says %s: yes but is not verified (no trusted keys): not accepted\n",
			model.ShortHash(t.snap.Commit), source.ImpactAcceptedTrailer)
	}
	fmt.Fprintf(e.stderr, "reconciler plan: --fail-on-impact: the plan would cut off %s (%d impact(s), see its Impact section); "+
		"a reviewer accepts it with the commit trailer %s: yes\n", p.CutOffText(), n, source.ImpactAcceptedTrailer)
	return true
}
