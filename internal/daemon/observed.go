package daemon

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/reconcile"
)

// Drift the daemon heals is a change somebody made on the server outside
// the reconciler: the cluster had converged to the commit, and a drift
// check found it different again. Each object it heals gets a change-log
// row with status observed (apply.RecordObserved) — when it was seen and
// what differed, never a secret — next to the applied rows of the
// correction, so that `reconciler audit --since` lists it as an
// out-of-band change. Drift that is only observed (observe mode, the
// circuit breaker) or that a correction did not fix gets no row: it stays
// on the server, where the audit's live checks and the drift metrics see
// it, and a row per drift check would repeat it every drift_interval.

// observedTimeout bounds the write of observed rows after a reconcile.
const observedTimeout = 10 * time.Second

// maxObservedDiffLines caps the HBA rule lines an observed row quotes.
const maxObservedDiffLines = 10

// converged reports whether the cluster had converged to rev before: what
// a reconcile towards it then finds is drift, not the commit's changes.
func (st *sourceState) converged(rev *revision, cluster string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return !rev.pending[cluster]
}

// healedDrift lists what a reconcile of a converged cluster corrected, as
// observed at seen (the start of the reconcile, when it was inspected).
func healedDrift(c *model.Cluster, prov model.Provenance, o *reconcile.Outcome, seen time.Time) []apply.Observed {
	if o.Result == nil {
		return nil
	}
	var out []apply.Observed
	for _, oc := range o.Result.Outcomes {
		if oc.Status != plan.StatusApplied {
			continue
		}
		ch := oc.Change
		in := ch.Instance
		if in == "" {
			if p := c.Primary(); p != nil {
				in = p.Name()
			}
		}
		out = append(out, apply.Observed{At: seen, Cluster: c.Name, Instance: in, Kind: string(ch.Kind),
			Object: ch.Object, Action: ch.Action.String(), What: observedWhat(ch), Commit: prov.Commit})
	}
	return out
}

// observedWhat says what differed: the change's before and after (the
// plan's redacted, human-readable forms) and, for pg_hba.conf, the rule
// lines that differed (secret options redacted).
func observedWhat(ch plan.Change) string {
	var w string
	switch {
	case ch.Before != "" || ch.After != "":
		w = fmt.Sprintf("%s -> %s", orNone(ch.Before), orNone(ch.After))
	default:
		w = ch.Reason
	}
	if ch.HBA != nil && len(ch.HBA.Diff) > 0 {
		lines := ch.HBA.Diff
		more := ""
		if len(lines) > maxObservedDiffLines {
			more = fmt.Sprintf("\n… and %d more", len(lines)-maxObservedDiffLines)
			lines = lines[:maxObservedDiffLines]
		}
		w += "\n" + strings.Join(lines, "\n") + more
	}
	return w
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// recordObserved writes the observed rows of healed drift into the
// primary's change log. A failure is logged: the correction happened and
// its applied rows name the commit; the observation is what is lost.
func (d *Daemon) recordObserved(g *generation, c *model.Cluster, prov model.Provenance, obs []apply.Observed) {
	if len(obs) == 0 {
		return
	}
	log := d.log.With("cluster", c.Name)
	p := c.Primary()
	if p == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(g.workCtx), observedTimeout)
	defer cancel()
	conn, err := g.dialer.WithCommit(prov.Commit).Connect(ctx, p, "postgres")
	if err != nil {
		log.Error("cannot record the drift healed as observed in the change log", "err", err, "changes", len(obs))
		return
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := apply.RecordObserved(ctx, conn, obs); err != nil {
		log.Error("cannot record the drift healed as observed in the change log", "err", err, "changes", len(obs))
		return
	}
	for _, o := range obs {
		log.Info("out-of-band change healed, recorded as observed", "kind", o.Kind, "object", o.Object, "instance", o.Instance)
	}
}
