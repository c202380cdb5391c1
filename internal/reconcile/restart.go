package reconcile

import (
	"context"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/patroni"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// ScheduledRestart is a restart the reconcile asked Patroni for
// (reconciler_restart: scheduled).
type ScheduledRestart struct {
	Instance string
	At       time.Time
	Err      error // why Patroni did not take it; nil when scheduled
}

// restart carries out the cluster's explicit restart: scheduled policy, in
// ModeApply once the guard let the reconcile write: every replica Patroni
// reports with a pending restart and no restart scheduled yet gets one, at
// the start of the next maintenance window (POST /restart with schedule,
// restart_pending and role replica, so Patroni skips it if the member
// became the leader or the restart is no longer pending by then). The
// leader is never restarted: its pending restart stays reported until an
// operator switches over. Restarts a Hold keeps back (the parameter class
// in observe mode) are not asked for.
func (r *run) restart(ctx context.Context) {
	c := r.t.Cluster
	if !r.writable || c.Patroni.Restart != model.RestartScheduled || r.patroni == nil || r.view == nil {
		return
	}
	at := nextWindow(time.Now(), c.Patroni.Window)
	asked := false
	for _, m := range r.view.Members {
		if !m.PendingRestart || m.ScheduledRestart != nil || m.Role.Leads() {
			continue
		}
		in := c.Instance(m.Name)
		if in == nil {
			continue
		}
		if r.opts.Hold != nil && r.opts.Hold(plan.Change{Kind: plan.KindParameter, Action: plan.ActionChange,
			Object: "restart", Cluster: c.Name, Instance: m.Name, RequiresRestart: true}) != "" {
			continue
		}
		_, err := r.patroni.Restart(ctx, r.restBase(in), patroni.RestartRequest{Schedule: at, Pending: true, Role: "replica"})
		r.out.Restarts = append(r.out.Restarts, ScheduledRestart{Instance: m.Name, At: at, Err: err})
		asked = asked || err == nil
	}
	if asked {
		r.refreshView(ctx)
		r.out.Left = r.withReports(planWithoutReports(r.out.Left))
	}
}

// nextWindow is the next start of the daily window (minutes after
// midnight UTC) at least a minute after now: Patroni refuses a schedule in
// the past.
func nextWindow(now time.Time, minutes int) time.Time {
	now = now.UTC()
	at := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).Add(time.Duration(minutes) * time.Minute)
	if at.Before(now.Add(time.Minute)) {
		at = at.Add(24 * time.Hour)
	}
	return at
}

// planWithoutReports is cp without the reports withReports added.
func planWithoutReports(cp plan.ClusterPlan) plan.ClusterPlan {
	out := cp
	out.Changes = nil
	for _, ch := range cp.Changes {
		if ch.Kind != plan.KindTopology && ch.Kind != plan.KindPatroni {
			out.Changes = append(out.Changes, ch)
		}
	}
	return out
}
