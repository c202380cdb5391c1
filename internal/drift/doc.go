// Package drift turns what the reconciler saw and did into Prometheus
// metrics: drift per cluster, instance and drift class (from a
// plan.ClusterPlan), applied changes (from a plan.Result), reconcile
// outcomes and durations, instance reachability, pending restarts, and the
// state of each Git source (revision, signer, last fetch, verification
// failures).
//
// A Recorder owns its collectors and registers them on the registry it is
// given; NewRegistry makes a fresh registry with the Go and process
// collectors, which is what the daemon serves on /metrics. Nothing here is
// global: two Recorders on two registries never see each other.
//
// Labels are bounded: cluster, instance and source come from the
// configuration and the spec; kind, action, result and reason are closed
// sets. Role names, SQL and commit hashes never become label values, except
// the revision of pgreconciler_source_info, which holds exactly one series
// per source. Series of a cluster, instance or source that leaves the
// configuration are deleted (ForgetCluster, ForgetSource, and ObserveDrift
// for instances), and drift is zero-filled for every known instance and
// class so that series do not vanish while their cluster is known.
//
// What it does not do: it does not serve HTTP, schedule anything, or decide
// what a reconcile's result was; the daemon (package reconcile) calls the
// Recorder and cmd/reconciler serves the registry. Alert rules and the
// Grafana dashboard over these metrics live in deploy/, and this package's
// tests check that every metric they name exists.
//
// What it must not import: internal/apply and internal/inspect (it reads
// the Plan and Result of package plan, which both apply and drift read
// without importing each other), nor internal/dbconn, internal/source,
// internal/spec, internal/diff or internal/reconcile: it records what it is
// told and never looks for itself.
package drift
