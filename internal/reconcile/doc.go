// Package reconcile is the one place that reconciles one cluster:
// Cluster(ctx, target, options) runs an ordered list of steps, each with
// a doc comment stating its contract (steps.go), in the manner of Flux's
// reconcilers —
//
//	topology who leads: Patroni's REST API (Options.Patroni, clusters it
//	         manages) and pg_is_in_recovery() on every instance, weighed by
//	         package patroni; the reconcile then works on a copy of the
//	         cluster whose Primary is the live leader (topology.go)
//	lock     ModeApply: take the cluster's apply lock, on the leader, before
//	         the plan's inspection
//	inspect  read every instance, in parallel (package inspect), and the
//	         PgBouncer beside it when Options.PgBouncer is set (pooler.go)
//	diff     compute the plan (package diff, a pure function)
//	guard    may the cluster be written: primary answered, a leader is
//	         established, lock held, Gate admits
//	apply    execute the plan under the lock (package apply), or its dry run
//	replan   inspect again after an apply that changed something
//
// — and returns a typed Outcome: the verdict (plan.Verdict), the plan the
// apply worked from, what became of each change, the errors per instance,
// what is left, and whether the commit counts as applied to the cluster.
// Topology findings, Patroni's pending restarts and its settings drift are
// report-only changes (kinds topology and patroni) in the plans; the apply
// reloads through Patroni and asks it, before each unit of writes, whether
// the leader moved.
//
// `reconciler plan` (ModePlan), `reconciler apply` (ModeApply, ModeDryRun)
// and the daemon (package daemon) all call Cluster, so a plan printed in a
// pull request is computed exactly as the daemon computes it, under the
// same lock rules.
//
// What it does not do: it does not choose the commit or read the spec
// (package source and spec, called by the daemon and the CLI), keeps no
// state between reconciles, schedules nothing, records no metrics and
// writes no log lines of its own (the caller reads the Outcome; only the
// apply's per-change lines go to Options.Logger). It never restarts a
// server, switches over or writes Patroni's configuration. It imports
// inspect, diff, apply, dbconn, patroni, plan and model, and nothing above
// them (the layering test in internal/ holds it to that).
package reconcile
