// Package deploytest has no code of its own: its tests use the files in
// deploy/ the way an operator does.
//
// The systemd tests check the unit and its drop-in with systemd-analyze,
// then boot Debian's systemd in a systemd-nspawn container — an overlay of
// this machine's root on a tmpfs, with a private network and its own
// mount, PID and IPC namespaces, gone when it stops — and run there the
// install steps of docs/daemon.md as they stand, against a PostgreSQL laid
// out the Pigsty way (/pg -> /data/postgres/pg-test-18, the harness's major) on a non-loopback
// address. Everything the reconciler does under the unit's sandbox is
// real: reading its configuration and keys, fetching a signed repository
// into the cache directory, writing the state directory, listing the
// host's addresses over netlink, replacing pg_hba.conf, reloading and
// stopping.
//
// The Kubernetes tests render both kustomizations (deploy/kubernetes, the
// one-replica Deployment; deploy/kubernetes-statefulset, the sharded
// StatefulSet) with `kubectl kustomize` and decode every object strictly
// into the typed structs of k8s.io/api (unknown fields fail), then check
// what a schema cannot: selectors, the governing headless Service, the
// shard passed in, the PodDisruptionBudget. kubectl is on the Go machine
// image; nothing talks to a Kubernetes API server.
//
// What it does not do: DNS (the container has no resolver), fetching over
// https or ssh, and the SSH HBA writer (internal/apply tests it against a
// real sshd, outside systemd). The container test needs root,
// systemd-nspawn (scripts/install-deps.sh installs it) and overlayfs; it
// is skipped when not root, like the other tests that need root.
//
// What it must not import: pgreconciler's production packages. Its tests
// run the built binary under systemd as an operator would; they may import
// internal/testenv and internal/testenv/gitenv.
package deploytest
