package reconcile

import (
	"context"
	"slices"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/patroni"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// reports are the report-only changes the topology step adds to a plan:
// every topology finding, every member Patroni says waits for a restart,
// every Patroni setting that differs from what the inventory renders. They
// are never executed; they count as drift (kinds topology and patroni).
func (r *run) reports() []plan.Change {
	c, t := r.t.Cluster, r.out.Topology
	if t == nil {
		return nil
	}
	at := t.Leader
	if at == "" {
		if p := c.Primary(); p != nil {
			at = p.Name()
		}
	}
	var out []plan.Change
	for _, f := range t.Findings {
		in := f.Instance
		if in == "" {
			in = at
		}
		out = append(out, plan.Change{Kind: plan.KindTopology, Action: plan.ActionReport, Object: string(f.Kind),
			Cluster: c.Name, Instance: in, Reason: f.Detail})
	}
	if r.view != nil {
		for _, m := range r.view.Members {
			if m.PendingRestart {
				reason := "Patroni reports a pending restart: a parameter takes effect only when PostgreSQL restarts " +
					"(pg restart, patronictl restart, replicas first, the leader after a switchover); the reconciler never restarts on its own"
				switch {
				case m.ScheduledRestart != nil:
					reason += "; Patroni will restart it at " + m.ScheduledRestart.UTC().Format(time.RFC3339)
				case m.Role.Leads():
					reason += "; it leads: switch over first (pg switchover), then restart it as a replica"
				}
				out = append(out, plan.Change{Kind: plan.KindPatroni, Action: plan.ActionReport, Object: "pending_restart",
					Cluster: c.Name, Instance: m.Name, RequiresRestart: true, Reason: reason})
			}
		}
	}
	for _, f := range r.settings {
		out = append(out, plan.Change{Kind: plan.KindPatroni, Action: plan.ActionReport, Object: string(f.Kind),
			Cluster: c.Name, Instance: f.Instance, Reason: f.Detail})
	}
	return out
}

// withReports is cp with the reports appended, and the instances whose
// live role is not their pg_role shown with both.
func (r *run) withReports(cp plan.ClusterPlan) plan.ClusterPlan {
	cp.Changes = append(cp.Changes, r.reports()...)
	if t := r.out.Topology; t != nil && t.Leader != "" {
		cp.Instances = slices.Clone(cp.Instances)
		for i := range cp.Instances {
			in := &cp.Instances[i]
			switch leads := in.Name == t.Leader; {
			case leads && in.Role != string(model.RolePrimary):
				in.Role = "leader, pg_role " + in.Role
			case !leads && in.Role == string(model.RolePrimary):
				in.Role = "replica, pg_role " + in.Role
			}
		}
	}
	return cp
}

// checkSettings compares each member's Patroni REST settings with the
// inventory (patroni_ssl_enabled, patroni_username, Pigsty's allowlist):
// its patroni.yml when PatroniAccess.ConfigPath and Options.HBA can read
// it, and what its REST API answers a probe that changes nothing.
func (r *run) checkSettings(ctx context.Context) {
	c := r.t.Cluster
	want := expectSettings(c)
	for _, in := range c.Instances {
		got := model.PatroniSettings{Instance: in.Name()}
		if path := r.configPath(in); path != "" && r.opts.HBA != nil {
			if b, _, err := r.opts.HBA.Read(ctx, in, path); err == nil {
				if s, err := patroni.ParseSettings(in.Name(), b); err == nil {
					got = s
				}
			}
		}
		if p, err := r.patroni.Probe(ctx, r.restBase(in)); err == nil {
			got.Probe = p
		}
		r.settings = append(r.settings, patroni.CheckSettings(want, got)...)
	}
}

func (r *run) configPath(in *model.Instance) string {
	if r.opts.Patroni == nil || r.opts.Patroni.ConfigPath == nil {
		return ""
	}
	return r.opts.Patroni.ConfigPath(in)
}

// expectSettings is what Pigsty renders into patroni.yml: REST SSL and
// user from the patroni_* variables, the allowlist admin_ip, the cluster's
// members and the infra nodes.
func expectSettings(c *model.Cluster) model.PatroniExpect {
	allow := []string{}
	if c.Globals.AdminIP != "" {
		allow = append(allow, c.Globals.AdminIP)
	}
	allow = append(allow, c.MemberIPs()...)
	allow = append(allow, c.Globals.InfraIPs...)
	slices.Sort(allow)
	return model.PatroniExpect{SSL: c.Patroni.SSL, Username: c.Patroni.Username,
		Allowlist: slices.Compact(allow), Members: c.MemberIPs()}
}
