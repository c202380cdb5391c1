// Package daemon is `reconciler run`: it follows the signed commits of its
// sources and keeps the clusters they describe converged, reconciling each
// cluster through package reconcile (reconcile.Cluster: lock, inspect,
// diff, guard, apply, re-plan).
//
// What it owns, by file:
//
//   - daemon.go: the Daemon, a configuration run as a generation (its
//     sources, workers and triggers), reload (SIGHUP) and shutdown with a
//     grace period, the process memory limit.
//   - config.go: the translation of a configuration (package config) into
//     the types of the packages that do the work: dbconn settings, the HBA
//     writer, sources and trust, webhook secrets.
//   - sources.go, watch.go: fetching (poll, fsnotify on a local
//     repository's refs, webhooks), verifying and loading a commit, the
//     good revision each source's clusters converge to.
//   - verdicts.go: what survives a restart of the commits it would not use
//     (refused commits and the one it died evaluating, in the state
//     directory).
//   - floors.go: the change-log floors of the rewind check, and the
//     reconcile Gate that reads a floor under the lock when it could not be
//     read before.
//   - schedule.go: the workers, the drift timer and the backoff;
//     workqueue.go: the queue of clusters to reconcile (no fixed bound,
//     each cluster in it once); drift_spread.go: each cluster's drift check at its own point of the
//     interval; unchanged.go: a commit re-plans only the clusters it
//     changes; sessions.go: the global cap on sessions (max_sessions);
//     keptsessions.go: the sessions drift checks keep for the next check
//     (session_idle), within the cap; retry.go: a commit that found the
//     apply lock held, tried again.
//   - cluster.go: one reconcile of a cluster and what is done with its
//     Outcome: metrics, log lines, status, the circuit breaker (breaker.go),
//     the commit marked applied once every cluster has converged to it.
//   - http.go: /metrics, /healthz, /readyz, /status and the webhooks.
//   - audit.go: the periodic compliance audit (package audit) and its
//     pgreconciler_control_status series.
//   - observed.go: drift healed on a cluster that had converged to the
//     commit, recorded as observed change-log rows (out-of-band changes).
//   - shard.go: the shard a daemon owns (rendezvous hashing of cluster
//     names, ShardOf), applied to each revision as it is accepted, and
//     what /status shows of it. Replicas of one shard are active and
//     standby through the cluster's apply lock, nothing else.
//
// Who owns what state. The daemon's state is split by concern, each part
// with its own mutex, taken for a few field reads or writes; no two of
// them are ever held at once, so there is no lock order to get wrong, and
// nothing slow (a database, git, a file) runs under any of them. The one
// exception is a source's saveMu, which orders the writes of that source's
// file of refused commits and is held while its mu is taken to change
// what the file will hold:
//
//   - Daemon.mu: the running configuration, its generation, and which
//     sources exist (the map, not what is in each).
//   - sourceState.mu: one source's repository, webhook secret, good
//     revision, remembered refusals and fetch status, and the mutable
//     fields of its revisions (which clusters converged, which change logs
//     are still to read).
//   - clusterTable.mu: every cluster's scheduling (queued, running, wanted
//     again), backoff, circuit breaker and status.
//   - keptSessions.mu and sessionCap.mu: a generation's kept sessions, and
//     its max_sessions slots. The one nesting: a session is kept, under
//     keptSessions.mu, with the slot it takes under sessionCap.mu, so that
//     a worker that joins the line for slots finds it to evict; never the
//     other way round (evict runs without sessionCap.mu).
//
// This was chosen over a single goroutine owning all state because the
// daemon's concurrency is already shaped by concern (a loop per source,
// workers per cluster, HTTP handlers reading snapshots): each lock guards
// the state one of them changes, and a reader of /status never waits for a
// reconcile or a fetch.
//
// Scheduling: a cluster is in the queue at most once and reconciled by one
// worker at a time. A request while it is queued merges into the queued
// one; a request while it runs is kept as wanted and queued by the worker
// when the run ends (no goroutine waits to re-queue it). A new commit
// (a fresh job) clears the backoff and closes the breaker.
//
// What it does not do: it does not reconcile a cluster itself (package
// reconcile does, for the CLI alike), judge a commit's signature or
// history (package source), or validate a spec (package spec). It imports
// reconcile, source, spec, drift and config, plus apply and dbconn to
// build the configured HBA writer and connections, to read a change log's
// last applied commit and to write its observed rows, and audit for the
// read-only compliance audit; never inspect or diff (the layering test in
// internal/ holds it to that).
package daemon
