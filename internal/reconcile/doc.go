// Package reconcile strings the other packages together for one cluster
// (inspect every instance → diff → apply) and runs the daemon that does
// it for a fleet: triggers, scheduling, one writer per cluster, backoff,
// metrics, status; what survives its restart (refused commits and the
// commit it died evaluating, in the state directory); the change-log
// floors of the rewind check (floors.go); the process memory limit.
//
// The CLI's plan and apply commands use the same per-cluster functions as
// the daemon, so a plan printed in a pull request is computed exactly as
// the daemon computes it.
package reconcile
